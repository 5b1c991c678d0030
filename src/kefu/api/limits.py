"""ASGI middleware at the edge: bodies over the size limit (JSON 413), NUL characters in
the path or query (JSON 422; PostgreSQL cannot store or compare them)."""

from __future__ import annotations

import json
from typing import Any

from kefu.errors import pick_language, render_message

Scope = dict[str, Any]


class BodySizeLimit:
    """Reads the body up to the limit before the app sees it; larger bodies get a 413.

    Checking Content-Length alone is not enough: chunked bodies declare no length.
    """

    def __init__(
        self, app: Any, *, default_limit: int, upload_limit: int, upload_paths: tuple[str, ...]
    ) -> None:
        self.app = app
        self.default_limit = default_limit
        self.upload_limit = upload_limit
        self.upload_paths = upload_paths

    def _limit(self, path: str) -> int:
        if any(path.endswith(suffix) for suffix in self.upload_paths):
            return self.upload_limit
        return self.default_limit

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope["path"])
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, send, limit)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(scope, send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        # Handlers that must keep the payload exactly as received (inbound) read it here.
        scope.setdefault("state", {})["raw_body"] = body
        replayed = False

        async def replay() -> Any:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(scope: Scope, send: Any, limit: int) -> None:
        await send_error(
            scope, send, 413, "payload_too_large", {"limit": limit}, close=True, limit=limit
        )


class RejectNulCharacters:
    """Refuses a request whose path or query string holds U+0000 (``%00``)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and (
            b"%00" in scope.get("query_string", b"") or "\x00" in scope["path"]
        ):
            await send_error(
                scope, send, 422, "validation_error", {"reason": "NUL character in the URL"}
            )
            return
        await self.app(scope, receive, send)


async def send_error(
    scope: Scope,
    send: Any,
    status: int,
    code: str,
    details: Any,
    *,
    close: bool = False,
    **params: Any,
) -> None:
    """Answer with kefu's JSON error body from middleware, before the app runs."""
    headers = dict(scope.get("headers") or [])
    language = pick_language(headers.get(b"accept-language", b"").decode("latin-1"))
    error = {"code": code, "message": render_message(code, language, **params), "details": details}
    body = json.dumps({"error": error}, ensure_ascii=False).encode()
    response_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if close:
        response_headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": response_headers})
    await send({"type": "http.response.body", "body": body})
