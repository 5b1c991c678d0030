"""The ticket page's custom fields card (a small form: 订单号, 快递单号 …) and its order panel
(the order the order number names, as the shop's system answered, with a refresh button).

Both are htmx fragments answered with themselves: the card with what was saved or, at 422, the
values typed and a message at each field that was refused (nothing is saved then); the panel
with the order, the wait while the lookup runs, or what went wrong.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from kefu.api.deps import DB, OrderLookups
from kefu.api.schemas import Id
from kefu.db.models import Ticket
from kefu.domain import orders as order_rules
from kefu.errors import KefuError
from kefu.services.actors import Actor
from kefu.services.cases.tickets import access_ticket
from kefu.services.events import unit_of_work as events
from kefu.services.fields import orders, values
from kefu.web import i18n
from kefu.web.guard import PageActor
from kefu.web.pages.admin.forms import Posted, text
from kefu.web.render import page

router = APIRouter(include_in_schema=False)

PREFIX = "field."  # the form's inputs are named field.<key>


def _input_value(item: values.FieldValue) -> str:
    return "" if item.value is None else str(item.value)


def _card(
    request: Request,
    db: Session,
    ticket: Ticket,
    *,
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    saved: bool = False,
    status: int = 200,
    is_admin: bool = False,
) -> Response:
    items = values.field_values(db, ticket)
    context = {
        "ticket": ticket,
        "is_admin": is_admin,
        "items": items,
        "typed": typed or {item.spec.key: _input_value(item) for item in items},
        "errors": errors or {},
        "saved": saved,
    }
    response = page(request, "workspace/tickets/_custom_fields.html", context, status=status)
    if saved:
        said = i18n.gettext(i18n.language_of(request), "已保存")
        response.headers["HX-Trigger"] = json.dumps({"kefu-toast": said})
    return response


@router.get("/tickets/{ticket_id}/custom-fields")
def fields_card(request: Request, ticket_id: Id, db: DB, actor: PageActor) -> Response:
    return _card(request, db, access_ticket(db, actor, ticket_id), is_admin=actor.is_admin)


@router.post("/tickets/{ticket_id}/custom-fields")
def save_fields(
    request: Request, ticket_id: Id, db: DB, actor: PageActor, form: Posted
) -> Response:
    """The values typed, as a partial merge: a field left as it was is not sent, an emptied
    one is cleared."""
    ticket = access_ticket(db, actor, ticket_id, for_update=True)
    items = values.field_values(db, ticket)
    typed = {item.spec.key: text(form, PREFIX + item.spec.key) for item in items}
    changes: dict[str, Any] = {
        item.spec.key: typed[item.spec.key] or None
        for item in items
        if typed[item.spec.key].strip() != _input_value(item)
    }
    if changes:
        try:
            with events.savepoint(db):
                values.do_set_fields(db, actor, ticket, changes)
        except KefuError as e:
            if e.status_code not in (409, 422):
                raise
            field = (e.details or {}).get("field", "") if isinstance(e.details, dict) else ""
            message = e.message(i18n.language_of(request))
            return _card(request, db, ticket, typed=typed, errors={field: message}, status=422)
    return _card(request, db, ticket, saved=bool(changes))


def _order_panel(
    request: Request, db: Session, actor: Actor, ticket: Ticket, *, status: int = 200
) -> Response:
    lookup = ticket.order_lookup or None
    order = orders.order_of(ticket)
    fetched = (lookup or {}).get("fetched_at")
    context = {
        "ticket": ticket,
        "number": orders.order_number(ticket),
        "lookup": lookup,
        "order": order,
        "shown": order_rules.placeholder_values(order) if order else {},
        "fetched_at": datetime.fromisoformat(fetched) if fetched else None,
    }
    return page(request, "workspace/tickets/_order.html", context, status=status)


@router.get("/tickets/{ticket_id}/order")
def order_panel(request: Request, ticket_id: Id, db: DB, actor: PageActor) -> Response:
    ticket = access_ticket(db, actor, ticket_id)
    return _order_panel(request, db, actor, ticket)


@router.post("/tickets/{ticket_id}/order")
def refresh_order(
    request: Request, ticket_id: Id, db: DB, actor: PageActor, lookups: OrderLookups
) -> Response:
    """The refresh button: asks the shop now and shows its answer (or what went wrong)."""
    ticket = access_ticket(db, actor, ticket_id)
    if orders.order_number(ticket) is not None:
        orders.do_refresh(db, actor, lookups, ticket)
    return _order_panel(request, db, actor, ticket)
