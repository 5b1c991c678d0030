"""One customer across channels, in the workspace: the suggested joins on a profile (confirm or
dismiss) and proving a contact with a code (services/customers/joins.py, verification.py).

Any staff member who can see both profiles decides a suggestion; a confirmed join is a merge
that a supervisor can undo from the merge history like any other.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from kefu.api.deps import DB, AppSettings
from kefu.api.schemas import Id
from kefu.domain.customer_joins import ContactKind
from kefu.errors import KefuError, render_message
from kefu.services.customers import joins, verification
from kefu.services.customers import profiles as service
from kefu.web.guard import PageActor
from kefu.web.i18n import language_of

router = APIRouter(include_in_schema=False)


@router.post("/customers/joins/{join_id}/confirm")
def confirm_join(
    join_id: Id, db: DB, actor: PageActor, back: Annotated[int, Form(ge=1, le=2**62)]
) -> Response:
    row = joins.confirm_join(db, actor, join_id)
    survivor = min(row.customer_a_id, row.customer_b_id)
    return RedirectResponse(f"/customers/{survivor}?done=joined", status_code=303)


@router.post("/customers/joins/{join_id}/dismiss")
def dismiss_join(
    join_id: Id, db: DB, actor: PageActor, back: Annotated[int, Form(ge=1, le=2**62)]
) -> Response:
    row = joins.dismiss_join(db, actor, join_id)
    shown = back if back in (row.customer_a_id, row.customer_b_id) else row.customer_a_id
    return RedirectResponse(f"/customers/{shown}?done=dismissed", status_code=303)


@router.post("/customers/{customer_id}/verify")
def verify_contact(
    customer_id: Id,
    request: Request,
    db: DB,
    actor: PageActor,
    settings: AppSettings,
    kind: Annotated[ContactKind, Form()],
    value: Annotated[str, Form(max_length=254)] = "",
) -> Response:
    """Mail a code (e-mail) or hand one out (phone) for the customer to send back."""
    from kefu.web.pages.customers import profile_page  # the profile shows the outcome

    customer = service.access_customer(db, actor, customer_id)
    try:
        started = verification.start_verification(
            db, actor, customer.id, kind, value, secret_key=settings.secret_key
        )
    except KefuError as e:
        db.rollback()
        customer = service.access_customer(db, actor, customer_id)
        message = render_message(e.code, language_of(request), **e.params)
        refused: dict[str, Any] = {"kind": kind.value, "value": value, "error": message}
        return profile_page(
            request, db, actor, customer, verification=refused, status=e.status_code
        )
    shown: dict[str, Any] = {
        "kind": kind.value,
        "value": started.verification.value,
        "code": started.code_to_tell,
        "expires_at": started.verification.expires_at,
    }
    return profile_page(request, db, actor, customer, verification=shown)
