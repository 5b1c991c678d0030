"""One exception handler family: every error is ``{"error": {code, message, details}}``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from kefu.api.client_address import client_address
from kefu.db.errors import database_unreachable, lock_not_granted
from kefu.errors import (
    BUSY_RETRY_AFTER_SECONDS,
    DatabaseUnavailable,
    KefuError,
    pick_language,
    render_message,
)
from kefu.services.infra import security_log

log = logging.getLogger("kefu.api")

_STATUS_CODES = {404: "route_not_found", 405: "method_not_allowed", 413: "payload_too_large"}


def error_response(
    request: Request,
    status: int,
    code: str,
    details: Any = None,
    *,
    retry_after: int | None = None,
    **params: Any,
) -> Response:
    from kefu.web import error_pages  # the workspace's pages answer errors as pages

    if error_pages.wants_html(request):
        language = error_pages.page_language(request)
        message = render_message(code, language, **params)
        return error_pages.error_page(request, status, code, message)
    language = pick_language(request.headers.get("accept-language"))
    body = {
        "error": {
            "code": code,
            "message": render_message(code, language, **params),
            "details": details,
        }
    }
    headers = {"Content-Language": language}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return JSONResponse(body, status_code=status, headers=headers)


def _clean(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"loc": list(e.get("loc", ())), "type": e.get("type"), "msg": e.get("msg")} for e in errors
    ]


# Refusals the security log records (services/infra/security_log.py): not signed in, not
# allowed, limited.
_LOGGED_STATUSES = frozenset({401, 403, 429})


def _route_pattern(request: Request) -> str:
    """The path with each path parameter's segment as ``{name}``: ``/api/v1/users/{user_id}``."""
    names = {str(value): name for name, value in request.path_params.items()}
    segments = request.url.path.split("/")
    return "/".join(f"{{{names[s]}}}" if s in names else s for s in segments)


def _log_refusal(request: Request, status: int, code: str) -> None:
    """One place for every refused request: method, route (its pattern, not the path with its
    ids), the actor when known (api/deps.py sets it), the client; never the body."""
    if status not in _LOGGED_STATUSES and code not in security_log.CONTROL_CODES:
        return
    route = _route_pattern(request)
    settings = getattr(request.app.state, "settings", None)
    trusted = settings.trusted_proxy_networks if settings is not None else ()
    security_log.request_refused(
        status=status,
        code=code,
        method=request.method,
        route=route,
        actor=getattr(request.state, "actor_id", None),
        client=client_address(request, trusted),
    )


async def _kefu_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, KefuError)
    _log_refusal(request, exc.status_code, exc.code)
    if exc.code == "password_change_required":
        from kefu.web import error_pages

        redirect = error_pages.password_change_redirect(request)
        if redirect is not None:
            return redirect
    response = error_response(
        request, exc.status_code, exc.code, exc.details, retry_after=exc.retry_after, **exc.params
    )
    if exc.code == "session_expired":  # the session ended unused: the browser forgets it
        from kefu.api.auth import clear_session_cookies

        clear_session_cookies(response, request.app.state.settings)
    return response


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        return error_response(request, 400, "invalid_json", _clean(errors))
    return error_response(request, 422, "validation_error", _clean(errors))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = _STATUS_CODES.get(
        exc.status_code, "validation_error" if exc.status_code < 500 else "internal_error"
    )
    _log_refusal(request, exc.status_code, code)
    return error_response(request, exc.status_code, code)


async def _database_error(request: Request, exc: Exception) -> Response:
    """The database out of reach is 503 with Retry-After, not a 500 and a dropped connection; a
    row lock not granted in time (PostgreSQL lock_timeout) is 409. Loading a ticket for a change
    says ``ticket_busy`` itself (services/cases/tickets.py); this covers any other row."""
    if database_unreachable(exc):
        log.warning("database unreachable on %s %s: %s", request.method, request.url.path, exc)
        return await _kefu_error(request, DatabaseUnavailable())
    if lock_not_granted(exc):
        return error_response(request, 409, "record_busy", retry_after=BUSY_RETRY_AFTER_SECONDS)
    return await _unexpected(request, exc)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(request, 500, "internal_error")


def install_error_handlers(app: FastAPI) -> None:
    from kefu.web.error_pages import sign_in_redirect
    from kefu.web.guard import SignInRequired

    app.add_exception_handler(SignInRequired, sign_in_redirect)
    app.add_exception_handler(KefuError, _kefu_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(SQLAlchemyError, _database_error)
    app.add_exception_handler(Exception, _unexpected)
