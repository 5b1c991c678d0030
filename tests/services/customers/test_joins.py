"""One customer across channels against the database: proven contacts join profiles, weaker
matches are suggested to agents, decisions are audited and stick, codes sent back prove."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import AuditEvent, Customer, CustomerJoin, Identity, OutboxEntry
from kefu.domain.customer_joins import ContactKind, Proof
from kefu.errors import Conflict, NotFound
from kefu.services.actors import SYSTEM, Actor
from kefu.services.customers import joins, profiles, verification
from kefu.services.intake.inbound import InboundMessage, Sender, receive_inbound
from kefu.services.staff import auth
from tests import factories

NO_FILES = {"attachments_root": Path("/nonexistent"), "max_attachment_bytes": 0}
KEY = "test-secret-key"


def _actor(db: Session, user: object) -> Actor:
    db.refresh(user)
    return auth.actor_for(user, via="session")  # type: ignore[arg-type]


def _write(db: Session, channel: str, sender: str, text: str, n: int = 1) -> int:
    message = InboundMessage(channel, f"{channel}-{sender}-{n}", Sender(sender), text)
    result = receive_inbound(db, SYSTEM, message, raw="{}", **NO_FILES)
    db.commit()
    return result.customer_id


def _sweep(db: Session) -> dict[str, int]:
    counts = joins.sweep(db, utcnow())
    db.commit()
    return counts


def _joins(db: Session) -> list[CustomerJoin]:
    return list(db.scalars(select(CustomerJoin).order_by(CustomerJoin.id)))


def test_a_contact_proven_on_both_profiles_joins_them_audited(db: Session) -> None:
    older = factories.make_customer(db, name="王芳")
    newer = factories.make_customer(db, name="王芳 (微信)")
    joins.record_verified_contact(
        db, older.id, ContactKind.PHONE, "138 1234 5678", Proof.SIGNED_CLAIM
    )
    db.commit()
    outcome = joins.record_verified_contact(
        db, newer.id, ContactKind.PHONE, "+86 13812345678", Proof.BOUND
    )
    db.commit()
    assert len(outcome.joined) == 1
    db.expire_all()
    assert db.get(Customer, newer.id).merged_into_id == older.id
    [row] = _joins(db)
    assert (row.state, row.automatic, row.merge_id) == ("joined", True, outcome.joined[0])
    assert row.evidence == {
        "kind": "phone", "value": "13812345678", "this_proof": "bound", "other_proof": "signed_claim",
        "this_customer_id": newer.id,
    }  # fmt: skip
    actions = set(db.scalars(select(AuditEvent.action)))
    assert {"customer.merge", "customer.auto_join", "customer.contact_verified"} <= actions


def test_mail_from_a_header_alone_joins_nothing_it_is_suggested(db: Session) -> None:
    mailed = _write(db, "email", "li.lei@example.com", "我的订单还没到")  # a From header
    typed = factories.make_customer(db, name="李雷", email="LI.LEI@example.com")  # typed
    assert _sweep(db)["suggested"] == 1
    assert db.get(Customer, mailed).merged_into_id is None
    # Proven on one side only (the mail's side is still a header): still a suggestion.
    chatting = _write(db, "webchat", "visitor-9", "你好")
    joins.record_verified_contact(db, chatting, ContactKind.EMAIL, "li.lei@example.com", Proof.CODE)
    db.commit()
    states = {(j.customer_a_id, j.customer_b_id): j.state for j in _joins(db)}
    assert states == {
        (mailed, typed.id): "suggested",
        (mailed, chatting): "suggested",
        (typed.id, chatting): "suggested",
    }
    assert all(db.get(Customer, c).merged_into_id is None for c in (mailed, typed.id, chatting))
    # Mail from that address keeps landing on the profile that holds it as its identity.
    assert _write(db, "email", "li.lei@example.com", "还有一个问题", n=2) == mailed


def test_the_sweep_suggests_new_identities_that_match_and_is_idempotent(db: Session) -> None:
    known = factories.make_customer(db, name="张伟", phone="138-0013-8000")
    texted = _write(db, "sms", "+8613800138000", "快递到哪了")
    first = _sweep(db)
    assert first["suggested"] == 1 and first["joined"] == 0
    assert _sweep(db) == {"identities": 0, "joined": 0, "suggested": 0}
    [row] = _joins(db)
    assert (row.customer_a_id, row.customer_b_id, row.state) == (known.id, texted, "suggested")
    assert row.evidence["this_proof"] == "sender" and row.evidence["other_proof"] == "typed"


def _visible_pair(db: Session) -> tuple[int, int, Actor, CustomerJoin]:
    group = factories.make_group(db)
    agent = factories.make_user(db, role="agent", groups=[group])
    a = factories.make_customer(db, name="甲", email="jia@example.com")
    b = factories.make_customer(db, name="甲'", email="Jia@Example.com")
    for customer in (a, b):
        factories.make_ticket(db, customer=customer, group=group)
    joins.record_verified_contact(db, a.id, ContactKind.EMAIL, "jia@example.com", Proof.CODE)
    db.commit()
    [row] = _joins(db)
    return a.id, b.id, _actor(db, agent), row


def test_an_agent_who_sees_both_confirms_a_suggestion_and_a_supervisor_can_undo_it(
    db: Session,
) -> None:
    a, b, agent, row = _visible_pair(db)
    assert [s.other.id for s in joins.suggestions_for(db, agent, db.get(Customer, a))] == [b]
    joins.confirm_join(db, agent, row.id)
    db.commit()
    db.expire_all()
    assert db.get(Customer, b).merged_into_id == a
    assert db.get(CustomerJoin, row.id).state == "joined"
    with pytest.raises(Conflict):
        joins.confirm_join(db, agent, row.id)
    supervisor = _actor(db, factories.make_user(db, role="supervisor"))
    profiles.do_undo_merge(db, supervisor, db.get(CustomerJoin, row.id).merge_id)
    db.commit()
    assert db.get(CustomerJoin, row.id).state == "undone"
    # Proven on both sides now: still not joined again, people undid it.
    joins.record_verified_contact(db, b, ContactKind.EMAIL, "jia@example.com", Proof.CODE)
    db.commit()
    assert db.get(Customer, b).merged_into_id is None


def test_suggestions_are_hidden_and_refused_to_agents_who_cannot_see_both(db: Session) -> None:
    a, b, _, row = _visible_pair(db)
    outsider = _actor(db, factories.make_user(db, role="agent"))
    with pytest.raises(NotFound):
        joins.confirm_join(db, outsider, row.id)
    with pytest.raises(NotFound):
        joins.dismiss_join(db, outsider, row.id)
    assert db.get(CustomerJoin, row.id).state == "suggested"


def test_a_dismissed_suggestion_is_not_made_again(db: Session) -> None:
    a, b, agent, row = _visible_pair(db)
    joins.dismiss_join(db, agent, row.id)
    db.commit()
    assert joins.suggestions_for(db, agent, db.get(Customer, a)) == []
    db.add(Identity(customer_id=b, channel="email", external_id="JIA@example.com"))
    db.commit()
    _sweep(db)
    assert [j.state for j in _joins(db)] == ["dismissed"]
    assert "customer.join_dismissed" in set(db.scalars(select(AuditEvent.action)))


def test_a_code_mailed_and_sent_back_in_the_chat_proves_the_address(
    db: Session, quiet_relays: None
) -> None:
    mailed = _write(db, "email", "wang@example.com", "发票还没收到")  # claimed by a From header
    chatting = _write(db, "webchat", "visitor-1", "我之前发过邮件")
    agent = _actor(db, factories.make_user(db, role="supervisor"))
    started = verification.start_verification(
        db, agent, chatting, ContactKind.EMAIL, "Wang@Example.com", secret_key=KEY
    )
    db.commit()
    assert started.code_to_tell is None  # the agent never sees a mailed code
    [notice] = db.scalars(select(OutboxEntry).where(OutboxEntry.kind == "notice"))
    assert notice.target["to"] == ["wang@example.com"]
    code = notice.target["subject"].split()[-1]
    assert code in notice.target["text"]
    _write(db, "webchat", "visitor-1", "000000", n=2)  # a wrong code counts as an attempt
    assert verification.read_codes_sent_back(db, utcnow(), secret_key=KEY) == 0
    _write(db, "webchat", "visitor-1", f"验证码 {code}", n=3)
    assert verification.read_codes_sent_back(db, utcnow(), secret_key=KEY) == 1
    db.commit()
    # The mail's profile held the address on a From header only: suggested, not joined.
    [row] = _joins(db)
    assert (row.state, row.evidence["this_proof"], row.evidence["other_proof"]) == (
        "suggested", "code", "header",
    )  # fmt: skip
    assert db.get(Customer, mailed).merged_into_id is None


def test_a_code_texted_from_the_phone_joins_the_sms_profile(
    db: Session, quiet_relays: None
) -> None:
    chatting = _write(db, "webchat", "visitor-2", "能帮我查下话费吗")
    agent = _actor(db, factories.make_user(db, role="supervisor"))
    started = verification.start_verification(
        db, agent, chatting, ContactKind.PHONE, "139 0000 2222", secret_key=KEY
    )
    db.commit()
    assert started.code_to_tell is not None
    _write(db, "webchat", "visitor-2", started.code_to_tell, n=2)  # typed in the chat: no proof
    assert verification.read_codes_sent_back(db, utcnow(), secret_key=KEY) == 0
    texted = _write(db, "sms", "+8613900002222", f"验证码{started.code_to_tell}")
    assert verification.read_codes_sent_back(db, utcnow(), secret_key=KEY) == 1
    db.commit()
    db.expire_all()
    merged = db.get(Customer, max(chatting, texted))
    assert merged.merged_into_id == min(chatting, texted)
    [row] = _joins(db)
    assert (row.state, row.automatic) == ("joined", True)


def test_codes_expire_and_are_limited(db: Session, quiet_relays: None) -> None:
    chatting = _write(db, "webchat", "visitor-3", "你好")
    agent = _actor(db, factories.make_user(db, role="supervisor"))
    started = verification.start_verification(
        db, agent, chatting, ContactKind.EMAIL, "late@example.com", secret_key=KEY,
        now=utcnow() - timedelta(hours=2),
    )  # fmt: skip
    db.commit()
    code = db.scalar(select(OutboxEntry).where(OutboxEntry.kind == "notice")).target["subject"][-6:]
    _write(db, "webchat", "visitor-3", code, n=2)
    assert verification.read_codes_sent_back(db, utcnow(), secret_key=KEY) == 0
    assert started.verification.verified_at is None
    for _ in range(5):
        verification.start_verification(
            db, agent, chatting, ContactKind.EMAIL, "x@example.com", secret_key=KEY
        )
    with pytest.raises(Exception) as refused:
        verification.start_verification(
            db, agent, chatting, ContactKind.EMAIL, "x@example.com", secret_key=KEY
        )
    assert getattr(refused.value, "code", "") == "verification_rate_limited"
