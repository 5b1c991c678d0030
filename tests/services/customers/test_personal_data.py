"""A customer's personal data: the export holds everything kefu keeps about them (JSON and the
readable report); erasure replaces the personal fields and bodies, deletes the files, keeps the
cases and their figures, and leaves nothing search finds; both are for their roles and audited."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import (
    Attachment,
    AuditEvent,
    Customer,
    Identity,
    Message,
    SocialMention,
    Survey,
    Ticket,
)
from kefu.domain.kpi.metrics import Metric
from kefu.domain.roles import Role
from kefu.errors import KefuError, PermissionDenied
from kefu.services.actors import SYSTEM, Actor
from kefu.services.analytics import kpis, rollup
from kefu.services.customers import personal_data
from kefu.services.customers.personal_data import ERASED
from kefu.services.customers.personal_data_report import report_markdown
from kefu.services.intake import integrations
from kefu.services.intake.attachments import AttachmentIn, blob_path
from kefu.services.intake.inbound import InboundMessage, Sender, receive_inbound
from kefu.services.search import service as search
from kefu.services.search.index import KINDS
from tests import factories

PHONE = "13912345678"
ID_NUMBER = "110101199003071234"
EMAIL = "xiaoming@example.cn"
OPENID = "oWx-openid-pii-123"
PNG = b"\x89PNG\r\n\x1a\n" + b"pii-test-picture" * 8

ADMIN = Actor(user_id=901, role=Role.ADMIN, via="session", name="管理员")
SUPERVISOR = Actor(user_id=902, role=Role.SUPERVISOR, via="session", name="主管")
AGENT = Actor(user_id=903, role=Role.AGENT, via="session", name="客服")


@dataclass
class World:
    customer_id: int
    ticket_ids: list[int]
    sha256: str
    root: Path


def _deliver(db: Session, actor: Actor, root: Path, external_id: str, text: str, png: bytes) -> int:
    result = receive_inbound(
        db,
        actor,
        InboundMessage(
            channel="api",
            external_id=external_id,
            sender=Sender("buyer-pii", "李小明"),
            text=text,
            attachments=[
                AttachmentIn("身份证照片.png", "image/png", base64.b64encode(png).decode())
            ],
        ),
        raw=json.dumps({"text": text}, ensure_ascii=False),
        attachments_root=root,
        max_attachment_bytes=100_000,
    )
    db.commit()
    return result.ticket_id


@pytest.fixture
def world(db: Session, tmp_path: Path) -> World:
    customer = factories.make_customer(
        db,
        name="李小明",
        email=EMAIL,
        phone=PHONE,
        note="老客户，住在朝阳区幸福路 8 号",
        identities=[("wechat", OPENID), ("api", "buyer-pii")],
    )
    _, made, _ = integrations.do_create_integration(
        db, SYSTEM, name="个人信息集成", channels=["api"], secret_key=factories.SECRET_KEY
    )
    db.commit()
    first = _deliver(
        db,
        integrations.actor_for(made),
        tmp_path,
        "pii-1",
        f"我的手机号是{PHONE}，身份证号{ID_NUMBER}，快递一直没到",
        PNG,
    )
    ticket = db.get(Ticket, first)
    assert ticket is not None and ticket.customer_id == customer.id
    factories.make_reply(db, ticket, "您好李先生，已为您查询，今天发出。")
    second = factories.make_ticket(db, customer=customer, text=f"退款到账了吗？电话{PHONE}")
    db.add(
        Survey(
            ticket_id=second.id,
            customer_id=customer.id,
            channel="web",
            kinds=["csat"],
            sent_at=utcnow(),
            answered_at=utcnow(),
            csat=2,
            comment=f"处理太慢，请打我电话{PHONE}",
        )
    )
    db.add(
        SocialMention(
            platform="weibo",
            external_id="wb-pii-1",
            author_handle="xiaoming_li",
            author_name="李小明",
            text="这家的快递太慢了",
            posted_at=utcnow() - timedelta(hours=1),
            sentiment="negative",
            emotion="angry",
            category="logistics",
            intent="complaint",
            priority="P3",
            customer_id=customer.id,
            source="feed:1",
        )
    )
    db.commit()
    sha = db.scalar(select(Attachment.sha256))
    assert sha and blob_path(tmp_path, sha).exists()
    return World(customer.id, [first, second.id], sha, tmp_path)


def _erase(db: Session, w: World, actor: Actor = ADMIN) -> personal_data.Erasure:
    done = personal_data.do_erase_customer(
        db, actor, w.customer_id, reason="客户来电要求删除", attachments_root=w.root
    )
    db.commit()
    return done


def _found(db: Session, query: str) -> set[tuple[str, int]]:
    return {
        (h.kind, h.id) for h in search.search(db, SUPERVISOR, query, kinds=KINDS, limit=50).hits
    }


def test_the_export_holds_everything_kefu_keeps_about_the_customer(db: Session, world: World):
    data = personal_data.export_customer(db, SUPERVISOR, world.customer_id, fmt="json")
    db.commit()
    json.dumps(data, ensure_ascii=False)  # machine-readable as it is
    profile = data["customer"]
    assert (profile["name"], profile["email"], profile["phone"]) == ("李小明", EMAIL, PHONE)
    assert "朝阳区" in profile["note"]
    assert {(i["channel"], i["external_id"]) for i in profile["identities"]} == {
        ("wechat", OPENID),
        ("api", "buyer-pii"),
    }
    assert [t["id"] for t in data["tickets"]] == sorted(world.ticket_ids)
    texts = [m["text"] for t in data["tickets"] for m in t["messages"]]
    assert any(PHONE in t and ID_NUMBER in t for t in texts)
    assert any("已为您查询" in t for t in texts)  # the replies too: the conversation whole
    [attachment] = [a for t in data["tickets"] for m in t["messages"] for a in m["attachments"]]
    assert attachment["filename"] == "身份证照片.png" and attachment["size"] == len(PNG)
    [survey] = data["surveys"]
    assert survey["csat"] == 2 and PHONE in survey["comment"]
    [mention] = data["social_mentions"]
    assert mention["author_handle"] == "xiaoming_li"
    for key in ("verifications", "wechat_followers", "joins", "merges", "merged_profiles"):
        assert data[key] == []

    report = report_markdown(data)
    for expected in ("个人信息副本", "李小明", EMAIL, PHONE, ID_NUMBER, OPENID, "身份证照片.png",
                     "满意度调查", "处理太慢", "这家的快递太慢了", f"工单 #{world.ticket_ids[1]}"):  # fmt: skip
        assert expected in report, expected


def test_an_export_is_audited_and_only_for_supervisors_and_admins(db: Session, world: World):
    with pytest.raises(PermissionDenied):
        personal_data.export_customer(db, AGENT, world.customer_id, fmt="json")
    personal_data.export_customer(db, ADMIN, world.customer_id, fmt="report")
    db.commit()
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "customer.access"))
    assert event.customer_id == world.customer_id
    assert event.after == {"what": "export:report"}


def test_erasure_replaces_the_personal_data_and_keeps_the_cases(db: Session, world: World):
    start, end = kpis.date_range(
        utcnow().date() - timedelta(days=1), utcnow().date() + timedelta(days=1)
    )
    rollup.refresh_until_done(lambda: db)
    figures_before = kpis.kpi_table(db, SUPERVISOR, start=start, end=end)
    [row] = figures_before
    csat = next(c.figure for c in row.cells if c.metric == Metric.CSAT)
    assert csat.denominator == 1  # the answered survey is counted, and stays counted
    statuses_before = dict(db.execute(select(Ticket.id, Ticket.status)).all())
    assert ("customer", world.customer_id) in _found(db, PHONE)
    assert ("customer", world.customer_id) in _found(db, EMAIL)
    assert any(kind == "message" for kind, _ in _found(db, ID_NUMBER))

    done = _erase(db, world)
    assert (done.tickets, done.attachments, done.files_deleted) == (2, 1, 1)

    db.expire_all()
    customer = db.get(Customer, world.customer_id)
    assert customer is not None
    assert (customer.name, customer.email, customer.phone, customer.note) == (
        ERASED,
        None,
        None,
        ERASED,
    )
    identities = db.scalars(select(Identity).where(Identity.customer_id == customer.id)).all()
    assert len(identities) == 2
    assert all(i.external_id.startswith("erased-") for i in identities)
    messages = db.scalars(select(Message).where(Message.ticket_id.in_(world.ticket_ids))).all()
    assert messages and all(m.body_text == ERASED and m.body_html is None for m in messages)
    [attachment] = db.scalars(select(Attachment)).all()
    assert attachment.filename == ERASED and attachment.size == len(PNG)
    assert not blob_path(world.root, world.sha256).exists()
    survey = db.scalar(select(Survey))
    assert survey is not None and (survey.csat, survey.comment) == (2, ERASED)
    mention = db.scalar(select(SocialMention))
    assert mention is not None and mention.text == ERASED and mention.category == "logistics"

    # the cases and their figures stay
    assert dict(db.execute(select(Ticket.id, Ticket.status)).all()) == statuses_before
    assert kpis.kpi_table(db, SUPERVISOR, start=start, end=end) == figures_before
    rollup.refresh_until_done(lambda: db)  # the pre-aggregated figures, made again
    assert kpis.kpi_table(db, SUPERVISOR, start=start, end=end) == figures_before
    # nothing finds the customer by what was erased
    for old in (PHONE, EMAIL, ID_NUMBER, OPENID, "李小明"):
        assert _found(db, old) == set(), old
    data = personal_data.export_customer(db, ADMIN, world.customer_id, fmt="json")
    dumped = json.dumps(data, ensure_ascii=False)
    for old in (PHONE, EMAIL, ID_NUMBER, OPENID, "李小明", "朝阳区", "身份证照片"):
        assert old not in dumped, old
    # the audit trail keeps no copy of the profile either, and says who erased it and why
    trail = db.scalars(select(AuditEvent)).all()
    assert PHONE not in json.dumps([(e.before, e.after) for e in trail], ensure_ascii=False)
    [erase] = [e for e in trail if e.action == "customer.erase"]
    assert erase.after is not None and erase.after["reason"] == "客户来电要求删除"


def test_erasing_twice_is_harmless(db: Session, world: World):
    _erase(db, world)
    again = _erase(db, world)
    assert (again.attachments, again.files_deleted) == (0, 0)
    db.expire_all()
    customer = db.get(Customer, world.customer_id)
    assert customer is not None and customer.name == ERASED
    assert (
        len(db.scalars(select(AuditEvent).where(AuditEvent.action == "customer.erase")).all()) == 2
    )


def test_erasure_is_for_admins_with_a_reason(db: Session, world: World):
    with pytest.raises(PermissionDenied):
        _erase(db, world, SUPERVISOR)
    with pytest.raises(KefuError) as refused:
        personal_data.do_erase_customer(
            db, ADMIN, world.customer_id, reason="  ", attachments_root=world.root
        )
    assert refused.value.code == "erasure_reason_required"
    db.rollback()
    assert db.get(Customer, world.customer_id).name == "李小明"  # type: ignore[union-attr]


def test_a_file_another_customer_also_sent_is_kept(db: Session, world: World):
    other = factories.make_customer(db, identities=[("api", "buyer-other")])
    _, made, _ = integrations.do_create_integration(
        db, SYSTEM, name="另一集成", channels=["api"], secret_key=factories.SECRET_KEY
    )
    db.commit()
    receive_inbound(
        db,
        integrations.actor_for(made),
        InboundMessage(
            channel="api",
            external_id="other-1",
            sender=Sender("buyer-other", "别人"),
            text="同一张图",
            attachments=[AttachmentIn("a.png", "image/png", base64.b64encode(PNG).decode())],
        ),
        raw="{}",
        attachments_root=world.root,
        max_attachment_bytes=100_000,
    )
    db.commit()
    done = _erase(db, world)
    assert (done.attachments, done.files_deleted) == (1, 0)
    assert blob_path(world.root, world.sha256).exists()
    assert other.id != world.customer_id
