"""The demo shop's order system: it answers kefu's order lookups (docs/order-lookup.md) for the
demo's order numbers, so ``make demo`` shows orders in the customer panel with no shop online.

A demo order number (SL + year + four digits + the product's two-digit place in the catalogue,
demo/plan.py) is the whole order: the product comes from its last two digits, the rest (when
it was placed, its courier, tracking number and shipping state) from a random generator seeded
with the number, so the same number always shows the same order. The lookup is signed with a
secret derived from kefu's secret key, so the endpoint needs no database (api/web_pages.py), and
the demo's field definitions (订单号, 商品名称, 快递单号) and its shop integration are made here.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import Group, Integration, Ticket, TicketField
from kefu.demo.content import Catalog
from kefu.demo.team import AFTERSALE, COMPLAINTS, PRESALE
from kefu.services.actors import Actor
from kefu.services.fields import definitions, values
from kefu.services.intake import integrations

ORDER_NUMBER = re.compile(r"SL(20\d{2})\d{4}(\d{2})")
LOOKUP_PATH = "/demo/shop/orders"
INTEGRATION_NAME = "示例商城订单系统"
FIELD_GROUPS = (PRESALE, AFTERSALE, COMPLAINTS)
# (key, label, type): what the shop's agents fill in; order_no looks the order up.
DEMO_FIELDS = (
    ("order_no", "订单号", "text"),
    ("product", "商品名称", "text"),
    ("tracking_no", "快递单号", "text"),
)
SHIPPING_STATES = ("已揽收", "运输中", "派送中", "已签收")
TRACKING_PREFIX = {"顺丰速运": "SF", "中通快递": "ZT", "圆通速递": "YT", "韵达快递": "YD",
                   "京东物流": "JD", "极兔速递": "JT", "EMS": "EM", "申通快递": "ST"}  # fmt: skip


def lookup_secret(secret_key: str) -> str:
    """The demo shop's signing secret: derived, so the shop page needs no database to check it."""
    mac = hmac.new(secret_key.encode(), b"kefu-demo-shop-order-lookup", hashlib.sha256)
    return integrations.CALLBACK_SECRET_PREFIX + mac.hexdigest()[:40]


def demo_order(order_no: str, catalog: Catalog, now: datetime) -> dict[str, Any] | None:
    """The demo shop's answer for ``order_no`` (None: not one of its numbers)."""
    found = ORDER_NUMBER.fullmatch(order_no.strip())
    if found is None or int(found[2]) >= len(catalog.products):
        return None
    product = catalog.products[int(found[2])]
    rng = random.Random(order_no)  # noqa: S311 - demo content, not secrets
    quantity = 1 if product.price > 300 else rng.choice((1, 1, 2))
    placed = now - timedelta(days=rng.randint(2, 12), minutes=rng.randrange(24 * 60))
    state = rng.randrange(len(SHIPPING_STATES))
    hub = rng.choice(catalog.hubs)
    updated = min(now, placed + timedelta(days=1 + state, hours=rng.randint(1, 20)))
    events = ("快件已由揽收员揽收", f"快件已到达【{hub}转运中心】", "快件正在派送中，请保持电话畅通",
              "快件已签收，感谢使用")  # fmt: skip
    carrier = rng.choice(catalog.couriers)
    return {
        "order_no": order_no,
        "status": "已完成" if state == 3 else "已发货",
        "placed_at": placed.replace(microsecond=0).isoformat(),
        "total_amount": f"{product.price * quantity}.00",
        "currency": "CNY",
        "items": [{"name": product.name, "quantity": quantity, "price": f"{product.price}.00"}],
        "shipping": {
            "carrier": carrier,
            "tracking_no": f"{TRACKING_PREFIX.get(carrier, 'KD')}{rng.randrange(10**12):012d}",
            "status": SHIPPING_STATES[state],
            "last_update": {
                "at": updated.replace(microsecond=0).isoformat(),
                "text": events[state],
            },
        },
    }


def ensure_demo_fields(session: Session, actor: Actor) -> list[int]:
    """The demo's ticket fields for the shop's groups (once); the ids of those groups."""
    groups = sorted(session.scalars(select(Group.id).where(Group.name.in_(FIELD_GROUPS))))
    if session.scalar(select(TicketField.id).limit(1)) is not None:
        return groups
    for position, (key, label, kind) in enumerate(DEMO_FIELDS):
        definitions.do_create_field(
            session, actor, key=key, label=label, type=kind, group_ids=groups,
            position=(position + 1) * 10,
        )  # fmt: skip
    return groups


def fill_demo_fields(
    session: Session, actor: Actor, tickets: list[Ticket], catalog: Catalog, now: datetime
) -> int:
    """The order number, product and tracking number of the shop's cases whose conversation
    names a demo order (as agents fill them in); returns how many cases got them."""
    groups = set(ensure_demo_fields(session, actor))
    filled = 0
    for ticket in tickets:
        if ticket.group_id not in groups:
            continue
        texts = " ".join(m.body_text for m in ticket.messages)
        found = ORDER_NUMBER.search(texts)
        order = demo_order(found[0], catalog, now) if found else None
        if found is None or order is None:
            continue
        values.do_set_fields(session, actor, ticket, {
            "order_no": found[0], "product": order["items"][0]["name"],
            "tracking_no": order["shipping"]["tracking_no"],
        })  # fmt: skip
        filled += 1
    return filled


def ensure_demo_shop_integration(
    session: Session, actor: Actor, *, base_url: str, secret_key: str
) -> Integration:
    """The demo shop's order system as an integration whose order lookup is served by kefu
    itself at ``base_url`` (the process must allow that host: KEFU_OUTBOUND_ALLOW_HOSTS)."""
    url = base_url.rstrip("/") + LOOKUP_PATH
    found = session.scalar(select(Integration).where(Integration.name == INTEGRATION_NAME))
    if found is None:
        _, found, _ = integrations.do_create_integration(
            session, actor, name=INTEGRATION_NAME, channels=["api"], secret_key=secret_key,
        )  # fmt: skip
    if found.order_lookup_url != url:
        found.order_lookup_url = url  # the port may change between runs; loopback, no guard
    found.callback_secret_sealed = integrations.seal_callback_secret(
        secret_key, lookup_secret(secret_key)
    )
    return found
