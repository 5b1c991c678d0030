"""The custom fields' values on a ticket: set (a partial merge; None clears), checked against
the fields of the ticket's group, audited with before and after, searchable, and read out as
the values of a script's placeholders. A required field keeps a case from being resolved."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import Ticket
from kefu.domain import events as ev
from kefu.domain import orders as order_rules
from kefu.domain import ticket_fields as rules
from kefu.domain.ticket_fields import ORDER_NUMBER_KEY, FieldSpec, FieldValueError
from kefu.domain.tickets import TicketStatus
from kefu.errors import Conflict, KefuError
from kefu.nlp.normalize import simplify
from kefu.services import audit
from kefu.services.actors import Actor
from kefu.services.events import unit_of_work as events
from kefu.services.fields import orders
from kefu.services.fields.definitions import specs_for
from kefu.services.search import index as search_index

log = logging.getLogger(__name__)
DONE = frozenset({TicketStatus.RESOLVED.value, TicketStatus.CLOSED.value})


class FieldInvalid(KefuError):
    """422 ``field_<reason>`` naming the field (its key in details, its label in the message)."""

    def __init__(self, error: FieldValueError, spec: FieldSpec | None) -> None:
        super().__init__(
            f"field_{error.reason}",
            status_code=422,
            details={"field": error.key, "reason": error.reason},
            label=spec.label if spec else error.key,
        )


def checked_values(
    session: Session, group_id: int | None, current: dict[str, Any], changes: dict[str, Any]
) -> dict[str, Any]:
    """``current`` merged with ``changes`` as the fields of ``group_id`` allow, or ``FieldInvalid``."""
    specs = specs_for(session, group_id)
    try:
        return rules.merge(specs, current, changes, simplify=simplify)
    except FieldValueError as e:
        raise FieldInvalid(e, specs.get(e.key)) from e


def do_set_fields(
    session: Session, actor: Actor, ticket: Ticket, changes: dict[str, Any]
) -> Ticket:
    """Set, change or clear (None) field values on a ticket the caller has locked
    (``access_ticket(for_update=True)``). A new order number asks the shop for its order."""
    if ticket.merged_into_id is not None:
        raise Conflict("ticket_merged", into=ticket.merged_into_id)
    current = dict(ticket.fields or {})
    merged = checked_values(session, ticket.group_id, current, changes)
    old, new = audit.changed_fields(current, {k: merged.get(k) for k in {*current, *merged}})
    if not new:
        return ticket
    now = utcnow()
    ticket.fields = merged
    ticket.updated_at = now
    if ORDER_NUMBER_KEY in new:
        orders.schedule(ticket, now)
    session.flush()
    search_index.indexed_ticket(session, ticket)
    audit.record(
        session, actor, "ticket.fields", object_type="ticket", object_id=ticket.id,
        ticket_id=ticket.id, customer_id=ticket.customer_id, before=old, after=new,
    )  # fmt: skip
    events.record(session, ev.TicketChanged(ticket.id, fields=("fields",)))
    return ticket


def do_set_fields_applying(
    session: Session, actor: Actor, ticket: Ticket, changes: dict[str, Any]
) -> Ticket:
    """``do_set_fields`` with the values of fields that apply to the ticket's group (intake:
    the message was checked against every field before; a value for another group's field is
    left out, and stays in the message's raw payload)."""
    specs = specs_for(session, ticket.group_id)
    applying = {k: v for k, v in changes.items() if k in specs}
    if skipped := sorted(set(changes) - set(applying)):
        log.info("ticket %s: fields of other groups left out: %s", ticket.id, skipped)
    return do_set_fields(session, actor, ticket, applying) if applying else ticket


def check_resolvable(session: Session, ticket: Ticket) -> None:
    """A case moving to resolved (or closed) needs its required fields: 422 ``field_required``
    naming the first missing one (all of them in details)."""
    missing = rules.missing_required(
        specs_for(session, ticket.group_id).values(), ticket.fields or {}
    )
    if missing:
        raise KefuError(
            "field_required",
            status_code=422,
            details={"field": missing[0].key, "missing": [s.key for s in missing]},
            label="、".join(s.label for s in missing),
        )


def check_target(session: Session, ticket: Ticket, target: str) -> None:
    """``check_resolvable`` when the case is about to move from open work to done (called
    before anything is written)."""
    if TicketStatus(target).value in DONE and ticket.status not in DONE:
        check_resolvable(session, ticket)


@dataclass(frozen=True)
class FieldValue:
    spec: FieldSpec
    value: Any
    shown: str


def field_values(session: Session, ticket: Ticket) -> list[FieldValue]:
    """The fields of the ticket's group in form order, with their values (None: not set)."""
    values = ticket.fields or {}
    return [
        FieldValue(spec, values.get(key), rules.display(spec, values.get(key)))
        for key, spec in specs_for(session, ticket.group_id).items()
    ]


def placeholder_values(session: Session, ticket: Ticket) -> dict[str, str]:
    """What a script's placeholders are filled with: every set field by its label (订单号 →
    the number, dates as 2026年12月7日) and the looked-up order's values under the names
    scripts use (订单号, 商品名称, 订单金额, 下单时间, 快递公司, 快递单号, 物流状态, 最新物流); a
    field's value wins over the order's of the same name. Nothing is empty: a value neither
    has is left out, so a script can tell it is missing."""
    found: dict[str, str] = {}
    order = orders.order_of(ticket)
    if order is not None:
        found.update(
            {name: text for name, text in order_rules.placeholder_values(order).items() if text}
        )
    # what a person or an integration set on the case wins over the shop's answer
    found.update(
        {item.spec.label: item.shown for item in field_values(session, ticket) if item.shown}
    )
    return found
