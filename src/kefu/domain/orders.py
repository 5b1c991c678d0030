"""An order as a shop's system describes it (the order lookup, docs/order-lookup.md): the answer
checked field by field, and the values a script's placeholders take from it.

Pure: the answer is JSON already parsed; times are shown in Beijing time (the shop's customers'),
amounts with their currency (¥ for CNY).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

SHOWN_IN = ZoneInfo("Asia/Shanghai")
Text = Annotated[str, Field(min_length=1, max_length=200)]
Amount = Annotated[Decimal, Field(ge=0, le=10**12, max_digits=16, decimal_places=4)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)  # a shop may say more; kept out


class OrderItem(_Strict):
    name: Text
    quantity: Annotated[int, Field(ge=1, le=100_000)]
    price: Amount


class ShippingUpdate(_Strict):
    at: AwareDatetime
    text: Annotated[str, Field(min_length=1, max_length=500)]


class Shipping(_Strict):
    carrier: Annotated[str, Field(max_length=100)] = ""
    tracking_no: Annotated[str, Field(max_length=100)] = ""
    status: Annotated[str, Field(max_length=100)] = ""
    last_update: ShippingUpdate | None = None


class Order(_Strict):
    order_no: Text
    status: Annotated[str, Field(min_length=1, max_length=100)]
    placed_at: AwareDatetime
    total_amount: Amount
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "CNY"
    items: Annotated[list[OrderItem], Field(max_length=200)]
    shipping: Shipping | None = None


class BadAnswer(ValueError):
    """The shop's answer is not an order as the protocol describes it; says which field."""


def read_answer(answer: Any, asked: str) -> Order:
    """The order in ``answer``, which must be the order ``asked`` for."""
    if not isinstance(answer, dict):
        raise BadAnswer("the answer is not a JSON object")
    try:
        order = Order.model_validate(answer)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(answer)"
        raise BadAnswer(f"{where}: {first['msg']}") from e
    if order.order_no.strip() != asked.strip():
        raise BadAnswer(f"order_no: asked for {asked}, the answer is about {order.order_no}")
    return order


def money(amount: Decimal, currency: str) -> str:
    shown = f"{amount.quantize(Decimal('0.01'))}"
    return f"¥{shown}" if currency == "CNY" else f"{shown} {currency}"


def local_time(moment: datetime) -> str:
    shown = moment.astimezone(SHOWN_IN)
    return f"{shown.year}年{shown.month}月{shown.day}日 {shown:%H:%M}"


def item_names(order: Order) -> str:
    return "、".join(
        f"{item.name}×{item.quantity}" if item.quantity > 1 else item.name for item in order.items
    )


def placeholder_values(order: Order) -> dict[str, str]:
    """The names a script's placeholders use (订单号, 商品名称 …) and their text."""
    shipping = order.shipping or Shipping()
    last = shipping.last_update
    return {
        "订单号": order.order_no,
        "订单状态": order.status,
        "商品名称": item_names(order),
        "订单金额": money(order.total_amount, order.currency),
        "下单时间": local_time(order.placed_at),
        "快递公司": shipping.carrier,
        "快递单号": shipping.tracking_no,
        "物流状态": shipping.status,
        "最新物流": f"{local_time(last.at)} {last.text}" if last else "",
    }


# A shop's system that did not answer (down, restarting, overloaded) is asked again a few times;
# one that answered wrongly is not, until the number changes or someone presses refresh.
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30))
_UNANSWERED = frozenset({"connection", "timeout"})


def retry_delay(code: str, detail: str, failures: int) -> timedelta | None:
    """How long to wait before asking again after ``failures`` failed lookups in a row of the
    same number (1 = the first), or ``None``: not again by itself."""
    temporary = code in _UNANSWERED or (code == "http_status" and detail.startswith("HTTP 5"))
    if not temporary or not 1 <= failures <= len(RETRY_DELAYS):
        return None
    return RETRY_DELAYS[failures - 1]
