"""The retention sweep: every kind past its period erased or deleted the way erasure does it
(texts replaced, files deleted, search rewritten, KPI figures unchanged), in batches, once
(a second run finds nothing), audited with its counts; a dry run counts and changes nothing."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.engine import make_session_factory, writer_bind
from kefu.db.models import (
    Attachment,
    AuditEvent,
    ContactVerification,
    Customer,
    Identity,
    InboundPayload,
    LoginSession,
    MailRaw,
    Message,
    OutboxEntry,
    SocialMention,
    Survey,
    Ticket,
)
from kefu.domain.retention import SWEPT, RetentionPolicy
from kefu.domain.roles import Role
from kefu.services.actors import SYSTEM, Actor
from kefu.services.analytics import kpis, rollup
from kefu.services.intake import integrations
from kefu.services.intake.attachments import AttachmentIn, blob_path
from kefu.services.intake.inbound import InboundMessage, Sender, receive_inbound
from kefu.services.mail.mailboxes import do_create_mailbox
from kefu.services.outbound.notices import enqueue_mail_notice
from kefu.services.retention import sweep
from kefu.services.search import service as search
from kefu.services.search.index import KINDS
from tests import factories

PHONE = "13912345678"
OPEN_PHONE = "13700001111"
PNG = b"\x89PNG\r\n\x1a\n" + b"retention-picture" * 8
SUPERVISOR = Actor(user_id=902, role=Role.SUPERVISOR, via="session", name="主管")
LATER = timedelta(days=4 * 365)  # the sweep runs four years on: every default period is over


@dataclass
class World:
    closed_id: int
    open_id: int
    visitor_id: int
    sha256: str
    root: Path


@pytest.fixture
def world(db: Session, tmp_path: Path) -> World:
    _, made, _ = integrations.do_create_integration(
        db, SYSTEM, name="保留期限集成", channels=["api"], secret_key=factories.SECRET_KEY
    )
    db.commit()
    text = f"我的手机号是{PHONE}，快递一直没到"
    result = receive_inbound(
        db,
        integrations.actor_for(made),
        InboundMessage(
            channel="api", external_id="ret-1", sender=Sender("buyer-ret", "王大力"), text=text,
            attachments=[AttachmentIn("发票.png", "image/png", base64.b64encode(PNG).decode())],
        ),
        raw=json.dumps({"text": text}, ensure_ascii=False),
        attachments_root=tmp_path,
        max_attachment_bytes=100_000,
    )  # fmt: skip
    db.commit()
    closed = db.get(Ticket, result.ticket_id)
    assert closed is not None
    factories.make_reply(db, closed, "您好，已为您查询，今天发出。")
    still_open = factories.make_ticket(db, text=f"退款到账了吗？电话{OPEN_PHONE}")
    db.execute(
        update(Ticket)
        .where(Ticket.id == closed.id)
        .values(status="closed", resolved_at=utcnow(), closed_at=utcnow(),
                case_file={"facts": f"客户电话{PHONE}，包裹丢失", "rating": 4})
    )  # fmt: skip
    db.add(Survey(ticket_id=closed.id, customer_id=closed.customer_id, channel="api",
                  kinds=["csat"], sent_at=utcnow(), answered_at=utcnow(), csat=4,
                  comment=f"还行，电话{PHONE}"))  # fmt: skip
    mention = {"platform": "weibo", "author_name": "路人", "posted_at": utcnow(),
               "sentiment": "negative", "emotion": "angry", "category": "logistics",
               "intent": "complaint", "priority": "P3", "source": "feed:1"}  # fmt: skip
    db.add(
        SocialMention(external_id="wb-ret-1", author_handle="passer", text="快递太慢", **mention)
    )
    db.add(SocialMention(external_id="wb-ret-2", author_handle="buyer", text="我已经投诉了",
                         ticket_id=still_open.id, **mention))  # fmt: skip
    mailbox = do_create_mailbox(db, SYSTEM, secret_key="k", name="客服", address="kf@shop.test")
    db.add(MailRaw(mailbox_id=mailbox.id, uidvalidity=1, uid=1, raw=b"From: a@b.cn\r\n\r\nhi",
                   sha256="0" * 64, size=18, state="imported", from_address="a@b.cn",
                   subject="快递"))  # fmt: skip
    visitor = factories.make_customer(db, name="访客 7f3a", identities=[("webchat", "v-ret-1")])
    db.add(ContactVerification(customer_id=visitor.id, kind="email", value="v@shop.cn",
                               code_hash="h", expires_at=utcnow()))  # fmt: skip
    user = factories.make_user(db)
    db.add(LoginSession(user_id=user.id, token_hash="t" * 64, csrf_token="c",
                        expires_at=utcnow(), ip="10.0.0.8"))  # fmt: skip
    # The notices last: their commit wakes the relay of a live server another test started,
    # whose writes would fail a read-then-write transaction of this fixture on SQLite.
    delivered = enqueue_mail_notice(db, to=["boss@shop.cn"], subject="告警", text="……")
    assert delivered is not None
    delivered.state = "delivered"
    enqueue_mail_notice(db, to=["boss@shop.cn"], subject="还在排队", text="……")
    db.commit()
    sha = db.scalar(select(Attachment.sha256))
    assert sha and blob_path(tmp_path, sha).exists()
    return World(closed.id, still_open.id, visitor.id, sha, tmp_path)


def _found(db: Session, query: str) -> set[tuple[str, int]]:
    return {
        (h.kind, h.id) for h in search.search(db, SUPERVISOR, query, kinds=KINDS, limit=50).hits
    }


def _run(
    engine: Engine, world: World, now: datetime, *, policy: RetentionPolicy | None = None,
    batch: int = sweep.BATCH,
) -> dict[str, int]:  # fmt: skip
    return sweep.run(make_session_factory(writer_bind(engine)), policy=policy or RetentionPolicy.defaults(),
                     now=now, actor=SYSTEM, attachments_root=world.root, batch=batch)  # fmt: skip


def test_the_sweep_erases_what_is_past_its_period_and_keeps_the_figures(
    engine: Engine, db: Session, world: World
):
    start, end = kpis.date_range(
        utcnow().date() - timedelta(days=1), utcnow().date() + timedelta(days=1)
    )
    db.rollback()
    rollup.refresh_until_done(lambda: db)
    figures_before = kpis.kpi_table(db, SUPERVISOR, start=start, end=end)
    assert any(kind == "message" for kind, _ in _found(db, PHONE))
    audit_rows = db.scalar(select(func.count()).select_from(AuditEvent))
    # On PostgreSQL no audit event younger than a day is deleted, whatever the clock the sweep is
    # handed (migration 0036): the world's events are made two days old.
    db.rollback()
    # A writer's session (SQLite's write lock taken at BEGIN): a live server's relay of another
    # test may write between a plain session's read and its write, which SQLite then refuses.
    with make_session_factory(writer_bind(engine))() as writer:
        for event in writer.scalars(select(AuditEvent)):
            event.created_at -= timedelta(days=2)
        writer.commit()
    later = utcnow() + LATER

    due = sweep.due_counts(db, RetentionPolicy.defaults(), later)
    db.rollback()
    counts = _run(engine, world, later, batch=2)  # batches of two: several rounds per kind
    assert counts == due == {
        "mail_raw": 1, "inbound_payloads": 1, "case_bodies": 2, "survey_comments": 1,
        "social_mentions": 1, "webchat_visitors": 1, "outbox": 1, "login_sessions": 2,
        "audit_events": audit_rows,
    }  # fmt: skip

    db.expire_all()
    messages = db.scalars(select(Message).where(Message.ticket_id == world.closed_id)).all()
    assert [m.body_text for m in messages] == [SWEPT, SWEPT]
    closed = db.get(Ticket, world.closed_id)
    assert closed is not None and closed.subject == SWEPT and closed.status == "closed"
    assert closed.case_file == {"facts": SWEPT, "rating": 4}  # the words go, the figures stay
    [attachment] = db.scalars(select(Attachment)).all()
    assert attachment.filename == SWEPT and attachment.size == len(PNG)
    assert not blob_path(world.root, world.sha256).exists()
    survey = db.scalar(select(Survey))
    assert survey is not None and (survey.csat, survey.comment) == (4, SWEPT)
    mentions = dict(db.execute(select(SocialMention.external_id, SocialMention.text)).all())
    assert mentions == {"wb-ret-1": SWEPT, "wb-ret-2": "我已经投诉了"}  # the case's one stays
    raw = db.scalar(select(MailRaw))
    assert raw is not None and (raw.raw, raw.from_address, raw.subject) == (None, None, SWEPT)
    assert db.scalar(select(InboundPayload.payload)) == SWEPT
    visitor = db.get(Customer, world.visitor_id)
    assert visitor is not None and visitor.name == SWEPT
    [identity] = db.scalars(select(Identity).where(Identity.customer_id == world.visitor_id))
    assert identity.external_id.startswith("expired-")
    # the row not delivered stays (queued, or failed if a relay of this test run tried it)
    assert [e.target["subject"] for e in db.scalars(select(OutboxEntry))] == ["还在排队"]
    assert db.scalar(select(func.count()).select_from(LoginSession)) == 0
    assert db.scalar(select(func.count()).select_from(ContactVerification)) == 0
    # the open case and its customer are untouched
    still_open = db.scalars(select(Message.body_text).where(Message.ticket_id == world.open_id))
    assert OPEN_PHONE in still_open.one()
    assert any(kind == "message" for kind, _ in _found(db, OPEN_PHONE))
    assert _found(db, PHONE) == set()  # the search index rewritten with the bodies
    assert db.scalars(select(Ticket.status).order_by(Ticket.id)).all() == ["closed", "new"]

    assert kpis.kpi_table(db, SUPERVISOR, start=start, end=end) == figures_before
    db.rollback()  # the reads end: the rollup writes from a fresh snapshot
    rollup.refresh_until_done(lambda: db)
    assert kpis.kpi_table(db, SUPERVISOR, start=start, end=end) == figures_before

    [event] = db.scalars(select(AuditEvent)).all()  # the old trail gone; the run's own record
    assert event.action == "retention.sweep" and event.after is not None
    assert event.after["counts"] == counts and event.after["days"]["case_bodies"] == 1095


def test_a_second_run_finds_nothing_and_a_dry_run_changes_nothing(
    engine: Engine, db: Session, world: World
):
    later = utcnow() + LATER
    keep_audit = RetentionPolicy.from_json({"audit_events": 0})  # the runs' records stay
    first = sweep.due_counts(db, keep_audit, later)
    db.rollback()
    assert sweep.due_counts(db, keep_audit, later) == first  # counted, not done
    assert blob_path(world.root, world.sha256).exists()
    assert _run(engine, world, later, policy=keep_audit) == first
    again = _run(engine, world, later, policy=keep_audit)
    assert again == {key: 0 for key in first}
    db.rollback()
    runs = db.scalars(select(AuditEvent).where(AuditEvent.action == "retention.sweep")).all()
    assert len(runs) == 2  # every run is on the record, the one that found nothing too


def test_nothing_goes_before_its_time_and_zero_keeps_forever(
    engine: Engine, db: Session, world: World
):
    soon = utcnow() + timedelta(days=100)  # only the 30-day and 90-day kinds are due
    assert sweep.due_counts(db, RetentionPolicy.defaults(), soon) == {
        "mail_raw": 0, "inbound_payloads": 0, "case_bodies": 0, "survey_comments": 0,
        "social_mentions": 0, "webchat_visitors": 1, "outbox": 0, "login_sessions": 2,
        "audit_events": 0,
    }  # fmt: skip
    forever = RetentionPolicy.from_json({"case_bodies": 0, "audit_events": ""})
    counts = _run(engine, world, utcnow() + LATER, policy=forever)
    assert "case_bodies" not in counts and "audit_events" not in counts
    db.expire_all()
    bodies = db.scalars(
        select(Message.body_text).where(Message.ticket_id == world.closed_id).order_by(Message.id)
    ).all()
    assert PHONE in bodies[0]  # the customer's message, first
    assert blob_path(world.root, world.sha256).exists()
    assert hashlib.sha256(PNG).hexdigest() == world.sha256
