"""kefu's events become outbox rows of the subscriptions that want them, in the transaction of
the change (services/webhooks/outgoing.py, through the unit of work's commit)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kefu.db.models import OutboxEntry, WebhookSubscription
from kefu.domain import events as ev
from kefu.services.actors import SYSTEM
from kefu.services.cases import tickets
from kefu.services.events import unit_of_work as events
from tests import factories

# The rows these tests queue are for a receiver that is not there: no relay of this process may
# try them (its retries would write while the next test reads).
pytestmark = pytest.mark.usefixtures("quiet_relays")


def _subscribe(db, events_: list[str], *, enabled: bool = True) -> WebhookSubscription:
    made = WebhookSubscription(
        url="http://127.0.0.1:9/hook", events=events_, secret_sealed="v1:x", enabled=enabled
    )
    db.add(made)
    db.commit()
    return made


def _rows(db) -> list[tuple[int, str, dict]]:
    db.expire_all()
    rows = db.scalars(
        select(OutboxEntry).where(OutboxEntry.channel == "webhook").order_by(OutboxEntry.id)
    )
    return [(r.target["subscription_id"], r.target["type"], r.target["data"]) for r in rows]


def test_a_new_case_is_told_to_each_subscriber_of_its_events(db):
    everything = _subscribe(db, ["ticket.created", "message.created"])
    created_only = _subscribe(db, ["ticket.created"])
    _subscribe(db, ["ticket.created"], enabled=False)
    ticket = factories.make_ticket(db, text="订单一直没发货，请尽快处理")
    told = _rows(db)
    assert [(s, t) for s, t, _ in told] == [
        (everything.id, "ticket.created"),
        (created_only.id, "ticket.created"),
        (everything.id, "message.created"),
    ]
    created, message = told[0][2], told[2][2]
    assert created["ticket_id"] == ticket.id and created["subject"]
    assert message["direction"] == "inbound" and message["text"] == "订单一直没发货，请尽快处理"
    keys = db.scalars(select(OutboxEntry.idempotency_key).order_by(OutboxEntry.id)).all()
    assert keys[0].startswith(f"whk-{everything.id}-") and len(set(keys)) == 3
    row = db.scalar(select(OutboxEntry).order_by(OutboxEntry.id))
    assert (row.ticket_id, row.message_id, row.state) == (None, None, "queued")


def test_an_internal_note_is_never_posted_a_reply_and_a_status_change_are(db):
    ticket = factories.make_ticket(db)
    subscription = _subscribe(db, ["message.created", "ticket.status_changed"])
    locked = tickets.access_ticket(db, SYSTEM, ticket.id, for_update=True)
    tickets.do_add_message(db, SYSTEM, locked, text="内部：客户是老会员", internal=True)
    db.commit()
    assert _rows(db) == []
    locked = tickets.access_ticket(db, SYSTEM, ticket.id, for_update=True)
    tickets.do_add_message(
        db, SYSTEM, locked, text="您好，已为您催促仓库", internal=False, send=False
    )
    db.commit()
    locked = tickets.access_ticket(db, SYSTEM, ticket.id, for_update=True)
    tickets.do_update_ticket(db, SYSTEM, locked, {"status": "pending"})
    db.commit()
    told = _rows(db)
    assert [t for _, t, _ in told] == [
        "message.created",
        "ticket.status_changed",  # the reply opened the new case
        "ticket.status_changed",
    ]
    assert told[0][2]["text"] == "您好，已为您催促仓库" and told[0][0] == subscription.id
    assert [told[1][2]["status"], told[2][2]["status"]] == ["open", "pending"]


def test_nothing_is_queued_when_the_change_rolls_back(db):
    ticket = factories.make_ticket(db)
    _subscribe(db, ["sla.breached"])
    events.record(db, ev.SlaBreached(ticket.id, target="first_response", priority="P2"))
    db.rollback()
    assert _rows(db) == []
    with events.savepoint(db):
        pass
    events.record(db, ev.SlaBreached(ticket.id, target="first_response", priority="P2"))
    db.commit()
    [(_, kind, data)] = _rows(db)
    assert kind == "sla.breached" and data["target"] == "first_response"
