"""The names kefu's cookies go by: ``__Host-`` ones whenever they are Secure (ASVS V3.3.3).

A ``__Host-`` cookie is one the browser keeps only if it is Secure, has ``Path=/`` and no
``Domain``: no other host (a sibling subdomain) can set or overwrite it. Browsers refuse the
prefix without Secure, so development over plain http keeps the bare names.
"""

from starlette.requests import Request
from starlette.responses import Response

from kefu.settings import Settings

HOST_PREFIX = "__Host-"
# Sent when a session ends (sign-out, sign-out everywhere, an idle session found ended): the
# browser drops what it cached, stored or kept as cookies for kefu's origin (ASVS V14.3.1).
CLEAR_SITE_DATA = '"cache", "cookies", "storage"'


def cookie_name(settings: Settings, name: str) -> str:
    """``name`` as this deployment sends and reads it."""
    return HOST_PREFIX + name if settings.secure_cookies else name


def read_cookie(request: Request, name: str) -> str | None:
    """The value of kefu's cookie ``name`` in ``request``, under this deployment's name."""
    return request.cookies.get(cookie_name(request.app.state.settings, name))


def set_form_cookie(response: Response, settings: Settings, name: str, token: str) -> None:
    """The token a signed-out form (sign-in, password reset) repeats: an hour, this site only."""
    response.set_cookie(
        cookie_name(settings, name),
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies,
    )


def clear_cookie(response: Response, settings: Settings, name: str) -> None:
    response.delete_cookie(cookie_name(settings, name), secure=settings.secure_cookies)


def clear_site_data(response: Response) -> None:
    """Tell the browser to forget this origin's cache, cookies and storage."""
    response.headers["Clear-Site-Data"] = CLEAR_SITE_DATA
