"""``kefu demo``: a support team, its customers and two months of tickets for 示例商城.

Everything is written through the service functions — users, groups, customers, inbound
messages, replies, notes, field changes — so the demo holds the same rows and the same
audit trail that real use would produce. The content comes from ``data/*.json``; a seeded
``random.Random`` combines it, so every run creates the same data set (relative to today).
Steps from all tickets are played in time order, so ids and audit events are chronological.
"""

from __future__ import annotations

import itertools
import json
import random
import tempfile
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import Customer, Group, Ticket, User
from kefu.demo import case_notes
from kefu.demo import orders as demo_orders
from kefu.demo.clock import DemoClock
from kefu.demo.content import load_content
from kefu.demo.people import CustomerProfile, build_customers
from kefu.demo.plan import Step, TicketPlan, plan_tickets
from kefu.demo.social import load_demo_mentions
from kefu.demo.team import ADMIN_EMAIL, DEMO_GROUPS, DEMO_PASSWORD, DEMO_USERS
from kefu.domain import case_loop as cw
from kefu.domain.case_file import case_of
from kefu.domain.roles import Role
from kefu.services.actors import SYSTEM, Actor
from kefu.services.cases import loop as cases
from kefu.services.cases import routing, tickets
from kefu.services.customers import profiles as customer_service
from kefu.services.customers.profiles import IdentityIn
from kefu.services.intake.inbound import CaseRules, InboundMessage, Sender, receive_inbound
from kefu.services.kb import files as kb_files
from kefu.services.staff import directory as staff
from kefu.services.staff.auth import actor_for

__all__ = ["DEMO_PASSWORD", "DEMO_USERS", "load_demo"]

SEED = 2026
SETUP_DAYS_AGO = 75  # the team started using kefu a little before the oldest ticket
# Demo messages carry no attachments, so this folder is never written.
NO_ATTACHMENTS = Path(tempfile.gettempdir()) / "kefu-demo-no-attachments"
VERIFIED_CHANNELS = frozenset({"email", "phone"})
DEMO_KB = Path(__file__).parent / "data" / "kb"


def load_demo(session: Session) -> bool:
    """Create the demo data set inside the caller's transaction (the caller commits).

    Returns False, changing nothing, if the demo data (or a clashing group) exists already.
    """
    if demo_exists(session):
        return False
    rng = random.Random(SEED)  # noqa: S311 - demo content, not secrets
    now = utcnow().replace(second=0, microsecond=0)
    content = load_content()
    with DemoClock(session).installed() as clock:
        setup = now - timedelta(days=SETUP_DAYS_AGO)
        groups, users = _create_team(session, clock, setup)
        with clock.at(setup):
            routing.ensure_default_rules(session)  # the reference defaults, for the demo's groups
        with clock.at(setup + timedelta(hours=1)):  # the admin loads the shop's help articles
            load_demo_kb(session, actor_for(users[ADMIN_EMAIL], via="session"))
        profiles = build_customers(rng, content)
        customers = _import_customers(
            session, clock, profiles, users[ADMIN_EMAIL], setup + timedelta(hours=2)
        )
        plans = plan_tickets(rng, now, content, profiles)
        player = _TicketPlayer(session, clock, groups, users, customers)
        player.play(plans)
        # Today the admin added the shop's ticket fields, and the order numbers were filled in.
        with clock.at(now):
            admin = actor_for(users[ADMIN_EMAIL], via="session")
            session.flush()
            demo_orders.fill_demo_fields(
                session, admin, list(player.tickets.values()), content.catalog, now
            )
            _number_told_on_another_channel(session, admin, customers)
    # Public posts about the shop, with the alerts they raise (written at their own times).
    load_demo_mentions(session, random.Random(SEED), now)  # noqa: S311 - demo content
    return True


def _number_told_on_another_channel(
    session: Session, admin: Actor, customers: list[Customer]
) -> None:
    """A customer known by phone also wrote from another channel, where an agent noted the number
    they gave: two profiles, one person, for the join sweep to suggest (services/customers/joins.py)."""
    with_phone = [c for c in customers if any(i.channel == "phone" for i in c.identities)]
    without = [
        c for c in customers if not c.phone and all(i.channel != "phone" for i in c.identities)
    ]
    if not with_phone or not without:
        return
    number = next(i.external_id for i in with_phone[0].identities if i.channel == "phone")
    customer_service.do_update_customer(session, admin, without[-1], {"phone": number})


