"""Tickets (工单): access, listing, field changes, replies and notes, assignment and claiming."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import false, or_, select, true, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from kefu.db.base import utcnow
from kefu.db.errors import lock_not_granted
from kefu.db.models import Attachment, Customer, Group, Identity, Message, Tag, Ticket, User
from kefu.domain import analysis_retry, repeat_complaints
from kefu.domain import case_loop as cw
from kefu.domain import case_planner as planner
from kefu.domain import events as ev
from kefu.domain.case_loop import Policy
from kefu.domain.tickets import AuthorType, Channel, Direction, TicketStatus
from kefu.errors import BUSY_RETRY_AFTER_SECONDS, Conflict, KefuError, NotFound
from kefu.nlp.analysis import Analysis, Analyzer
from kefu.sanitize import text_to_html
from kefu.services import audit
from kefu.services.actors import Actor
from kefu.services.case_library import entries as case_entries
from kefu.services.cases import loop as cases
from kefu.services.events import unit_of_work as events
from kefu.services.fields import values as field_values
from kefu.services.infra.pagination import decode_cursor, encode_cursor
from kefu.services.intake import message_triage
from kefu.services.intake.attachments import AttachmentIn, decode_attachment, write_blob
from kefu.services.norms import review as norms_review
from kefu.services.outbound import enqueue as outbox
from kefu.services.search import index as search_index
from kefu.services.search import queries as search_queries
from kefu.services.search.service import check_query
from kefu.services.sla import clocks as sla
from kefu.services.wechat import window as wechat_window

log = logging.getLogger(__name__)

AUDITED_FIELDS = (
    "subject", "status", "stage", "waiting_on", "priority", "category", "intent", "emotion", "sentiment", "risks",
    "group_id", "assignee_id", "customer_id",
)  # fmt: skip


def snapshot(ticket: Ticket) -> dict[str, Any]:
    data = {name: getattr(ticket, name) for name in AUDITED_FIELDS}
    data["tags"] = [t.name for t in ticket.tags]
    return data


def visible_tickets(actor: Actor) -> Any:
    """SQL condition: tickets the actor may see (the same rule as ``can_see_ticket``)."""
    if actor.sees_all_tickets:
        return true()
    return or_(
        Ticket.group_id.is_(None),
        Ticket.group_id.in_(actor.group_ids),
        Ticket.assignee_id == actor.user_id,
    )


def access_ticket(
    session: Session, actor: Actor, ticket_id: int, *, for_update: bool = False
) -> Ticket:
    """The only way to load a ticket for an actor; missing and forbidden both raise 404.

    ``for_update`` locks the row until the transaction ends; on PostgreSQL a request gives up
    waiting for another holder after its lock timeout and answers 409 ``ticket_busy``."""
    query = select(Ticket).where(Ticket.id == ticket_id, visible_tickets(actor))
    if for_update:
        query = query.with_for_update()
    with _busy_as_conflict():
        ticket = session.scalar(query)
    if ticket is None:
        raise NotFound("ticket")
    return ticket


@contextmanager
def _busy_as_conflict() -> Iterator[None]:
    """A ticket's row lock not granted in time (PostgreSQL lock_timeout) is 409 ticket_busy."""
    try:
        yield
    except OperationalError as e:
        if lock_not_granted(e):
            raise Conflict("ticket_busy", retry_after=BUSY_RETRY_AFTER_SECONDS) from e
        raise


def access_attachment(session: Session, actor: Actor, attachment_id: int) -> Attachment:
    """An attachment, if the actor may see the ticket it belongs to (else 404)."""
    row = session.execute(
        select(Attachment, Message.ticket_id)
        .join(Message, Message.id == Attachment.message_id)
        .where(Attachment.id == attachment_id)
    ).first()
    if row is None:
        raise NotFound("attachment")
    try:
        access_ticket(session, actor, row.ticket_id)
    except NotFound as e:
        raise NotFound("attachment") from e
    attachment: Attachment = row.Attachment
    return attachment


