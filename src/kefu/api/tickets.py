"""/api/v1/tickets: the case list, one case with its messages, changes, replies, claiming."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import Field

from kefu.api.access import STAFF, allow
from kefu.api.deps import DB, AppSettings, CurrentActor, OrderLookups, TextAnalysis
from kefu.api.schemas import (
    ERRORS,
    AttachmentUpload,
    FullNumbers,
    Id,
    In,
    LongText,
    Out,
    Patch,
    ShortText,
    TagName,
)
from kefu.db.base import utcnow
from kefu.domain.case_loop import Stage
from kefu.domain.masking import mask_numbers
from kefu.domain.tickets import Channel, Priority, TicketStatus
from kefu.domain.triage_labels import Category, Emotion, Intent, Risk, Sentiment
from kefu.services import audit as audit_service
from kefu.services.bot import service as bot_service
from kefu.services.cases import loop as cases
from kefu.services.cases import tickets as service
from kefu.services.customers import personal_data
from kefu.services.fields import orders
from kefu.services.intake.attachments import AttachmentIn
from kefu.services.scripts import uses as script_uses
from kefu.services.sla import clocks as sla_service

router = APIRouter(prefix="/tickets", tags=["tickets"], responses=ERRORS)


class AttachmentPublic(Out):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    url: str = ""


class MessagePublic(Out):
    id: int
    ticket_id: int
    channel: str
    direction: str
    author_type: str
    author_user_id: int | None
    author_customer_id: int | None
    body_text: str
    body_html: str | None
    external_id: str | None
    analysis: dict[str, Any] | None
    delivery_state: str | None = Field(
        description="a reply's way to the customer: queued, sent, delivered, read, failed, dead; "
        "null for messages that are not sent out (customer messages, notes, channels that send nothing)"
    )
    norm_score: int | None = Field(
        default=None, description="an agent's reply: its norm score when sent (100 = no finding)"
    )
    norm_rules: list[str] | None = Field(default=None, description="the norms rules it broke")
    norm_override_reason: str | None = Field(
        default=None, description="why it was sent over an error finding"
    )
    call_turn: dict[str, Any] | None = Field(
        default=None,
        description="a turn of a phone call: start_s, end_s; an agent's turn also its speaking "
        "rate (rate, characters per minute), limit and fast (docs/webhooks.md)",
    )
    created_at: datetime
    attachments: list[AttachmentPublic] = []

    @classmethod
    def of(cls, message: Any, *, masked: bool = False) -> MessagePublic:
        """``masked``: phone, ID-card and bank-card numbers in the text masked (an agent's
        default read, domain/masking.py); the stored message is unchanged."""
        out = cls.model_validate(message)
        for item in out.attachments:
            item.url = f"/api/v1/attachments/{item.id}"
        if masked:
            out.body_text = mask_numbers(out.body_text)
            out.body_html = mask_numbers(out.body_html) if out.body_html else out.body_html
            if out.analysis and out.analysis.get("explanations"):
                spans = [{**e, "span": mask_numbers(str(e.get("span", "")))}
                         for e in out.analysis["explanations"]]  # fmt: skip
                out.analysis = {**out.analysis, "explanations": spans}
        return out


class SlaClock(Out):
    target: str = Field(description="first_response | next_response | resolution")
    state: str = Field(description="on_track | at_risk | breached | paused | met | missed")
    due_at: datetime | None
    warn_at: datetime | None
    left_seconds: int = Field(description="working time left; negative once breached")


class TicketPublic(Out):
    id: int
    subject: str
    status: TicketStatus
    channel: str
    customer_id: int
    assignee_id: int | None
    group_id: int | None
    intent: str | None
    category: str | None
    priority: str
    priority_reason: str | None
    risks: list[str]
    emotion: str | None
    sentiment: str | None
    tags: list[str]
    first_response_due_at: datetime | None
    next_response_due_at: datetime | None
    resolution_due_at: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    reopen_count: int
    escalations: int
    case_path: str = Field(
        description="complaint (受理登记 → … → 总结归档) or short (open → resolved → closed)"
    )
    stage: str
    waiting_on: str | None = Field(description="customer | third_party while pending")
    repeat_complaint: bool = Field(
        description="重复投诉: the customer complained about the same within 30 days"
    )
    merged_into_id: int | None = Field(
        description="set when this duplicate was merged into that case"
    )
    sla: list[SlaClock]
    fields: dict[str, Any] = Field(
        description="custom field values by key (GET /api/v1/ticket-fields): text and choice as "
        "text, numbers as numbers (a decimal as text), dates as YYYY-MM-DD"
    )
    last_message_at: datetime | None
    bot_holds: bool = Field(
        description="the answering bot holds the case: in no queue until it hands off"
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, ticket: Any, policies: sla_service.Policies) -> TicketPublic:
        """The public form of a ticket; its SLA clocks under the configured ``policies``
        (``Policies.load``), which are required: a default here showed the wrong deadlines."""
        data = {
            name: getattr(ticket, name) for name in cls.model_fields if name not in ("tags", "sla")
        }
        clocks = sla_service.public_clocks(sla_service.evaluate_ticket(ticket, policies, utcnow()))
        return cls(**data, tags=[t.name for t in ticket.tags], sla=[SlaClock(**c) for c in clocks])


class OrderLookupPublic(Out):
    order_no: str
    state: str = Field(description="pending | ok | not_found | error")
    requested_at: datetime | None = None
    fetched_at: datetime | None = None
    order: dict[str, Any] | None = Field(
        default=None, description="the shop's answer as checked (docs/order-lookup.md)"
    )
    error: dict[str, str] | None = Field(default=None, description="code and detail")


class BotPartPublic(Out):
    handoff_reason: str | None = Field(
        description="why the bot handed off: customer_asked | low_confidence | angry | risk | "
        "priority | out_of_hours_contact; null: it did not (yet)"
    )
    solved_by_bot: bool = Field(description="解决了: closed by the bot with no agent")


class TicketDetail(TicketPublic):
    messages: list[MessagePublic]
    bot: BotPartPublic | None = Field(description="the answering bot's part; null: none")
    order_lookup: OrderLookupPublic | None = Field(
        description="the order its order number names, as the shop's system answered"
    )


class TicketPage(Out):
    items: list[TicketPublic]
    next_cursor: str | None


class TicketCreate(In):
    customer_id: Id
    subject: ShortText = ""
    text: LongText = Field(min_length=1)
    channel: Channel = Channel.WEB
    priority: Priority | None = None
    category: Category | None = None
    intent: Intent | None = Field(default=None, description="complaint opens the complaint loop")
    group_id: Id | None = None
    assignee_id: Id | None = None
    tags: list[TagName] = Field(default_factory=list, max_length=20)
    attachments: list[AttachmentUpload] = Field(default_factory=list, max_length=10)


FieldKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


class TicketUpdate(Patch):
    not_null = frozenset({"subject", "status", "priority", "risks", "tags", "fields"})

    subject: ShortText | None = None
    status: TicketStatus | None = None
    priority: Priority | None = None
    category: Category | None = None
    intent: Intent | None = None
    emotion: Emotion | None = None
    sentiment: Sentiment | None = None
    risks: list[Risk] | None = Field(default=None, max_length=6)
    group_id: Id | None = None
    assignee_id: Id | None = None
    tags: list[TagName] | None = Field(default=None, max_length=20)
    fields: dict[FieldKey, Any] | None = Field(
        default=None,
        max_length=100,
        description="custom field values by key, merged into the ticket's; null clears one",
    )


class MessageCreate(In):
    text: LongText = Field(min_length=1)
    internal: bool = False
    channel: Channel | None = Field(
        default=None,
        description="reply on another channel the customer has an identity on "
        "(default: the ticket's; ignored for a note)",
    )
    attachments: list[AttachmentUpload] = Field(default_factory=list, max_length=10)
    norms_override_reason: str | None = Field(
        default=None,
        max_length=500,
        description="why a reply with an error finding of the norms checker is sent all the same; "
        "without it such a reply is refused (422 norms_blocked, the findings in details)",
    )
    script_id: Id | None = Field(default=None, description="the script the reply was written from")
    wechat_template: bool = Field(
        default=False,
        description="on WeChat past the 48-hour window: send the reply as the account's template "
        "message (a free reply then is refused: 422 wechat_window_closed)",
    )


class AssignBody(In):
    assignee_id: Id | None


class AuditEventPublic(Out):
    id: int
    actor_type: str = Field(description="user | integration | system")
    actor_id: int | None = Field(description="the user's or the integration's id")
    actor_name: str | None = Field(
        default=None, description="who it was, for people: a name, 集成「名称」 or 系统"
    )
    via: str
    action: str
    object_type: str
    object_id: int
    ticket_id: int | None
    customer_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    created_at: datetime


def _uploads(items: list[AttachmentUpload]) -> list[AttachmentIn]:
    return [AttachmentIn(i.filename, i.content_type, i.content_base64) for i in items]


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")[:60]


def _detail(db: DB, ticket: Any, *, masked: bool = False) -> TicketDetail:
    base = TicketPublic.of(ticket, sla_service.Policies.load(db)).model_dump()
    messages = [MessagePublic.of(m, masked=masked) for m in service.ticket_messages(db, ticket)]
    lookup = ticket.order_lookup
    order = OrderLookupPublic.model_validate(lookup) if lookup else None
    part = bot_service.bot_part(db, ticket.id)
    bot = BotPartPublic.model_validate(part) if part is not None else None
    return TicketDetail(**base, messages=messages, order_lookup=order, bot=bot)


@router.get("", response_model=TicketPage, summary="List tickets", **allow(*STAFF))
def list_tickets(
    db: DB,
    actor: CurrentActor,
    status: Annotated[list[TicketStatus] | None, Query()] = None,
    assignee_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    assignee: Annotated[
        Literal["me", "none"] | None, Query(description="me: mine; none: unassigned")
    ] = None,
    group_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    priority: Annotated[list[Priority] | None, Query()] = None,
    category: Category | None = None,
    channel: Channel | None = None,
    customer_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="text in subject or messages")
    ] = None,
    stage: Annotated[list[Stage] | None, Query(description="stage of the case's loop")] = None,
    repeat_complaint: bool | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> TicketPage:
    filters = service.TicketFilters(
        status=[s.value for s in status] if status else None,
        assignee_id=actor.user_id if assignee == "me" else assignee_id,
        unassigned=assignee == "none",
        group_id=group_id,
        priority=[p.value for p in priority] if priority else None,
        category=category.value if category else None,
        channel=channel.value if channel else None,
        customer_id=customer_id,
        text=q or None,
        stage=[s.value for s in stage] if stage else None,
        repeat_complaint=repeat_complaint,
    )
    rows, next_cursor = service.list_tickets(db, actor, filters, cursor=cursor, limit=limit)
    policies = sla_service.Policies.load(db)
    return TicketPage(items=[TicketPublic.of(t, policies) for t in rows], next_cursor=next_cursor)


@router.post(
    "",
    response_model=TicketDetail,
    status_code=201,
    summary="Open a ticket for a customer",
    **allow(*STAFF),
)
def create_ticket(
    body: TicketCreate, db: DB, actor: CurrentActor, settings: AppSettings, analysis: TextAnalysis
) -> TicketDetail:
    ticket = service.do_create_ticket(
        db,
        actor,
        customer_id=body.customer_id,
        subject=body.subject or _first_line(body.text),
        text=body.text,
        channel=body.channel.value,
        priority=body.priority.value if body.priority else None,
        category=body.category.value if body.category else None,
        intent=body.intent.value if body.intent else None,
        group_id=body.group_id,
        assignee_id=body.assignee_id,
        tags=body.tags,
        attachments=_uploads(body.attachments),
        attachments_root=settings.attachments_dir,
        max_attachment_bytes=settings.max_attachment_bytes,
        analysis=analysis,
        repeat_window=cases.intake_rules(settings).repeat_window,
    )
    return _detail(db, ticket)


@router.get(
    "/{ticket_id}",
    response_model=TicketDetail,
    summary="One ticket with its messages",
    **allow(*STAFF),
)
def get_ticket(
    ticket_id: Id,
    db: DB,
    actor: CurrentActor,
    full: FullNumbers = False,
) -> TicketDetail:
    ticket = service.access_ticket(db, actor, ticket_id)
    shown = personal_data.reads_full_numbers(
        db, actor, ticket.customer, asked=full, what=f"api:ticket:{ticket.id}",
        audit_role_reads=False,
    )  # fmt: skip
    return _detail(db, ticket, masked=not shown)


@router.patch(
    "/{ticket_id}", response_model=TicketPublic, summary="Change ticket fields", **allow(*STAFF)
)
def update_ticket(
    ticket_id: Id, body: TicketUpdate, db: DB, actor: CurrentActor, settings: AppSettings
) -> TicketPublic:
    ticket = service.access_ticket(db, actor, ticket_id, for_update=True)
    changes = body.model_dump(exclude_unset=True, mode="json")
    ticket = service.do_update_ticket(
        db,
        actor,
        ticket,
        changes,
        cases.policy_of(settings),
        repeat_window=cases.intake_rules(settings).repeat_window,
    )
    return TicketPublic.of(ticket, sla_service.Policies.load(db))


@router.post(
    "/{ticket_id}/order-lookup",
    response_model=OrderLookupPublic,
    summary="Ask the shop's system for the ticket's order now",
    **allow(*STAFF),
)
def lookup_order(
    ticket_id: Id, db: DB, actor: CurrentActor, lookups: OrderLookups
) -> OrderLookupPublic:
    ticket = service.access_ticket(db, actor, ticket_id)
    return OrderLookupPublic.model_validate(orders.do_refresh(db, actor, lookups, ticket))


@router.post(
    "/{ticket_id}/messages",
    response_model=MessagePublic,
    status_code=201,
    summary="Reply or add an internal note",
    **allow(*STAFF),
)
def add_message(
    ticket_id: Id, body: MessageCreate, db: DB, actor: CurrentActor, settings: AppSettings
) -> MessagePublic:
    ticket = service.access_ticket(db, actor, ticket_id, for_update=True)
    used = script_uses.prepare_use(db, actor, ticket, body.script_id) if body.script_id else None
    message = service.do_add_message(
        db,
        actor,
        ticket,
        text=body.text,
        internal=body.internal,
        channel=body.channel.value if body.channel else None,
        attachments=_uploads(body.attachments),
        attachments_root=settings.attachments_dir,
        max_attachment_bytes=settings.max_attachment_bytes,
        norms_override_reason=body.norms_override_reason,
        template=body.wechat_template,
    )
    if used is not None and not body.internal:
        script_uses.record_use(db, actor, ticket, message, used)
    if body.attachments:
        db.refresh(message, ["attachments"])
    return MessagePublic.of(message)


@router.post(
    "/{ticket_id}/assign",
    response_model=TicketPublic,
    summary="Assign to an agent (or null to unassign)",
    **allow(*STAFF),
)
def assign_ticket(ticket_id: Id, body: AssignBody, db: DB, actor: CurrentActor) -> TicketPublic:
    ticket = service.access_ticket(db, actor, ticket_id, for_update=True)
    ticket = service.do_assign(db, actor, ticket, assignee_id=body.assignee_id)
    return TicketPublic.of(ticket, sla_service.Policies.load(db))


@router.post(
    "/{ticket_id}/claim",
    response_model=TicketPublic,
    summary="Take an unassigned ticket (409 if taken)",
    **allow(*STAFF),
)
def claim_ticket(ticket_id: Id, db: DB, actor: CurrentActor) -> TicketPublic:
    ticket = service.do_claim(db, actor, ticket_id)
    return TicketPublic.of(ticket, sla_service.Policies.load(db))


@router.get(
    "/{ticket_id}/audit",
    response_model=list[AuditEventPublic],
    summary="The audit trail of a ticket",
    **allow(*STAFF),
)
def ticket_audit(ticket_id: Id, db: DB, actor: CurrentActor) -> list[AuditEventPublic]:
    ticket = service.access_ticket(db, actor, ticket_id)
    events = audit_service.ticket_trail(db, ticket.id)
    names = audit_service.actor_names(db, {(e.actor_type, e.actor_id) for e in events})
    return [
        AuditEventPublic.model_validate(e).model_copy(
            update={"actor_name": names.get((e.actor_type, e.actor_id))}
        )
        for e in events
    ]