def load_demo_kb(session: Session, admin: Actor) -> None:
    """The shop's 60 help articles (data/kb), published, each with a first version by ``admin``."""
    kb_files.do_import(session, admin, kb_files.files_of_folder(DEMO_KB), note="示例知识库")


def demo_exists(session: Session) -> bool:
    """The demo admin, or a group of the demo's names, is there (creating it again would clash)."""
    if session.scalar(select(User.id).where(User.email == ADMIN_EMAIL)) is not None:
        return True
    names = [name for name, _ in DEMO_GROUPS]
    return session.scalar(select(Group.id).where(Group.name.in_(names)).limit(1)) is not None


def _create_team(
    session: Session, clock: DemoClock, at: datetime
) -> tuple[dict[str, Group], dict[str, User]]:
    """The admin first (as the CLI would), then the admin sets up groups and colleagues."""
    email, name, role, _ = DEMO_USERS[0]
    with clock.at(at):
        admin = staff.do_create_user(
            session, SYSTEM, email=email, name=name, role=Role(role), password=DEMO_PASSWORD
        )
    admin_actor = actor_for(admin, via="session")
    groups: dict[str, Group] = {}
    for i, (group_name, description) in enumerate(DEMO_GROUPS):
        with clock.at(at + timedelta(minutes=5 + i)):
            groups[group_name] = staff.do_create_group(
                session, admin_actor, name=group_name, description=description
            )
    users = {email: admin}
    for i, (email, name, role, group_names) in enumerate(DEMO_USERS[1:]):
        with clock.at(at + timedelta(minutes=20 + 2 * i)):
            user = staff.do_create_user(
                session, admin_actor, email=email, name=name, role=Role(role), password=None,
                group_ids=[groups[g].id for g in group_names],
            )  # fmt: skip
            # Everyone shares the one published demo password, so one argon2 hash (about a
            # third of a second each) serves all accounts.
            user.password_hash = admin.password_hash
        users[email] = user
    return groups, users


def _import_customers(
    session: Session, clock: DemoClock, profiles: list[CustomerProfile], admin: User, at: datetime
) -> list[Customer]:
    """The shop's existing customers, imported with every channel they are known on."""
    actor = actor_for(admin, via="session")
    customers = []
    for i, profile in enumerate(p for p in profiles if p.preexisting):
        with clock.at(at + timedelta(seconds=11 * i)):
            customer = customer_service.do_create_customer(
                session, actor, name=profile.name, email=profile.email, phone=profile.phone,
                note=profile.note, language=profile.language, tags=list(profile.tags),
                identities=[IdentityIn(c, e, verified=c in VERIFIED_CHANNELS) for c, e in profile.identities],
            )  # fmt: skip
        customers.append(customer)
    return customers


