"""The order lookup against a shop's system on loopback (tests/fake_shop.py checks kefu's
signature as a shop would): the order kept on the ticket, its errors shown without losing the
fields, the job that fetches a new order number's order, and the placeholders' values."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select, update

from kefu.db.base import utcnow
from kefu.db.engine import make_session_factory
from kefu.db.models import AuditEvent, Ticket
from kefu.domain.outbound_urls import AllowList
from kefu.services.actors import SYSTEM
from kefu.services.fields import definitions, orders, values
from kefu.services.infra.outbound_urls import OutboundGuard
from kefu.services.intake import integrations
from tests import factories
from tests.fake_shop import FakeShop, Scripted

# Plain http to any address: these tests are about the address checks, not the scheme
# (tests/services/infra/test_outbound_urls.py).
PLAIN_HTTP = AllowList.parse("0.0.0.0/0, ::/0")

ORDER = {
    "order_no": "SO2026120700001",
    "status": "已发货",
    "placed_at": "2026-12-05T10:20:00+08:00",
    "total_amount": "199.00",
    "currency": "CNY",
    "items": [{"name": "保温杯", "quantity": 1, "price": "199.00"}],
    "shipping": {"carrier": "顺丰速运", "tracking_no": "SF1234567890", "status": "运输中",
                 "last_update": {"at": "2026-12-06T09:00:00+08:00", "text": "已到达【杭州】"}},
}  # fmt: skip


@pytest.fixture
def shop(db) -> Iterator[FakeShop]:
    shop = FakeShop(orders={ORDER["order_no"]: ORDER})
    _, integration, secret = integrations.do_create_integration(
        db, SYSTEM, name="小店", channels=["api"], order_lookup_url=shop.url,
        secret_key=factories.SECRET_KEY,
    )  # fmt: skip
    db.commit()
    assert secret  # the signing secret, made with the first URL, stored sealed
    assert factories.callback_secret(integration) == secret
    shop.secret = secret
    yield shop
    shop.close()


@pytest.fixture
def client() -> Iterator[orders.OrderLookupClient]:
    made = orders.OrderLookupClient(
        guard=OutboundGuard(AllowList.parse("127.0.0.1"), plain_http=PLAIN_HTTP),
        secret_key=factories.SECRET_KEY,
        timeout=0.5,
    )
    yield made
    made.close()


def _ticket_with_order(db, number: str = ORDER["order_no"]) -> Ticket:
    definitions.do_create_field(db, SYSTEM, key="order_no", label="订单号", type="text")
    definitions.do_create_field(db, SYSTEM, key="promised", label="承诺日期", type="date")
    ticket = factories.make_ticket(db)
    values.do_set_fields(db, SYSTEM, ticket, {"order_no": number, "promised": "2026/12/9"})
    db.commit()
    return ticket


def test_a_new_order_number_is_fetched_by_the_job_signed(db, engine, shop, client):
    ticket = _ticket_with_order(db)
    assert ticket.order_lookup["state"] == "pending" and ticket.order_lookup_due_at is not None
    counts = orders.lookup_due(make_session_factory(engine), client, utcnow())
    assert counts == {"looked_up": 1, "failed": 0}
    assert shop.refused == 0
    assert shop.asked == [{"type": "order.lookup", "version": 1, "order_no": ORDER["order_no"],
                           "ticket_id": ticket.id, "host": shop.url.split("/")[2]}]  # fmt: skip
    db.refresh(ticket)
    assert ticket.order_lookup["state"] == "ok" and ticket.order_lookup_due_at is None
    assert ticket.order_lookup["order"]["items"][0]["name"] == "保温杯"
    assert ticket.order_lookup["fetched_at"]
    assert orders.lookup_due(make_session_factory(engine), client, utcnow()) == {
        "looked_up": 0, "failed": 0,
    }  # fmt: skip
    audit = db.scalars(select(AuditEvent).where(AuditEvent.action == "ticket.order_lookup")).all()
    assert [e.after for e in audit] == [{"order_no": ORDER["order_no"], "state": "ok"}]


def test_the_placeholders_take_the_fields_and_the_order(db, shop, client):
    ticket = _ticket_with_order(db)
    orders.lookup_now(db, client, ticket.id)
    assert values.placeholder_values(db, ticket) == {
        "订单号": "SO2026120700001",
        "承诺日期": "2026年12月9日",
        "订单状态": "已发货",
        "商品名称": "保温杯",
        "订单金额": "¥199.00",
        "下单时间": "2026年12月5日 10:20",
        "快递公司": "顺丰速运",
        "快递单号": "SF1234567890",
        "物流状态": "运输中",
        "最新物流": "2026年12月6日 09:00 已到达【杭州】",
    }


def test_without_an_order_only_the_fields_fill_placeholders(db):
    ticket = _ticket_with_order(db, "SO-NONE")
    assert values.placeholder_values(db, ticket) == {
        "订单号": "SO-NONE",
        "承诺日期": "2026年12月9日",
    }


@pytest.mark.parametrize(
    ("answer", "state", "code"),
    [
        (Scripted(delay=1.5, body=ORDER), "error", "timeout"),
        (Scripted(body=b"<html>oops</html>"), "error", "not_json"),
        (Scripted(body={**ORDER, "total_amount": "-5"}), "error", "bad_answer"),
        (Scripted(body={**ORDER, "order_no": "SO-SOMEONE-ELSES"}), "error", "bad_answer"),
        (Scripted(status=500, body={"error": "down"}), "error", "http_status"),
        (Scripted(status=302, headers={"Location": "http://10.0.0.1/"}), "error", "redirect"),
        (Scripted(status=404, body={}), "not_found", None),
    ],
)
def test_what_goes_wrong_is_kept_as_the_lookups_state_and_the_fields_stay(
    db, shop, client, answer, state, code
):
    ticket = _ticket_with_order(db)
    shop.script.append(answer)
    result = orders.lookup_now(db, client, ticket.id)
    db.commit()
    db.refresh(ticket)
    assert ticket.order_lookup == result
    assert result["state"] == state
    assert (result.get("error") or {}).get("code") == code
    assert ticket.fields == {"order_no": ORDER["order_no"], "promised": "2026-12-09"}
    assert orders.order_of(ticket) is None


def test_a_shop_with_a_wrong_secret_refuses_and_kefu_says_so(db, shop, client):
    ticket = _ticket_with_order(db)
    shop.secret = "kefu_cb_not-the-one"
    result = orders.lookup_now(db, client, ticket.id)
    assert shop.refused == 1
    assert result["error"] == {"code": "http_status", "detail": "HTTP 401"}


def test_a_lookup_url_that_now_resolves_privately_is_not_called(db, shop):
    ticket = _ticket_with_order(db)
    strict = orders.OrderLookupClient(
        guard=OutboundGuard(plain_http=PLAIN_HTTP), secret_key=factories.SECRET_KEY, timeout=0.5
    )  # 127.0.0.1 not allowed
    try:
        result = orders.lookup_now(db, strict, ticket.id)
    finally:
        strict.close()
    assert result["error"] == {"code": "refused_url", "detail": "private_address"}
    assert shop.asked == [] and shop.refused == 0


def test_no_shop_to_ask_is_an_error_state_too(db, client):
    ticket = _ticket_with_order(db)
    result = orders.lookup_now(db, client, ticket.id)
    assert result["error"]["code"] == "no_shop"


def test_clearing_the_order_number_forgets_the_order(db, shop, client):
    ticket = _ticket_with_order(db)
    orders.lookup_now(db, client, ticket.id)
    values.do_set_fields(db, SYSTEM, ticket, {"order_no": None})
    db.commit()
    assert ticket.order_lookup is None and ticket.order_lookup_due_at is None
    assert "订单金额" not in values.placeholder_values(db, ticket)


def test_the_refresh_button_answers_through_the_api(api, db, shop):
    ticket = _ticket_with_order(db)
    fresh = api.post(f"/api/v1/tickets/{ticket.id}/order-lookup")
    assert fresh.status_code == 200, fresh.text
    assert fresh.json()["state"] == "ok" and fresh.json()["order"]["total_amount"] == "199.00"
    detail = api.get(f"/api/v1/tickets/{ticket.id}").json()
    assert detail["order_lookup"]["order"]["shipping"]["tracking_no"] == "SF1234567890"
    bare = factories.make_ticket(db)
    refused = api.post(f"/api/v1/tickets/{bare.id}/order-lookup")
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "no_order_number"


def test_a_due_lookup_whose_number_was_cleared_is_no_longer_due(db, engine, client):
    ticket = _ticket_with_order(db)
    ticket.fields = {}  # as if cleared by a change that raced the sweep (schedule not run)
    db.commit()
    counts = orders.lookup_due(make_session_factory(engine), client, utcnow())
    assert counts == {"looked_up": 1, "failed": 0}
    db.refresh(ticket)
    assert ticket.order_lookup_due_at is None


def test_a_shop_that_does_not_answer_is_asked_again_a_few_times(db, engine, shop, client):
    ticket = _ticket_with_order(db)
    sessions = make_session_factory(engine)
    shop.script.extend([Scripted(status=503, body={"error": "restarting"})] * 4)
    now = utcnow()
    waits = []
    for _ in range(4):
        db.execute(update(Ticket).where(Ticket.id == ticket.id).values(order_lookup_due_at=now))
        db.commit()
        assert orders.lookup_due(sessions, client, now) == {"looked_up": 0, "failed": 1}
        db.refresh(ticket)
        assert ticket.order_lookup["state"] == "error"
        due = ticket.order_lookup_due_at
        waits.append(None if due is None else round((due - now).total_seconds()))
    assert waits == [60, 300, 1800, None]  # then it waits for a person (the refresh button)
    assert ticket.order_lookup["failures"] == 4
    shop.script.append(Scripted(body=ORDER))
    db.execute(update(Ticket).where(Ticket.id == ticket.id).values(order_lookup_due_at=now))
    db.commit()
    assert orders.lookup_due(sessions, client, now) == {"looked_up": 1, "failed": 0}
    db.refresh(ticket)
    assert ticket.order_lookup["state"] == "ok" and ticket.order_lookup_due_at is None
    assert "failures" not in ticket.order_lookup


def test_a_wrong_answer_is_not_asked_again_by_itself(db, shop, client):
    ticket = _ticket_with_order(db)
    shop.script.append(Scripted(body=b"<html>oops</html>"))
    orders.lookup_now(db, client, ticket.id)
    db.commit()
    db.refresh(ticket)
    assert ticket.order_lookup["error"]["code"] == "not_json"
    assert ticket.order_lookup_due_at is None
