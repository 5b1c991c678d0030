"""Errors a person sees in the browser: a page for a page, not the API's JSON.

A workspace page (or a link a browser follows outside ``/api``) that fails answers with the
same status and code as the API would, as an HTML page in the reader's language; an htmx
request gets the JSON body, which the workspace script shows as a message.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kefu.web.guard import SignInRequired, sign_in_url
from kefu.web.i18n import language_of
from kefu.web.render import page


def wants_html(request: Request) -> bool:
    if request.headers.get("hx-request"):
        return False
    if getattr(request.state, "html_page", False):
        return True
    path = request.url.path
    return (
        request.method == "GET"
        and not path.startswith(("/api/", "/chat/"))
        and "text/html" in request.headers.get("accept", "")
    )


def error_page(request: Request, status: int, code: str, message: str) -> HTMLResponse:
    return page(
        request,
        "workspace/error.html",
        {"status": status, "code": code, "message": message},
        status=status,
    )


async def sign_in_redirect(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    target = sign_in_url(exc.back_to, expired=exc.expired)
    response: Response
    if request.headers.get("hx-request"):
        response = Response(status_code=401, headers={"HX-Redirect": target})
    else:
        response = RedirectResponse(target, status_code=303)
    if exc.expired:  # the session ended unused: the browser forgets what it kept of it
        from kefu.api.auth import clear_session_cookies

        clear_session_cookies(response, request.app.state.settings)
    return response


# The account page's password form, where someone whose password was set for them must go.
CHANGE_FORM_PAGE = "/account#password"


def password_change_redirect(request: Request) -> Response | None:
    """A page (or an htmx request) of someone who must change their password goes to the
    change form; the API answers 403 ``password_change_required`` (None here)."""
    if request.headers.get("hx-request"):
        return Response(status_code=403, headers={"HX-Redirect": CHANGE_FORM_PAGE})
    if wants_html(request):
        return RedirectResponse(CHANGE_FORM_PAGE, status_code=303)
    return None


def page_language(request: Request) -> str:
    return language_of(request)
