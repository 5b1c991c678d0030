"""``/admin/tokens``: everyone's personal API tokens — make one for any staff member (its secret
is shown once, on the page that answers the form, and never stored) and revoke them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from kefu.api.deps import DB
from kefu.api.schemas import Id
from kefu.api.tokens import TokenCreate
from kefu.services.actors import Actor
from kefu.services.staff import auth as service
from kefu.services.staff import directory as staff
from kefu.web import i18n
from kefu.web.guard import AdminActor
from kefu.web.pages.admin.forms import Errors, Posted, attempt, text, validate
from kefu.web.render import page

router = APIRouter(include_in_schema=False)


def _tokens_page(
    request: Request,
    db: Session,
    actor: Actor,
    *,
    values: dict[str, Any] | None = None,
    errors: Errors | None = None,
    created: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    users = staff.list_users(db)
    context = {
        "section": "tokens",
        "tokens": service.list_tokens(db, actor),
        "names": {u.id: u.name for u in users},
        "users": [u for u in users if u.is_active],
        "values": values or {"name": "", "user_id": str(actor.user_id)},
        "errors": errors or {},
        "created": created,
        "done": request.query_params.get("done"),
    }
    return page(request, "workspace/admin/tokens.html", context, status=status)


@router.get("/admin/tokens")
def tokens_page(request: Request, db: DB, actor: AdminActor) -> Response:
    return _tokens_page(request, db, actor)


@router.post("/admin/tokens")
def create_token(request: Request, db: DB, actor: AdminActor, form: Posted) -> Response:
    """Answers with the list and the new secret on it, this once (the page is not cached)."""
    language = i18n.language_of(request)
    values = {"name": text(form, "name").strip(), "user_id": text(form, "user_id")}
    body, errors = validate(TokenCreate, values, language)
    if body is not None:
        user_id = body.user_id or actor.user_id
        assert user_id is not None
        made, errors = attempt(
            db,
            lambda: service.do_create_token(db, actor, staff.get_user(db, user_id), name=body.name),
            language,
            ("name", "user_id"),
        )
        if made is not None:
            secret, token = made
            created = {"secret": secret, "name": token.name, "user_id": token.user_id}
            return _tokens_page(request, db, actor, created=created)
    return _tokens_page(request, db, actor, values=values, errors=errors, status=422)


@router.post("/admin/tokens/{token_id}/revoke")
def revoke_token(token_id: Id, request: Request, db: DB, actor: AdminActor) -> Response:
    service.do_revoke_token(db, actor, token_id)
    return RedirectResponse("/admin/tokens?done=revoked", status_code=303)