class _TicketPlayer:
    """Plays the planned steps of all tickets, interleaved in time order, through the services."""

    def __init__(
        self,
        session: Session,
        clock: DemoClock,
        groups: dict[str, Group],
        users: dict[str, User],
        customers: list[Customer],
    ) -> None:
        self.session = session
        self.customers = customers  # held so the identity map keeps them (see self.tickets)
        self.clock = clock
        self.groups = groups
        self.users = users
        self.actors = {email: actor_for(user, via="session") for email, user in users.items()}
        # plan number -> ticket; holding the rows also keeps them in the session's (weak)
        # identity map, so each step does not load its ticket again.
        self.tickets: dict[int, Ticket] = {}
        self.ticket_ids: set[int] = set()
        self.message_numbers = itertools.count(1)
        self.case_rng = random.Random(SEED + 1)  # noqa: S311 - demo content, not secrets

    def play(self, plans: list[TicketPlan]) -> None:
        timeline = sorted(
            (
                (step.at, plan.number, i, plan, step)
                for plan in plans
                for i, step in enumerate(plan.steps)
            ),
            key=lambda item: item[:3],
        )
        for at, _, _, plan, step in timeline:
            with self.clock.at(at):
                self._play_step(plan, step)

    def _play_step(self, plan: TicketPlan, step: Step) -> None:
        if step.kind == "inbound":
            self._inbound(plan, step)
            return
        ticket = self.tickets[plan.number]
        if step.kind == "triage":
            self._triage(plan, ticket)
        elif step.kind == "claim":
            tickets.do_claim(self.session, self._actor(step), ticket.id)
            # do_claim writes with a Core UPDATE, which the clock does not see; this it shifts.
            ticket.updated_at = utcnow()
        elif step.kind == "assign":
            assignee = self.users[plan.assignee or ""]
            tickets.do_assign(self.session, self._actor(step), ticket, assignee_id=assignee.id)
        elif step.kind in ("reply", "note"):
            tickets.do_add_message(
                self.session,
                self._actor(step),
                ticket,
                text=step.text,
                internal=step.kind == "note",
                send=False,  # history: answered in its own time, not sent again now
            )
        elif (
            step.kind == "status"
            and ticket.case_path == "complaint"
            and step.status in ("resolved", "closed")
        ):
            self._walk_complaint(ticket, step)
        elif step.kind == "status":
            tickets.do_update_ticket(
                self.session, self._actor(step), ticket, {"status": step.status}
            )
        else:  # pragma: no cover - plan.py only makes the kinds above
            raise ValueError(step.kind)

    def _walk_complaint(self, ticket: Ticket, step: Step) -> None:
        """A complaint is resolved through its steps (受理登记 … 跟进反馈, and 总结归档 when closed)."""
        first = next((m.body_text for m in ticket.messages if m.direction == "inbound"), "")
        actions = case_notes.steps_to(
            case_of(ticket),
            step.status or "resolved",
            facts=first,
            category=ticket.category,
            rng=self.case_rng,
        )
        for action in actions:
            cases.do_step(self.session, self._actor(step), ticket, action, cw.Policy())

    def _actor(self, step: Step) -> Actor:
        return self.actors[step.actor] if step.actor else SYSTEM

    def _inbound(self, plan: TicketPlan, step: Step) -> None:
        first = plan.number not in self.tickets
        message = InboundMessage(
            channel=plan.channel,
            external_id=self._external_id(plan.channel),
            sender=_sender(plan.customer, plan.channel),
            text=step.text,
            subject=plan.subject if first else None,
            ticket_id=None if first else self.tickets[plan.number].id,
        )
        result = receive_inbound(
            self.session, SYSTEM, message,
            raw=json.dumps(asdict(message), ensure_ascii=False),
            attachments_root=NO_ATTACHMENTS, max_attachment_bytes=0,
            received_at=step.at,  # intake writes past the ORM, so the demo clock cannot shift it
            rules=NEW_CASES_ONLY,
        )  # fmt: skip
        if first:
            if result.ticket_id in self.ticket_ids:
                raise RuntimeError(f"demo ticket {plan.number} was threaded into an open ticket")
            self.ticket_ids.add(result.ticket_id)
            ticket = self.session.get(Ticket, result.ticket_id)
            assert ticket is not None
            self.tickets[plan.number] = ticket

    def _triage(self, plan: TicketPlan, ticket: Ticket) -> None:
        """What analysis and routing would set: the labels of docs/triage.md, tags, the group."""
        labels = plan.scenario.labels
        changes: dict[str, object] = {
            "category": labels.category,
            "intent": labels.intent,
            "emotion": labels.emotion,
            "sentiment": labels.sentiment,
            "risks": list(labels.risks),
            "priority": labels.priority,
            "tags": plan.tags,
        }
        if plan.group:
            changes["group_id"] = self.groups[plan.group].id
        tickets.do_update_ticket(self.session, SYSTEM, ticket, changes)

    def _external_id(self, channel: str) -> str:
        """A message id in the style of each channel, unique across the demo."""
        n = next(self.message_numbers)
        return {
            "wechat": str(24_000_000_000_000_000 + n * 104_729),
            "email": f"<demo-{n:06d}@mail.example.com>",
            "webchat": f"wc-{n:06d}",
            "phone": f"call-{n:06d}",
        }.get(channel, f"{channel}-{n:06d}")


# Each demo story is its own case: a customer's new story opens a new case (linked to their last
# one) instead of reopening it.
NEW_CASES_ONLY = CaseRules(reopen_window=timedelta(0))


def _sender(customer: CustomerProfile, channel: str) -> Sender:
    return Sender(
        external_id=customer.identity(channel),
        name=customer.name,
        email=customer.email,
        phone=customer.phone,
    )
