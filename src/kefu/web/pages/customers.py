"""Customers in the workspace: the list and search, the profile with its edit forms, the
cross-channel timeline, and the compact panel the ticket page shows beside a conversation.

Contact details are masked for agents (domain/masking.py) where a customer is shown at a glance —
the panel beside a ticket and the list. The profile shows supervisors and admins everything; agents
read phone, ID-card and bank-card numbers masked and show them when the case needs it (a POST to
``/customers/{id}/full``, audited), as the API does with ``?full=1``. Merging lives in ``customer_merges``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from kefu.api.customers import CustomerUpdate, IdentityBody
from kefu.api.deps import DB
from kefu.api.schemas import Id
from kefu.db.models import Customer
from kefu.domain.masking import mask_numbers, mask_personal_data, sees_full_numbers
from kefu.domain.roles import can_merge_customers
from kefu.errors import KefuError, render_message
from kefu.services.actors import Actor
from kefu.services.cases.tickets import TicketFilters, list_tickets
from kefu.services.customers import joins, personal_data
from kefu.services.customers import profiles as service
from kefu.services.customers.profiles import IdentityIn
from kefu.web.guard import PageActor
from kefu.web.i18n import gettext, language_of
from kefu.web.labels import N_
from kefu.web.pages import customer_joins, customer_merges
from kefu.web.render import page

router = APIRouter(include_in_schema=False)
router.include_router(customer_merges.router)
router.include_router(customer_joins.router)

LIST_SIZE = 30
PANEL_TICKETS = 10
PROFILE_TICKETS = 25
# Channels a person may add an identity on by hand (the others are made by their adapters).
IDENTITY_CHANNELS = ("phone", "email", "wechat", "sms", "webchat", "social", "api")
LANGUAGES = (("zh-CN", N_("简体中文")), ("zh-TW", N_("繁體中文")), ("en", N_("英文")))
# What a form field's refusal says, by the field the validation names.
FIELD_ERRORS = {
    "name": N_("请填写姓名（最多 200 字）"),
    "email": N_("邮箱格式不正确"),
    "phone": N_("电话只能包含数字、空格、横线和开头的 +，3 到 32 位"),
    "note": N_("备注太长了"),
    "language": N_("请选择语言"),
    "tags": N_("最多 20 个标签，每个最多 50 字"),
    "channel": N_("请选择渠道"),
    "external_id": N_("请填写该渠道上的账号（最多 200 字）"),
}
_TAG_SEPARATORS = re.compile(r"[,，、;；\n]+")


async def sent_fields(request: Request) -> frozenset[str]:
    """The names of the fields a form sent, empty ones included (FastAPI reads an empty field
    as one not sent)."""
    return frozenset((await request.form()).keys())


SentFields = Annotated[frozenset[str], Depends(sent_fields)]


def split_tags(text: str) -> list[str]:
    """Tags typed in one field: separated by commas (either width), 、 or semicolons."""
    return [t.strip() for t in _TAG_SEPARATORS.split(text) if t.strip()]


def refusal(request: Request, error: ValidationError) -> str:
    """The first refused field's message in the reader's language."""
    language = language_of(request)
    for item in error.errors():
        field = next((str(part) for part in item["loc"] if str(part) in FIELD_ERRORS), None)
        if field:
            return gettext(language, FIELD_ERRORS[field])
    return render_message("validation_error", language)


def _glance_mask(actor: Actor) -> Callable[[str], str]:
    """Contacts where a customer is shown at a glance (the list, the panel): masked for agents
    and specialists — phone, ID-card and bank-card numbers and e-mail addresses — and in full
    for supervisors and admins (domain/masking.py)."""
    return str if sees_full_numbers(actor.role) else mask_personal_data


def _recent_tickets(db: Session, actor: Actor, customer: Customer, limit: int) -> Any:
    return list_tickets(db, actor, TicketFilters(customer_id=customer.id), cursor=None, limit=limit)


# --- the list ---------------------------------------------------------------------------


@router.get("/customers")
def customer_list(
    request: Request, db: DB, actor: PageActor, q: str = "", cursor: str | None = None
) -> Response:
    query = q.strip()[:200]
    rows, next_cursor = service.customer_page(db, actor, q=query, cursor=cursor, limit=LIST_SIZE)
    context = {
        "customers": rows,
        "q": query,
        "next_cursor": next_cursor,
        "paged": bool(cursor),
        "mask": _glance_mask(actor),
    }
    return page(request, "workspace/customers/list.html", context)


# --- the panel beside a ticket --------------------------------------------------------------


def _panel(
    request: Request, db: Session, actor: Actor, customer: Customer, *, ticket: int | None
) -> Response:
    tickets, more = _recent_tickets(db, actor, customer, PANEL_TICKETS)
    context = {
        "customer": customer,
        "tickets": tickets,
        "more_tickets": more is not None,
        "current_ticket": ticket,
        "merged_into": service.merged_into(db, actor, customer),
        "suggestions": joins.suggestions_for(db, actor, customer),
        "mask": _glance_mask(actor),
    }
    return page(request, "workspace/customers/_panel.html", context)


@router.get("/customers/{customer_id}/panel")
def customer_panel(
    customer_id: Id, request: Request, db: DB, actor: PageActor, ticket: Id | None = None
) -> Response:
    """The fragment the ticket page loads into its side column (``ticket``: the one open)."""
    customer = service.access_customer(db, actor, customer_id)
    return _panel(request, db, actor, customer, ticket=ticket)


@router.post("/customers/{customer_id}/panel")
def save_panel(
    customer_id: Id,
    request: Request,
    db: DB,
    actor: PageActor,
    tags: Annotated[str, Form(max_length=2000)] = "",
    note: Annotated[str, Form(max_length=50_000)] = "",
    ticket: Annotated[int | None, Form(ge=1, le=2**62)] = None,
) -> Response:
    """The panel's note and tags, saved; answers with the panel again."""
    try:
        changes = CustomerUpdate.model_validate({"tags": split_tags(tags), "note": note})
    except ValidationError as e:
        details = {"message": refusal(request, e)}
        raise KefuError("validation_error", status_code=422, details=details) from e
    customer = service.access_customer(db, actor, customer_id, for_update=True)
    service.do_update_customer(db, actor, customer, changes.model_dump(exclude_unset=True))
    return _panel(request, db, actor, customer, ticket=ticket)


