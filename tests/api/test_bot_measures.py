"""GET /api/v1/bot/measures: the bot's figures for supervisors and admins only, over a period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kefu.db.models import BotArticleOffer, BotConversation
from tests import factories
from tests.factories import _writes

AT = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


def _conversation(db, *, reason=None, solved=False, offers=()):
    # A staff-made case on a channel that sends nothing: the live server has no delivery to
    # write meanwhile; the customer first, so that make_ticket writes in one transaction.
    ticket = factories.make_ticket(db, customer=factories.make_customer(db))
    message = factories.make_reply(db, ticket)
    _add_rows(db, ticket, message, reason=reason, solved=solved, offers=offers)


@_writes
def _add_rows(db, ticket, message, *, reason, solved, offers):
    db.add(
        BotConversation(
            ticket_id=ticket.id, channel="webchat", state={}, last_message_id=0,
            handoff_reason=reason, solved_by_bot=solved, started_at=AT,
        )
    )  # fmt: skip
    for key, outcome in offers:
        db.add(BotArticleOffer(ticket_id=ticket.id, message_id=message.id, article_key=key,
                               outcome=outcome, offered_at=AT))  # fmt: skip
    db.commit()


def test_supervisors_read_the_bots_figures(db, client_for):
    _conversation(db, solved=True, offers=[("kb-001", "solved")])
    _conversation(db, reason="customer_asked", offers=[("kb-001", "unsolved"), ("kb-002", None)])
    _conversation(db, reason="risk")
    _conversation(db)  # still with the bot
    supervisor = factories.make_user(db, role="supervisor")
    period = {
        "start": (AT - timedelta(hours=1)).isoformat(),
        "end": (AT + timedelta(hours=1)).isoformat(),
    }
    got = client_for(supervisor).get("/api/v1/bot/measures", params=period)
    assert got.status_code == 200, got.text
    figures = got.json()
    assert figures["conversations"] == 4 and figures["solved_by_bot"] == 1
    assert figures["self_service_rate"] == 0.25 and figures["handoff_rate"] == 0.5
    assert figures["handoffs_by_reason"]["customer_asked"] == 1
    assert figures["handoffs_by_reason"]["risk"] == 1
    assert figures["handoffs_by_reason"]["angry"] == 0
    assert figures["articles"]["kb-001"] == {"offered": 2, "solved": 1, "unsolved": 1}
    assert figures["articles"]["kb-002"] == {"offered": 1, "solved": 0, "unsolved": 0}
    later = (
        client_for(supervisor)
        .get("/api/v1/bot/measures", params={"start": (AT + timedelta(hours=1)).isoformat()})
        .json()
    )
    assert later["conversations"] == 0 and later["self_service_rate"] is None


def test_agents_may_not_and_a_backwards_period_is_refused(db, client_for):
    agent = factories.make_user(db, role="agent")
    assert client_for(agent).get("/api/v1/bot/measures").status_code == 403
    admin = factories.make_user(db, role="admin")
    bad = client_for(admin).get(
        "/api/v1/bot/measures", params={"start": AT.isoformat(), "end": AT.isoformat()}
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_error"
    naive = client_for(admin).get("/api/v1/bot/measures", params={"start": "2026-12-07T02:00:00"})
    assert naive.status_code == 422
