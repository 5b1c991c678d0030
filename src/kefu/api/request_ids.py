"""A request id for every HTTP request: a fresh random id, sent back as ``X-Request-ID`` and
written as ``request_id`` on each log record made while the request is served (logs.py), so
an operator finds every line of one request, and a user can quote the id of an error. An id a
client sends is not taken: it would let anyone write what they like into the log's field."""

from __future__ import annotations

import secrets
from typing import Any

from kefu.api.response_headers import adding_header
from kefu.logs import current_request_id

Scope = dict[str, Any]


class RequestIds:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            request_id = secrets.token_hex(8)
            token = current_request_id.set(request_id)
            await self.app(scope, receive, adding_header(send, b"x-request-id", lambda: request_id))
            # Not reset when the request raised: the 500 handler, outside every middleware, logs
            # the error after this returns, and its line should carry the id too. Each request
            # runs in a task of its own (its own copy of the context), so no id outlives it there.
            current_request_id.reset(token)
        else:
            await self.app(scope, receive, send)
