"""Approvals (分级授权): the compensations above their proposer's authority that the reader may
approve or reject, with a comment.

``GET /approvals`` is a fragment the supervisor board includes (it reloads itself on ticket
events); ``/approvals/page`` shows it alone. ``GET /approvals/{ticket_id}`` is the approval
form of one case, and ``POST /approvals/{ticket_id}`` decides it — a step of the case's loop
(``loop.do_step`` with ``Approve`` or ``Reject``), answered with the card again: what was
decided, or why not (the reason field missing, someone else decided first, above the
reader's authority).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from kefu.api.deps import DB, AppSettings
from kefu.errors import KefuError
from kefu.services.cases import approvals
from kefu.services.cases import loop as cases
from kefu.services.cases import tickets as tickets_service
from kefu.web import i18n
from kefu.web.guard import PageActor
from kefu.web.pages import case_forms as forms
from kefu.web.pages.cases import DONE_MESSAGES, Fields, said
from kefu.web.render import page

router = APIRouter(include_in_schema=False)
LISTED = 50


@router.get("/approvals")
def approvals_list(request: Request, db: DB, actor: PageActor, settings: AppSettings) -> Response:
    policy = cases.policy_of(settings)
    context = {
        "items": approvals.awaiting(db, actor, policy, limit=LISTED),
        "count": approvals.count_awaiting(db, actor, policy),
        "kinds": forms.COMPENSATION_KINDS,
    }
    return page(request, "workspace/cases/_approvals.html", context)


@router.get("/approvals/page")
def approvals_page(request: Request, actor: PageActor) -> Response:
    """The list on a page of its own (it loads the fragment, as the board does)."""
    return page(request, "workspace/cases/approvals.html")


@router.get("/approvals/{ticket_id}")
def approval_card(
    request: Request, ticket_id: int, db: DB, actor: PageActor, settings: AppSettings
) -> Response:
    ticket = tickets_service.access_ticket(db, actor, ticket_id)
    return _card(request, actor, ticket_id, approvals.pending_of(ticket, cases.policy_of(settings)))


@router.post("/approvals/{ticket_id}")
def decide(
    request: Request,
    ticket_id: int,
    fields: Fields,
    db: DB,
    actor: PageActor,
    settings: AppSettings,
) -> Response:
    ticket = tickets_service.access_ticket(db, actor, ticket_id, for_update=True)
    policy = cases.policy_of(settings)
    language = i18n.language_of(request)
    before = approvals.pending_of(ticket, policy)
    state: dict[str, Any] = {"approval_comment": fields.get("comment", "")}
    try:
        outcome = cases.do_step(db, actor, ticket, forms.read_decision(fields), policy)
    except forms.FormInvalid as invalid:
        errors = {k: i18n.gettext(language, v) for k, v in invalid.errors.items()}
        return _card(request, actor, ticket_id, before, status=422, approval_errors=errors, **state)
    except KefuError as e:
        if e.status_code == 404:
            raise
        refusal = e.message(language)
        return _card(
            request, actor, ticket_id, before, status=e.status_code, refusal=refusal, **state
        )
    decided = "approved" if outcome.step.startswith("approved") else "rejected"
    response = _card(request, actor, ticket_id, before, decided=decided)
    said(response, f"#{ticket_id} " + i18n.gettext(language, DONE_MESSAGES[decided]))
    return response


def _card(
    request: Request,
    actor: Any,
    ticket_id: int,
    pending: approvals.PendingApproval | None,
    *,
    status: int = 200,
    **state: Any,
) -> Response:
    policy_limits = cases.policy_of(request.app.state.settings).limits
    context = {
        "ticket_id": ticket_id,
        "pending": pending,
        "may_decide": pending is not None and policy_limits.may_grant(actor.role, pending.amount),
        "kinds": forms.COMPENSATION_KINDS,
        "mode": "list",
        "approval_errors": {},
        **state,
    }
    return page(request, "workspace/cases/_approval_card.html", context, status=status)
