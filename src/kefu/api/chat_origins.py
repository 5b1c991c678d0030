"""The chat widget's cross-site calls: only from the sites the channel allows.

The widget runs on a shop's page (its origin) and calls kefu (another origin), so the browser
asks first (a CORS preflight) and shows kefu's answers to the page only when kefu names the
page's origin. For ``/chat/api/{key}/…``: a request from an origin the channel allows gets
``Access-Control-Allow-Origin`` with that origin; a preflight from it is answered here; a request
from any other origin is refused outright (403 ``origin_not_allowed``), not merely hidden from
the page, so a foreign page cannot even make a visitor's browser send a message. A request with
no Origin header is no browser's cross-site call and passes (the token still decides). Every
answer to a visitor carries ``X-Content-Type-Options: nosniff``.
"""

from __future__ import annotations

from typing import Any

from kefu.api.limits import send_error

Scope = dict[str, Any]
PREFIX = "/chat/api/"
ALLOW_METHODS = b"GET, POST, OPTIONS"
ALLOW_HEADERS = b"Authorization, Content-Type"
MAX_AGE = b"600"


class ChatOrigins:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        raw_origin = headers.get(b"origin")
        if raw_origin is None:
            await self.app(scope, receive, _with_headers(send, []))
            return
        origin = raw_origin.decode("latin-1")
        key = scope["path"][len(PREFIX) :].split("/", 1)[0]
        channel = await scope["app"].state.webchat.channel(key)
        if channel is None:  # the handler answers 404; the page may read it
            await self.app(scope, receive, _with_headers(send, _cors_headers(raw_origin)))
            return
        if not channel.allows_origin(origin, headers.get(b"host", b"").decode("latin-1")):
            await send_error(scope, send, 403, "origin_not_allowed", None)
            return
        if scope["method"] == "OPTIONS" and b"access-control-request-method" in headers:
            await send({"type": "http.response.start", "status": 204,
                        "headers": [*_cors_headers(raw_origin),
                                    (b"access-control-allow-methods", ALLOW_METHODS),
                                    (b"access-control-allow-headers", ALLOW_HEADERS),
                                    (b"access-control-max-age", MAX_AGE)]})  # fmt: skip
            await send({"type": "http.response.body", "body": b""})
            return
        await self.app(scope, receive, _with_headers(send, _cors_headers(raw_origin)))


def _cors_headers(origin: bytes) -> list[tuple[bytes, bytes]]:
    return [(b"access-control-allow-origin", origin), (b"vary", b"Origin")]


def _with_headers(send: Any, extra: list[tuple[bytes, bytes]]) -> Any:
    """Every answer to a visitor: never sniffed into something a browser would run."""
    extra = [*extra, (b"x-content-type-options", b"nosniff")]

    async def sending(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            present = {name.lower() for name, _ in message.get("headers", [])}
            added = [(name, value) for name, value in extra if name not in present]
            message = {**message, "headers": [*message.get("headers", []), *added]}
        await send(message)

    return sending
