"""``Server-Timing: app;dur=…`` on every HTTP answer: the milliseconds from the request reaching
kefu (outermost middleware) to the answer's first byte. Browsers' developer tools show it, and
benchmarks/workspace.py reads it to measure server time apart from the network and the client."""

from __future__ import annotations

import time
from typing import Any

from kefu.api.response_headers import adding_header

Scope = dict[str, Any]


class ServerTiming:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        def elapsed() -> str:
            return f"app;dur={(time.perf_counter() - started) * 1000:.2f}"

        await self.app(scope, receive, adding_header(send, b"server-timing", elapsed))