# --- the profile ------------------------------------------------------------------------------


def profile_page(
    request: Request,
    db: Session,
    actor: Actor,
    customer: Customer,
    *,
    form: dict[str, str] | None = None,
    error: str = "",
    identity_error: str = "",
    identity_owner: int | None = None,
    identity_form: dict[str, Any] | None = None,
    verification: dict[str, Any] | None = None,
    full: bool = False,
    sent: frozenset[str] = frozenset(),
    status: int = 200,
) -> Response:
    """``full``: the numbers shown in full (the reader may, and the access was audited); else an
    agent's profile masks them (domain/masking.py) and leaves the fields holding them out of the
    form, so saving it keeps them (``sent``: fields the agent typed, shown back as typed)."""
    tickets, next_cursor = _recent_tickets(db, actor, customer, PROFILE_TICKETS)
    form = form or _form_of(customer)
    masked = not (full or sees_full_numbers(actor.role))
    context = {
        **_header(db, actor, customer),
        "tab": "profile",
        "tickets": tickets,
        "next_cursor": next_cursor,
        "history": service.merge_history(db, actor, customer),
        "suggestions": joins.suggestions_for(db, actor, customer),
        "verification": verification,
        "form": form,
        "masked": masked,
        "hidden": _hidden_fields(form, sent) if masked else frozenset(),
        "numbers": mask_numbers if masked else str,
        "error": error,
        "identity_error": identity_error,
        "identity_owner": identity_owner,
        "identity_form": identity_form or {},
        "identity_channels": IDENTITY_CHANNELS,
        "languages": LANGUAGES,
        "done": request.query_params.get("done", ""),
    }
    return page(request, "workspace/customers/profile.html", context, status=status)


def _hidden_fields(form: dict[str, str], sent: frozenset[str]) -> frozenset[str]:
    """The profile form's fields an agent sees masked, as text instead of an input: those
    holding a number that masking changes, unless the agent typed them."""
    return frozenset(
        field
        for field in ("phone", "note")
        if field not in sent and mask_numbers(form[field]) != form[field]
    )


def _header(db: Session, actor: Actor, customer: Customer) -> dict[str, Any]:
    """What every page of one customer shows on top."""
    return {
        "customer": customer,
        "merged_into": service.merged_into(db, actor, customer),
        "may_merge": can_merge_customers(actor.role),
    }


def _form_of(customer: Customer) -> dict[str, str]:
    return {
        "name": customer.name,
        "email": customer.email or "",
        "phone": customer.phone or "",
        "language": customer.language,
        "tags": ", ".join(t.name for t in customer.tags),
        "note": customer.note,
    }


@router.get("/customers/{customer_id}")
def customer_profile(customer_id: Id, request: Request, db: DB, actor: PageActor) -> Response:
    customer = service.access_customer(db, actor, customer_id)
    shown = personal_data.reads_full_numbers(db, actor, customer, asked=False, what="page:profile")
    return profile_page(request, db, actor, customer, full=shown)


