"""Placeholder values for one case (话术变量): from the customer, the agent, the ticket, its case
file, and providers of more (custom fields, the order lookup) that other modules register.

``values_for(db, ticket, extra)`` returns the values under canonical names
(domain/scripts/placeholders.py): 客户称呼, 客服名, 工号, 工单号, 时间, 处理时限, 解决方案,
补偿金额, 单号 (订单号 is the same value) … ``extra`` wins over everything found here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import Customer, Message, Ticket, User
from kefu.domain.scripts.placeholders import normalised_values
from kefu.domain.scripts.values import china_time, courteous_name, yuan
from kefu.domain.tickets import Direction
from kefu.services.fields.values import placeholder_values as field_values

Provider = Callable[[Session, Ticket], Mapping[str, str]]
# Other modules' values: the ticket's custom fields and its order (services/fields/values.py);
# more with ``register_provider``, a later provider winning over an earlier one for a name.
PROVIDERS: list[Provider] = [field_values]
# An order number the customer wrote (SL2024…, a long number): the fallback for 单号.
_ORDER_NUMBER = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{1,4}\d{6,}(?![0-9])|(?<![0-9])\d{10,}(?![0-9])"
)
_RECENT_MESSAGES = 20


def register_provider(provider: Provider) -> None:
    if provider not in PROVIDERS:
        PROVIDERS.append(provider)


def order_number_in(texts: list[str]) -> str | None:
    """The last order number the customer mentioned (phone numbers of 11 digits starting with 1
    are not order numbers)."""
    for text in reversed(texts):
        found = [m for m in _ORDER_NUMBER.findall(text) if not re.fullmatch(r"1\d{10}", m)]
        if found:
            return str(found[-1]).upper()
    return None


def _customer_texts(session: Session, ticket: Ticket) -> list[str]:
    rows = session.scalars(
        select(Message.body_text)
        .where(Message.ticket_id == ticket.id, Message.direction == Direction.INBOUND)
        .order_by(Message.id.desc())
        .limit(_RECENT_MESSAGES)
    )
    return list(reversed(list(rows)))


def case_values(ticket: Ticket) -> dict[str, str]:
    case_file = ticket.case_file or {}
    values = {"解决方案": case_file.get("solution", "")}
    compensation = case_file.get("compensation")
    if compensation:
        values["补偿金额"] = yuan(compensation["amount"])
    return values


def values_for(
    session: Session,
    ticket: Ticket,
    extra: Mapping[str, str] | None = None,
    *,
    agent: User | None = None,
    now: datetime | None = None,
    customer_name: str | None = None,
) -> dict[str, str]:
    """Every value known for ``ticket`` (the agent: ``agent``, else the ticket's assignee;
    ``customer_name`` when the caller has read it already)."""
    now = now or utcnow()
    if customer_name is None:
        customer = session.get(Customer, ticket.customer_id)
        customer_name = customer.name if customer else ""
    agent = agent or (session.get(User, ticket.assignee_id) if ticket.assignee_id else None)
    values: dict[str, str] = {
        "客户称呼": courteous_name(customer_name),
        "工单号": str(ticket.id),
        "时间": china_time(now),
        **case_values(ticket),
    }
    if ticket.resolution_due_at:
        values["处理时限"] = china_time(ticket.resolution_due_at)
    if agent is not None:
        values |= {"客服名": agent.name, "工号": f"{agent.id:04d}"}
    order = order_number_in(_customer_texts(session, ticket))
    if order:
        values["单号"] = order
    found = normalised_values(values)
    for provider in PROVIDERS:
        found |= normalised_values(provider(session, ticket))
    return found | normalised_values(extra or {})
