"""The demo shop's order system: its orders and its order lookup answering kefu (signed,
checked, with the order the conversation is about). The demo cases that carry an order are
checked on the one load of tests/demo/test_loader.py."""

from __future__ import annotations

from datetime import UTC, datetime

from kefu.demo import orders as demo_orders
from kefu.demo.content import load_content
from kefu.domain.orders import read_answer
from kefu.domain.outbound_urls import AllowList
from kefu.services.actors import SYSTEM
from kefu.services.fields import orders, values
from kefu.services.infra.outbound_urls import OutboundGuard
from tests import factories

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


def test_a_demo_order_number_is_a_whole_order_about_its_product():
    catalog = load_content().catalog
    number = f"SL20261234{catalog.products.index(catalog.products[3]):02d}"
    order = demo_orders.demo_order(number, catalog, NOW)
    assert order is not None
    checked = read_answer(order, number)  # kefu's own check of a shop's answer
    assert checked.items[0].name == catalog.products[3].name
    assert order == demo_orders.demo_order(number, catalog, NOW)  # the same number, the same order
    assert demo_orders.demo_order("SL20261234" + "99", catalog, NOW) is None
    assert demo_orders.demo_order("SO2026", catalog, NOW) is None


def test_the_demo_shop_answers_kefus_lookup_on_the_server(db, server, settings):
    demo_orders.ensure_demo_shop_integration(
        db, SYSTEM, base_url=server, secret_key=settings.secret_key
    )
    values_ticket = factories.make_ticket(db)
    catalog = load_content().catalog
    number = f"SL20265678{len(catalog.products) - 1:02d}"
    from kefu.services.fields import definitions

    definitions.do_create_field(db, SYSTEM, key="order_no", label="订单号", type="text")
    values.do_set_fields(db, SYSTEM, values_ticket, {"order_no": number})
    db.commit()
    loopback = AllowList.parse("127.0.0.1")  # kefu demo allows its shop's host, http included
    client = orders.OrderLookupClient(
        guard=OutboundGuard(loopback, plain_http=loopback), secret_key=settings.secret_key
    )
    try:
        result = orders.lookup_now(db, client, values_ticket.id)
        assert result is not None and result["state"] == "ok", result
        assert result["order"]["items"][0]["name"] == catalog.products[-1].name
        values.do_set_fields(db, SYSTEM, values_ticket, {"order_no": "SL2026567899"})
        gone = orders.lookup_now(db, client, values_ticket.id)
        assert gone is not None and gone["state"] == "not_found"
    finally:
        client.close()
    integration = demo_orders.ensure_demo_shop_integration(
        db, SYSTEM, base_url=server, secret_key="another-key"
    )
    signing = factories.callback_secret(integration, secret_key="another-key")
    assert signing != demo_orders.lookup_secret(settings.secret_key)
    db.flush()
    loopback = AllowList.parse("127.0.0.1")  # kefu demo allows its shop's host, http included
    client = orders.OrderLookupClient(  # a kefu whose master key is another: another signature
        guard=OutboundGuard(loopback, plain_http=loopback), secret_key="another-key"
    )
    try:
        refused = orders.lookup_now(db, client, values_ticket.id)
    finally:
        client.close()
    assert refused is not None and refused["error"] == {"code": "http_status", "detail": "HTTP 401"}