# --- listing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketFilters:
    status: list[str] | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    group_id: int | None = None
    priority: list[str] | None = None
    category: str | None = None
    channel: str | None = None
    customer_id: int | None = None
    text: str | None = None
    stage: list[str] | None = None
    repeat_complaint: bool | None = None


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_tickets(
    session: Session, actor: Actor, filters: TicketFilters, *, cursor: str | None, limit: int
) -> tuple[list[Ticket], str | None]:
    query = select(Ticket).where(visible_tickets(actor))
    if filters.status:
        query = query.where(Ticket.status.in_(filters.status))
    if filters.unassigned:
        query = query.where(Ticket.assignee_id.is_(None))
    elif filters.assignee_id is not None:
        query = query.where(Ticket.assignee_id == filters.assignee_id)
    if filters.group_id is not None:
        query = query.where(Ticket.group_id == filters.group_id)
    if filters.priority:
        query = query.where(Ticket.priority.in_(filters.priority))
    if filters.stage:
        query = query.where(Ticket.stage.in_(filters.stage))
    if filters.repeat_complaint is not None:
        query = query.where(Ticket.repeat_complaint.is_(filters.repeat_complaint))
    for column, value in (
        (Ticket.category, filters.category),
        (Ticket.channel, filters.channel),
        (Ticket.customer_id, filters.customer_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if filters.text and filters.text.strip():
        # The full-text index: subject, tags or any message (services/search/).
        plan = check_query(filters.text)
        if plan.empty:  # punctuation only: nothing is indexed as that
            query = query.where(false())
        else:
            dialect = session.get_bind().dialect.name
            query = query.where(Ticket.id.in_(search_queries.ticket_ids_matching(dialect, plan)))
    before = decode_cursor(cursor)
    if before is not None:
        query = query.where(Ticket.id < before)
    query = query.order_by(Ticket.id.desc()).limit(limit + 1)
    query = query.options(selectinload(Ticket.tags))
    rows = list(session.scalars(query))
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], next_cursor


def ticket_messages(session: Session, ticket: Ticket) -> list[Message]:
    query = (
        select(Message)
        .where(Message.ticket_id == ticket.id)
        .order_by(Message.id)
        .options(selectinload(Message.attachments))
    )
    return list(session.scalars(query))


# --- creating and changing ----------------------------------------------------------------


def _check_group(session: Session, group_id: int | None) -> None:
    if group_id is not None and session.get(Group, group_id) is None:
        raise NotFound("group", details={"field": "group_id"})


def _check_assignee(session: Session, assignee_id: int | None) -> None:
    if assignee_id is None:
        return
    user = session.get(User, assignee_id)
    if user is None or not user.is_active:
        raise NotFound("user", details={"field": "assignee_id"})


def tags_by_name(session: Session, names: list[str]) -> list[Tag]:
    """The tags with these names, creating the missing ones."""
    wanted = sorted({n.strip() for n in names if n.strip()})
    found = {t.name: t for t in session.scalars(select(Tag).where(Tag.name.in_(wanted)))}
    for name in wanted:
        if name not in found:
            found[name] = Tag(name=name)
            session.add(found[name])
    return [found[n] for n in wanted]


def do_create_ticket(
    session: Session,
    actor: Actor,
    *,
    customer_id: int,
    subject: str,
    text: str,
    channel: str,
    priority: str | None = None,
    category: str | None = None,
    intent: str | None = None,
    group_id: int | None = None,
    assignee_id: int | None = None,
    tags: list[str] | None = None,
    attachments_root: Path | None = None,
    max_attachment_bytes: int = 0,
    attachments: list[AttachmentIn] | None = None,
    analysis: Callable[[], Analyzer] | None = None,
    repeat_window: timedelta = repeat_complaints.WINDOW,
) -> Ticket:
    """Open a case for a customer, e.g. from a phone call; ``text`` is the customer's request.

    With ``analysis`` (the app's analyzer, as intake's) the text is analyzed like an inbound
    message and the ticket's triage comes from it; what the caller sets (priority, category,
    intent) overrides it, a priority set by hand saying so in ``priority_reason``. If the
    analysis raises, the ticket is opened all the same and the message flagged for the retry
    (services/intake/analysis_retry.py). Without ``analysis`` (test factories, importers that bring
    their own triage) nothing is analyzed."""
    # Imported here: the customers module builds on this one (visible_tickets, tags_by_name).
    from kefu.services.customers.profiles import access_customer

    try:
        customer = access_customer(session, actor, customer_id)
    except NotFound as e:
        raise NotFound("customer", details={"field": "customer_id"}) from e
    if customer.merged_into_id is not None:
        raise NotFound("customer", details={"field": "customer_id"})
    _check_group(session, group_id)
    _check_assignee(session, assignee_id)
    now = utcnow()
    analyzed, analysis_error = _analyze(analysis, text)
    state, reasons = planner.open_ticket(customer.id, channel, now), {}
    if analyzed is not None:
        opened = planner.apply_analysis(
            state,
            message_triage.triage_of(analyzed),
            message_triage.explanations(analyzed),
            opens=True,
        )
        state, reasons = opened.state, opened.reasons
    triage = replace(
        state.triage,
        category=category or state.triage.category,
        intent=intent or state.triage.intent,
    )
    if priority is not None:
        triage = replace(triage, priority=priority, priority_reason=_hand_set(actor, priority))
        reasons["priority"] = triage.priority_reason or ""
    state = replace(state, triage=triage, case=cw.with_intent(state.case, triage.intent))
    ticket = Ticket(
        subject=subject, customer_id=customer.id, channel=channel, group_id=group_id,
        assignee_id=assignee_id, created_at=now, case_file={}, reopen_count=0,
    )  # fmt: skip
    cases.write_state(ticket, state, now)  # status, case, triage and SLA facts of a new case
    ticket.tags = tags_by_name(session, tags or [])
    session.add(ticket)
    session.flush()
    message = Message(
        ticket_id=ticket.id,
        channel=channel,
        direction=Direction.INBOUND,
        author_type=AuthorType.CUSTOMER,
        author_customer_id=customer.id,
        body_text=text,
        body_html=text_to_html(text),
        analysis=analyzed.to_json() if analyzed else None,
        created_at=now,
    )
    if analysis_error is not None:
        message.analysis_error, message.analysis_attempts = analysis_error, 1
        message.analysis_retry_at = now + analysis_retry.delay_after(1)
    session.add(message)
    session.flush()
    search_index.write(
        session.connection(),
        [
            search_index.ticket_doc(ticket.id, subject, [t.name for t in ticket.tags]),
            search_index.message_doc(message.id, ticket.id, text),
        ],
    )
    if attachments:
        assert attachments_root is not None
        store_attachments(
            session, message, attachments, root=attachments_root, max_bytes=max_attachment_bytes
        )
    audit.record(
        session, actor, "ticket.create", object_type="ticket", object_id=ticket.id,
        ticket_id=ticket.id, customer_id=customer.id,
        after={**snapshot(ticket), **({"reasons": reasons} if reasons else {})},
    )  # fmt: skip
    events.record(
        session,
        ev.TicketOpened(
            ticket.id, customer_id=customer.id, channel=channel, priority=ticket.priority
        ),
        ev.MessageAdded(ticket.id, message_id=message.id, direction="inbound"),
    )
    cases.flag_repeat_complaint(session, actor, ticket, repeat_window, now)  # as at intake
    return ticket


def _analyze(
    analysis: Callable[[], Analyzer] | None, text: str
) -> tuple[Analysis | None, str | None]:
    """The analysis of the customer's text, or the error that kept it from being analyzed."""
    if analysis is None:
        return None, None
    try:
        return analysis().analyze(text), None
    except Exception as e:
        log.error("analysis of a ticket opened by staff failed", exc_info=True)
        return None, f"{type(e).__name__}: {e}"[:2000]


def _hand_set(actor: Actor, priority: str) -> str:
    """The ``priority_reason`` of a priority a person (or a system rule) set."""
    who = "系统规则设定" if actor.is_system else f"{actor.name or '工作人员'}人工调整"
    return f"{priority}：由{who}"


def store_attachments(
    session: Session, message: Message, items: list[AttachmentIn], *, root: Path, max_bytes: int
) -> list[Attachment]:
    rows = []
    # Every file is checked (size, scanner) before the first is written: a refused one leaves
    # no blob of the others behind.
    for data, meta in [decode_attachment(item, max_bytes=max_bytes) for item in items]:
        write_blob(root, data, meta.sha256)
        row = Attachment(
            message_id=message.id,
            filename=meta.filename,
            content_type=meta.content_type,
            size=meta.size,
            sha256=meta.sha256,
        )
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def do_update_ticket(
    session: Session,
    actor: Actor,
    ticket: Ticket,
    changes: dict[str, Any],
    policy: Policy | None = None,
    *,
    repeat_window: timedelta = repeat_complaints.WINDOW,
) -> Ticket:
    """Change fields of a ticket the caller has loaded with ``access_ticket(for_update=True)``.
    A status change is a step of the case's loop (services/cases/loop.py); a complaint refuses to be
    resolved or closed this way, and no case is resolved without its required custom fields.
    ``fields``: custom field values, merged (services/fields/values.py). A new intent or
    category may make it a repeat complaint."""
    before = snapshot(ticket)
    now = utcnow()
    if ticket.merged_into_id is not None:
        raise Conflict("ticket_merged", into=ticket.merged_into_id)
    changes = dict(changes)
    if "fields" in changes:  # first: a PATCH may fill a required field and resolve at once
        field_values.do_set_fields(session, actor, ticket, changes.pop("fields") or {})
    if "group_id" in changes:
        _check_group(session, changes["group_id"])
    if "assignee_id" in changes:
        _check_assignee(session, changes["assignee_id"])
    if "status" in changes:  # refused before anything moves: a page shows the refusal and commits
        field_values.check_target(session, ticket, changes["status"])
    for name, value in sorted(
        changes.items(), key=lambda kv: kv[0] == "status"
    ):  # the intent first
        if name == "status":
            reopens = ticket.reopen_count
            cases.do_status_change(ticket, TicketStatus(value), now, policy or Policy())
            if ticket.reopen_count > reopens:  # a reopened archived case: its library outcome
                session.flush()
                case_entries.record_reopens(session.connection(), [ticket.id], now)
        elif name == "tags":
            ticket.tags = tags_by_name(session, value)
        else:
            setattr(ticket, name, value)
            if name == "intent":
                cases.on_intent_changed(ticket)
    if ticket.priority != before["priority"]:  # say who set it where agents read "why"
        ticket.priority_reason = _hand_set(actor, ticket.priority)
        sla.on_replan(ticket, now)  # the budgets follow the priority
    old, new = audit.changed_fields(before, snapshot(ticket))
    if new:
        ticket.updated_at = now
        session.flush()
        if {"subject", "tags"} & set(new):
            search_index.indexed_ticket(session, ticket)
        audit.record(
            session, actor, "ticket.update", object_type="ticket", object_id=ticket.id,
            ticket_id=ticket.id, customer_id=ticket.customer_id, before=old, after=new,
        )  # fmt: skip
        events.record(session, *_changed(ticket, old, new))
    if {"intent", "category"} & set(changes):  # it may now repeat an earlier complaint
        cases.flag_repeat_complaint(session, actor, ticket, repeat_window, now)
    return ticket


def _changed(ticket: Ticket, old: dict[str, Any], new: dict[str, Any]) -> list[ev.Event]:
    """The events of a change of these fields (``old`` and ``new`` hold only what changed)."""
    told: list[ev.Event] = [ev.TicketChanged(ticket.id, fields=tuple(sorted(new)))]
    if "assignee_id" in new or "group_id" in new:
        told.append(ev.TicketAssigned(ticket.id, assignee_id=ticket.assignee_id, group_id=ticket.group_id,
                                      previous_assignee_id=old.get("assignee_id", ticket.assignee_id)))  # fmt: skip
    return told


def reply_channels(session: Session, ticket: Ticket) -> list[str]:
    """The channels a reply on the ticket may take: the case's own first, then every other
    channel its customer has an identity on (answering an e-mail case in the web chat …), and
    e-mail when the profile has an address (a chat continued by e-mail)."""
    found = [ticket.channel]
    identities = select(Identity.channel).where(Identity.customer_id == ticket.customer_id)
    for channel in session.scalars(identities.order_by(Identity.id)):
        if channel not in found:
            found.append(channel)
    email = session.scalar(select(Customer.email).where(Customer.id == ticket.customer_id))
    if email and Channel.EMAIL.value not in found:
        found.append(Channel.EMAIL.value)
    return found


def do_add_message(
    session: Session,
    actor: Actor,
    ticket: Ticket,
    *,
    text: str,
    internal: bool,
    channel: str | None = None,
    attachments: list[AttachmentIn] | None = None,
    attachments_root: Path | None = None,
    max_attachment_bytes: int = 0,
    send: bool = True,
    norms_override_reason: str | None = None,
    template: bool = False,
) -> Message:
    """An agent's public reply or internal note (内部备注) on a ticket they have locked.

    A public reply is queued in the outbox in the same transaction (services/outbound/), for
    the channels that send; its ``delivery_state`` then follows the delivery. ``channel``: the
    reply goes out on another channel of the customer than the case's (``reply_channels``;
    422 ``channel_unreachable`` for one the customer is not on); a note stays on the case's.
    Importers of history (the demo) pass ``send=False``: those replies reached the customer
    long ago. A reply that is sent is checked against the communication norms first: an error
    finding refuses it (422 ``norms_blocked``) unless ``norms_override_reason`` says why it
    goes out all the same (services/norms/review.py). On WeChat a free reply must fall within 48
    hours of the customer's last message (422 ``wechat_window_closed``); ``template`` sends it as
    the account's template message instead (services/wechat/window.py)."""
    now = utcnow()
    took_chat = False
    direction = Direction.NOTE if internal else Direction.OUTBOUND
    if internal or channel is None:
        channel = ticket.channel
    elif channel != ticket.channel and channel not in reply_channels(session, ticket):
        raise KefuError(
            "channel_unreachable", status_code=422, channel=channel, details={"field": "channel"}
        )
    if send and not internal and channel == Channel.WECHAT.value:
        wechat_window.check_reply(session, ticket.customer_id, now, template=template)
    review = None
    if send and not internal:
        review = norms_review.review_reply(
            session, ticket, text, override_reason=norms_override_reason
        )
    message = Message(
        ticket_id=ticket.id,
        channel=channel,
        direction=direction,
        author_type=AuthorType.USER if actor.user_id else AuthorType.SYSTEM,
        author_user_id=actor.user_id,
        body_text=text,
        body_html=text_to_html(text),
        created_at=now,
    )
    session.add(message)
    before = snapshot(ticket)
    if not internal:
        cases.write_state(ticket, planner.agent_replied(cases.state_of(ticket), now), now)
        ticket.last_message_at = now
        took_chat = _take_waiting_chat(ticket, actor, now)
    ticket.updated_at = now
    session.flush()
    search_index.write(
        session.connection(), [search_index.message_doc(message.id, ticket.id, text)]
    )
    if not attachments:  # known to be none: nobody needs to ask the database
        set_committed_value(message, "attachments", [])
    else:
        assert attachments_root is not None
        store_attachments(
            session, message, attachments, root=attachments_root, max_bytes=max_attachment_bytes
        )
    if send and not internal:  # to the customer through the outbox, committed with the message
        entry = outbox.enqueue_message(session, ticket, message)
        if entry is not None and template and channel == Channel.WECHAT.value:
            entry.target = {**entry.target, "template": True}
    if review is not None:
        norms_review.record_review(session, actor, message, review)
    old, new = audit.changed_fields(before, snapshot(ticket))
    audit.record(
        session, actor, "ticket.note" if internal else "ticket.reply", object_type="message",
        object_id=message.id, ticket_id=ticket.id, customer_id=ticket.customer_id,
        before=old or None, after={"message_id": message.id, "direction": direction.value, **new},
    )  # fmt: skip
    told: list[ev.Event] = [
        ev.MessageAdded(ticket.id, message_id=message.id, direction=direction.value)
    ]
    if took_chat:
        told.append(ev.TicketChanged(ticket.id, fields=("chat_accepted_at",)))
    events.record(session, *told, *(_changed(ticket, old, new) if new else []))
    return message


def _take_waiting_chat(ticket: Ticket, actor: Actor, now: datetime) -> bool:
    """An agent who answers a web chat still waiting in the queue has taken it, as if they had
    accepted the offer (services/webchat/offers.py): the visitor leaves the queue and sees who
    answers, and nobody else is offered it. It is theirs unless someone was assigned already."""
    if ticket.channel != Channel.WEBCHAT.value or ticket.chat_accepted_at is not None:
        return False
    if actor.user_id is None:
        return False
    ticket.chat_accepted_at = now
    ticket.chat_offer_user_id = None
    ticket.chat_offer_expires_at = None
    if ticket.assignee_id is None:
        ticket.assignee_id = actor.user_id
    return True


def do_assign(session: Session, actor: Actor, ticket: Ticket, *, assignee_id: int | None) -> Ticket:
    return do_update_ticket(session, actor, ticket, {"assignee_id": assignee_id})


def do_claim(session: Session, actor: Actor, ticket_id: int) -> Ticket:
    """Take an unassigned ticket; of two agents claiming at once exactly one wins.

    The winner is decided by one conditional UPDATE, atomic on both engines.
    """
    if actor.user_id is None:
        raise KefuError("forbidden", status_code=403)
    ticket = access_ticket(session, actor, ticket_id)
    if ticket.assignee_id is not None and ticket.assignee_id != actor.user_id:
        # Already taken: say so without queueing on the row lock behind whoever holds it.
        raise Conflict("already_claimed", details={"assignee_id": ticket.assignee_id})
    with _busy_as_conflict():
        result = session.execute(
            update(Ticket)
            .where(Ticket.id == ticket.id, Ticket.assignee_id.is_(None))
            .values(assignee_id=actor.user_id, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(ticket)
        if ticket.assignee_id == actor.user_id:
            return ticket
        raise Conflict("already_claimed", details={"assignee_id": ticket.assignee_id})
    session.refresh(ticket)
    audit.record(
        session, actor, "ticket.claim", object_type="ticket", object_id=ticket.id,
        ticket_id=ticket.id, customer_id=ticket.customer_id,
        before={"assignee_id": None}, after={"assignee_id": actor.user_id},
    )  # fmt: skip
    events.record(session, *_changed(ticket, {"assignee_id": None}, {"assignee_id": actor.user_id}))
    return ticket
