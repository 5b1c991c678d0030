"""A header added to an HTTP answer by an ASGI middleware, computed when the answer starts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

Send = Callable[[dict[str, Any]], Awaitable[None]]


def adding_header(send: Send, name: bytes, value: Callable[[], str]) -> Send:
    """``send`` that adds ``name: value()`` to the answer's headers."""

    async def send_with_header(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            headers = [*(message.get("headers") or []), (name, value().encode())]
            message = {**message, "headers": headers}
        await send(message)

    return send_with_header