@router.post("/customers/{customer_id}/full")
def customer_profile_full(customer_id: Id, request: Request, db: DB, actor: PageActor) -> Response:
    """An agent shows the masked numbers for the case: the profile in full, audited as
    ``page:profile:full`` (a POST: it writes the audit event)."""
    customer = service.access_customer(db, actor, customer_id)
    shown = personal_data.reads_full_numbers(db, actor, customer, asked=True, what="page:profile")
    return profile_page(request, db, actor, customer, full=shown)


@router.post("/customers/{customer_id}")
def save_profile(
    customer_id: Id,
    request: Request,
    db: DB,
    actor: PageActor,
    fields: SentFields,
    name: Annotated[str, Form(max_length=200)] = "",
    email: Annotated[str, Form(max_length=254)] = "",
    phone: Annotated[str, Form(max_length=32)] = "",
    language: Annotated[str, Form(max_length=10)] = "",
    tags: Annotated[str, Form(max_length=2000)] = "",
    note: Annotated[str, Form(max_length=50_000)] = "",
) -> Response:
    """The profile form; a field the form did not send stays as it is (an empty one is
    cleared where the field may be empty: phone and email)."""
    customer = service.access_customer(db, actor, customer_id, for_update=True)
    sent = {
        field: value
        for field, value in (
            ("name", name),
            ("email", email),
            ("phone", phone),
            ("language", language),
            ("tags", tags),
            ("note", note),
        )
        if field in fields
    }
    changes: dict[str, Any] = dict(sent)
    for field in ("email", "phone"):
        if field in sent:
            changes[field] = sent[field].strip() or None
    if "tags" in sent:
        changes["tags"] = split_tags(sent["tags"])
    try:
        valid = CustomerUpdate.model_validate(changes)
    except ValidationError as e:
        form = {**_form_of(customer), **sent}
        return profile_page(request, db, actor, customer, form=form, sent=frozenset(sent),
                            error=refusal(request, e), status=422)  # fmt: skip
    service.do_update_customer(db, actor, customer, valid.model_dump(exclude_unset=True))
    return RedirectResponse(f"/customers/{customer.id}?done=saved", status_code=303)


@router.post("/customers/{customer_id}/identities")
def add_identity(
    customer_id: Id,
    request: Request,
    db: DB,
    actor: PageActor,
    channel: Annotated[str, Form(max_length=20)] = "",
    external_id: Annotated[str, Form(max_length=200)] = "",
    verified: Annotated[bool, Form()] = False,
) -> Response:
    """Another way of reaching the customer; one that belongs to someone else is refused with
    a link to its owner (whom a supervisor may then merge into this customer)."""
    customer = service.access_customer(db, actor, customer_id, for_update=True)
    typed = {"channel": channel, "external_id": external_id, "verified": verified}
    try:
        body = IdentityBody(channel=channel, external_id=external_id.strip(), verified=verified)
    except ValidationError as e:
        error = refusal(request, e)
        return profile_page(
            request, db, actor, customer, identity_error=error, identity_form=typed, status=422
        )
    identity = IdentityIn(body.channel, body.external_id, body.verified)
    try:
        service.do_update_customer(db, actor, customer, {"identities": [identity]})
    except KefuError as e:
        db.rollback()  # nothing of the refused change is kept
        customer = service.access_customer(db, actor, customer_id)
        owner = (e.details or {}).get("customer_id") if isinstance(e.details, dict) else None
        message = render_message(e.code, language_of(request), **e.params)
        return profile_page(
            request,
            db,
            actor,
            customer,
            identity_error=message,
            identity_owner=owner,
            identity_form=typed,
            status=e.status_code,
        )
    return RedirectResponse(f"/customers/{customer.id}?done=identity", status_code=303)


@router.get("/customers/{customer_id}/tickets")
def more_tickets(
    customer_id: Id, request: Request, db: DB, actor: PageActor, cursor: str | None = None
) -> Response:
    """The next rows of the profile's ticket table (htmx appends them)."""
    customer = service.access_customer(db, actor, customer_id)
    tickets, next_cursor = list_tickets(
        db, actor, TicketFilters(customer_id=customer.id), cursor=cursor, limit=PROFILE_TICKETS
    )
    context = {"customer": customer, "tickets": tickets, "next_cursor": next_cursor}
    return page(request, "workspace/customers/_ticket_rows.html", context)


@router.get("/customers/{customer_id}/timeline")
def customer_timeline(customer_id: Id, request: Request, db: DB, actor: PageActor) -> Response:
    """Every ticket of the customer the reader may see, with its messages on every channel."""
    customer = service.access_customer(db, actor, customer_id)
    personal_data.record_access(db, actor, customer, what="page:timeline")
    context = {
        **_header(db, actor, customer),
        "tab": "timeline",
        "entries": service.timeline(db, actor, customer),
    }
    return page(request, "workspace/customers/timeline.html", context)
