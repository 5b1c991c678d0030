"""Field-level access (ASVS V8.2.3), from one table: what each kind of caller — agent,
specialist, supervisor, admin, an integration's token — reads of one customer and one of their
tickets, through the API and the workspace pages, as docs/permissions.md says.

- Phone, ID-card and bank-card numbers (the profile's phone, note and identities, a message's
  text) are masked for agents and specialists, in full for supervisors and admins.
- An internal note (内部备注) and the ticket's audit trail (who changed what) are read by every
  role that may see the ticket.
- The export (everything held about the customer, numbers in full) is for supervisors and admins.
- An integration's token reaches no staff operation: every read here is refused (403), and the
  pages, which take a signed-in session only, show it nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.orm import Session

from kefu.services.actors import SYSTEM
from kefu.services.cases import tickets as ticket_service
from tests import factories
from tests.hostile import visible_text
from tests.web.conftest import SignIn

PHONE, MASKED_PHONE = "13812345678", "138****5678"
ID_CARD, MASKED_ID_CARD = "110101199003071234", "110101********1234"
CARD, MASKED_CARD = "6222020012345678", "****5678"
NOTE = "内部备注：客户情绪激动，先安抚再核实"

ROLES = ("agent", "specialist", "supervisor", "admin", "integration")
M, F, S, R = "masked", "full", "shown", "refused"
# field: what each of ROLES reads of it
TABLE: dict[str, tuple[str, str, str, str, str]] = {
    "api customer phone": (M, M, F, F, R),
    "api customer note (ID card, bank card)": (M, M, F, F, R),
    "api customer identities": (M, M, F, F, R),
    "api ticket message text": (M, M, F, F, R),
    "api ticket internal note": (S, S, S, S, R),
    "api ticket audit trail": (S, S, S, S, R),
    "api customer export": (R, R, F, F, R),
    "page customer profile phone": (M, M, F, F, R),
    "page ticket message text": (M, M, F, F, R),
    "page ticket internal note": (S, S, S, S, R),
}


@dataclass
class World:
    customer_id: int
    ticket_id: int
    api: dict[str, httpx.Client]
    pages: dict[str, httpx.Client]


def _json(answer: httpx.Response) -> Any:
    return answer.json() if answer.status_code == 200 else None


def _page(answer: httpx.Response) -> str | None:
    return visible_text(answer.text) if answer.status_code == 200 else None


def _customer(world: World, role: str) -> dict | None:
    return _json(world.api[role].get(f"/api/v1/customers/{world.customer_id}"))


def _ticket(world: World, role: str) -> dict | None:
    return _json(world.api[role].get(f"/api/v1/tickets/{world.ticket_id}"))


def _messages(world: World, role: str, *, internal: bool) -> str | None:
    ticket = _ticket(world, role)
    if ticket is None:
        return None
    return " ".join(
        m["body_text"] for m in ticket["messages"] if (m["author_type"] == "user") == internal
    )


# field: how a caller's reading of it is fetched (None: refused)
READ: dict[str, Callable[[World, str], object]] = {
    "api customer phone": lambda w, r: (_customer(w, r) or {}).get("phone"),
    "api customer note (ID card, bank card)": lambda w, r: (_customer(w, r) or {}).get("note"),
    "api customer identities": lambda w, r: (
        None if (c := _customer(w, r)) is None else [i["external_id"] for i in c["identities"]]
    ),
    "api ticket message text": lambda w, r: _messages(w, r, internal=False),
    "api ticket internal note": lambda w, r: _messages(w, r, internal=True),
    "api ticket audit trail": lambda w, r: _json(
        w.api[r].get(f"/api/v1/tickets/{w.ticket_id}/audit")
    ),
    "api customer export": lambda w, r: (
        None
        if (answer := w.api[r].get(f"/api/v1/customers/{w.customer_id}/export")).status_code != 200
        else answer.text
    ),
    "page customer profile phone": lambda w, r: _page(
        w.pages[r].get(f"/customers/{w.customer_id}")
    ),
    "page ticket message text": lambda w, r: _page(w.pages[r].get(f"/tickets/{w.ticket_id}")),
    "page ticket internal note": lambda w, r: _page(w.pages[r].get(f"/tickets/{w.ticket_id}")),
}
# what a full and a masked reading of each field hold
FULL = {
    "api customer phone": [PHONE],
    "api customer note (ID card, bank card)": [ID_CARD, "6222 0200 1234 5678"],
    "api customer identities": [PHONE],
    "api ticket message text": [PHONE, ID_CARD, CARD],
    "api customer export": [PHONE, ID_CARD],
    "page customer profile phone": [PHONE],
    "page ticket message text": [PHONE, ID_CARD, CARD],
}
MASKED = {
    "api customer phone": [MASKED_PHONE],
    "api customer note (ID card, bank card)": [MASKED_ID_CARD, MASKED_CARD],
    "api customer identities": [MASKED_PHONE],
    "api ticket message text": [MASKED_PHONE, MASKED_ID_CARD, MASKED_CARD],
    "page customer profile phone": [MASKED_PHONE],
    "page ticket message text": [MASKED_PHONE, MASKED_ID_CARD, MASKED_CARD],
}


def _world(
    db: Session, client_for: Callable[..., httpx.Client], sign_in: SignIn, server: str
) -> World:
    group = factories.make_group(db, "字段权限组")
    customer = factories.make_customer(
        db, name="周八", phone=PHONE, note=f"身份证 {ID_CARD}，退款卡 6222 0200 1234 5678",
        identities=[("phone", PHONE)],
    )  # fmt: skip
    text = f"电话{PHONE}，身份证{ID_CARD}，卡号{CARD}"
    ticket = factories.make_ticket(db, customer=customer, group=group, text=text)
    admin = factories.make_user(db, role="admin")
    ticket_service.do_update_ticket(db, SYSTEM, ticket, {"priority": "P2"})  # on the trail
    db.commit()
    users = {
        role: factories.make_user(db, role=role, groups=[group])
        for role in ("agent", "specialist", "supervisor")
    } | {"admin": admin}
    api = {role: client_for(user) for role, user in users.items()}
    note = api["admin"].post(
        f"/api/v1/tickets/{ticket.id}/messages", json={"text": NOTE, "internal": True}
    )
    assert note.status_code == 201, note.text
    token = factories.make_integration(db)
    # The integration's token, on the API and on the pages (which take a session only).
    api["integration"] = httpx.Client(
        base_url=server, timeout=30, headers={"Authorization": f"Bearer {token}"}
    )
    pages = {role: sign_in(user).client for role, user in users.items()}
    pages["integration"] = api["integration"]
    return World(customer.id, ticket.id, api, pages)


def _kind(field: str, reading: object) -> str:
    """What a caller's reading of ``field`` was: refused, full, masked or shown."""
    if reading is None:
        return R
    text = str(reading)
    if field in FULL and all(w in text for w in FULL[field]):
        return F
    if field in MASKED and all(w in text for w in MASKED[field]):
        return M if not any(w in text for w in FULL[field]) else f"partly masked: {text[:300]}"
    if field.endswith("internal note") and NOTE in text:
        return S
    if field.endswith("audit trail") and "ticket.update" in text:
        return S
    return f"unexpected: {text[:300]}"


def test_each_role_reads_each_field_as_the_permissions_table_says(
    db: Session, client_for: Callable[..., httpx.Client], sign_in: SignIn, server: str
) -> None:
    world = _world(db, client_for, sign_in, server)
    try:
        seen = {
            (field, role): _kind(field, READ[field](world, role))
            for field in TABLE
            for role in ROLES
        }
    finally:
        world.api["integration"].close()
    wanted = {
        (field, role): want
        for field, expected in TABLE.items()
        for role, want in zip(ROLES, expected, strict=True)
    }
    assert seen == wanted
