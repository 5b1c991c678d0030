"""The leave-a-message form (留言): when nobody answers, the visitor leaves a way to reach them.

The message goes in like any other (intake: a ticket for the channel's group, analysed and
routed), with the contact written into it so the agent who picks the case up has it in front of
them; the phone number and e-mail are also kept on the customer, and the ticket is tagged
``OFFLINE_TAG`` so the team can find the cases waiting for a call back. Sending the same form
twice stores it once (its client id is made from its content).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from kefu.db.models import Customer
from kefu.services.actors import SYSTEM
from kefu.services.cases import tickets as cases
from kefu.services.customers import profiles
from kefu.services.intake.inbound import InboundResult

OFFLINE_TAG = "离线留言"


@dataclass(frozen=True)
class OfflineForm:
    name: str
    phone: str | None
    email: str | None
    text: str

    @property
    def client_id(self) -> str:
        content = "\0".join((self.name, self.phone or "", self.email or "", self.text))
        return "offline-" + hashlib.sha256(content.encode()).hexdigest()[:40]

    def message_text(self) -> str:
        lines = ["【离线留言】", self.text.strip(), "——"]
        if self.name:
            lines.append(f"姓名：{self.name}")
        if self.phone:
            lines.append(f"电话：{self.phone}")
        if self.email:
            lines.append(f"邮箱：{self.email}")
        return "\n".join(lines)


def keep_contact(
    session: Session, result: InboundResult, form: OfflineForm, *, anonymous: bool
) -> None:
    """The contact on the customer (the name only for an anonymous visitor: a site's verified
    user keeps the name the site gave), and the tag on the ticket."""
    customer = session.get(Customer, result.customer_id)
    if customer is not None:
        changes: dict[str, Any] = {}
        if form.phone and customer.phone != form.phone:
            changes["phone"] = form.phone
        if form.email and customer.email != form.email.lower():
            changes["email"] = form.email
        if anonymous and form.name and customer.name != form.name:
            changes["name"] = form.name
        if changes:
            profiles.do_update_customer(session, SYSTEM, customer, changes)
    ticket = cases.access_ticket(session, SYSTEM, result.ticket_id, for_update=True)
    names = [t.name for t in ticket.tags]
    if OFFLINE_TAG not in names:
        cases.do_update_ticket(session, SYSTEM, ticket, {"tags": [*names, OFFLINE_TAG]})
