"""The headers every HTTP answer of kefu carries, whatever produced it (a page, the API, an error,
a static file): ``X-Content-Type-Options: nosniff`` and a referrer policy; for JSON (the API and
its errors), which is never a page to frame or run, ``Content-Security-Policy: default-src
'none'; frame-ancestors 'none'`` and ``Cache-Control: no-store`` (a customer's data must not stay
in a browser's or a proxy's cache); and when kefu is served over https (``KEFU_PUBLIC_URL``
starts with https://), HSTS. Pages set their own stricter CSP (``web/render.py``); a header an
answer already has is left as it is."""

from __future__ import annotations

from typing import Any

Scope = dict[str, Any]
JSON_CSP = b"default-src 'none'; frame-ancestors 'none'"


class SecurityHeaders:
    def __init__(self, app: Any, *, hsts_seconds: int = 0) -> None:
        self.app = app
        self.always: list[tuple[bytes, bytes]] = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
        ]
        if hsts_seconds > 0:
            value = f"max-age={hsts_seconds}; includeSubDomains".encode()
            self.always.append((b"strict-transport-security", value))

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {name.lower() for name, _ in headers}
                headers += [(n, v) for n, v in self.always if n not in present]
                content_type = dict(headers).get(b"content-type", b"")
                if content_type.startswith(b"application/json"):
                    if b"content-security-policy" not in present:
                        headers.append((b"content-security-policy", JSON_CSP))
                    if b"cache-control" not in present:
                        headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
