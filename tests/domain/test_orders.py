"""A shop's order answer checked, and the placeholder values taken from it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kefu.domain.orders import BadAnswer, money, placeholder_values, read_answer

ANSWER = {
    "order_no": "SO2026120700001",
    "status": "已发货",
    "placed_at": "2026-12-05T02:20:00Z",
    "total_amount": "328.00",
    "currency": "CNY",
    "items": [
        {"name": "保温杯", "quantity": 2, "price": "99.00"},
        {"name": "杯刷", "quantity": 1, "price": 130},
    ],
    "shipping": {
        "carrier": "顺丰速运",
        "tracking_no": "SF1234567890",
        "status": "运输中",
        "last_update": {"at": "2026-12-06T10:05:00+08:00", "text": "快件已到达【杭州转运中心】"},
    },
    "shop_secret_note": "ignored",
}


def test_an_answer_gives_every_placeholder_its_text():
    order = read_answer(ANSWER, "SO2026120700001")
    assert placeholder_values(order) == {
        "订单号": "SO2026120700001",
        "订单状态": "已发货",
        "商品名称": "保温杯×2、杯刷",
        "订单金额": "¥328.00",
        "下单时间": "2026年12月5日 10:20",  # Beijing time
        "快递公司": "顺丰速运",
        "快递单号": "SF1234567890",
        "物流状态": "运输中",
        "最新物流": "2026年12月6日 10:05 快件已到达【杭州转运中心】",
    }
    assert "shop_secret_note" not in order.model_dump()


def test_an_order_not_yet_shipped_has_no_shipping_values():
    order = read_answer({**ANSWER, "shipping": None}, "SO2026120700001")
    values = placeholder_values(order)
    assert values["快递单号"] == "" and values["最新物流"] == ""


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"order_no": "SO-OTHER"}, "order_no"),
        ({"total_amount": "-1"}, "total_amount"),
        ({"placed_at": "2026-12-05 10:20"}, "placed_at"),  # no time zone
        ({"items": [{"name": "杯", "quantity": 0, "price": "1"}]}, "items.0.quantity"),
        ({"currency": "rmb"}, "currency"),
        ({"status": ""}, "status"),
    ],
)
def test_a_bad_answer_names_the_field(change, where):
    with pytest.raises(BadAnswer, match=where.replace(".", r"\.")):
        read_answer({**ANSWER, **change}, "SO2026120700001")


def test_an_answer_that_is_not_an_object_is_refused():
    with pytest.raises(BadAnswer):
        read_answer(["SO2026120700001"], "SO2026120700001")


def test_money_shows_yuan_for_cny_and_the_code_otherwise():
    assert money(Decimal("5"), "CNY") == "¥5.00"
    assert money(Decimal("5.5"), "USD") == "5.50 USD"
