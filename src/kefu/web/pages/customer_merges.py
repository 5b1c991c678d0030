"""Merging a duplicate customer into another, and undoing a merge, from the workspace.

A supervisor or an admin (``profiles._check_may_merge``) searches for the duplicate, sees what
the merge would move — the duplicate's identities and tickets — confirms, and can undo it later
from either customer's merge history. Everyone else is answered 403 by the services.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from kefu.api.deps import DB
from kefu.api.schemas import Id
from kefu.db.models import Customer
from kefu.domain.masking import mask_personal_data
from kefu.errors import KefuError, NotFound, PermissionDenied
from kefu.services.actors import Actor
from kefu.services.customers import profiles as service
from kefu.web.guard import PageActor
from kefu.web.i18n import language_of
from kefu.web.render import page

router = APIRouter(include_in_schema=False)

CANDIDATES = 20


def _merge_page(
    request: Request,
    db: Session,
    actor: Actor,
    target: Customer,
    *,
    q: str,
    source: int | None,
    error: str = "",
    status: int = 200,
) -> Response:
    candidates = service.merge_candidates(db, actor, target, q=q, limit=CANDIDATES)
    preview = None
    if source is not None and not error:
        try:
            preview = service.merge_preview(db, actor, target_id=target.id, source_id=source)
        except (NotFound, PermissionDenied):
            raise
        except KefuError as e:  # the same customer, or one already merged: said on the page
            error, status = e.message(language_of(request)), e.status_code
    context = {
        "customer": target,
        "q": q,
        "candidates": candidates,
        "preview": preview,
        "error": error,
        "mask": mask_personal_data,
    }
    return page(request, "workspace/customers/merge.html", context, status=status)


@router.get("/customers/{customer_id}/merge")
def merge_page(
    customer_id: Id,
    request: Request,
    db: DB,
    actor: PageActor,
    q: str = "",
    source: Id | None = None,
) -> Response:
    """Find the duplicate (``q``), then see what merging it (``source``) would move."""
    target = service.access_customer(db, actor, customer_id)
    return _merge_page(request, db, actor, target, q=q.strip()[:200], source=source)


@router.post("/customers/{customer_id}/merge")
def merge(
    customer_id: Id,
    request: Request,
    db: DB,
    actor: PageActor,
    source_id: Annotated[int, Form(ge=1, le=2**62)],
) -> Response:
    try:
        service.do_merge(db, actor, target_id=customer_id, source_id=source_id)
    except (NotFound, PermissionDenied):
        raise
    except KefuError as e:
        db.rollback()
        target = service.access_customer(db, actor, customer_id)
        message = e.message(language_of(request))
        return _merge_page(
            request, db, actor, target, q="", source=None, error=message, status=e.status_code
        )
    return RedirectResponse(f"/customers/{customer_id}?done=merged", status_code=303)


@router.post("/customers/merges/{merge_id}/undo")
def undo_merge(
    merge_id: Id,
    db: DB,
    actor: PageActor,
    back: Annotated[int | None, Form(ge=1, le=2**62)] = None,
) -> Response:
    """Undo, then back to the profile the form was on (``back``), else the merge's target."""
    done = service.do_undo_merge(db, actor, merge_id)
    target = back if back in (done.target_id, done.source_id) else done.target_id
    return RedirectResponse(f"/customers/{target}?done=unmerged", status_code=303)
