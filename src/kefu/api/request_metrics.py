"""Requests counted and timed for /metrics, by route template and status class.

The label is the route's template ("/api/v1/tickets/{ticket_id}"), never the path itself: one
series per route whatever the ids, and a scanner's made-up paths all count as "unmatched".
Pure ASGI like the other middlewares (api/server_timing.py); HTTP only, sockets are gauged.
"""

from __future__ import annotations

import re
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

Scope = dict[str, Any]
UNMATCHED = "unmatched"


class RequestMeters:
    """The request counter and latency histogram of one app (its own registry: tests make many)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "kefu_http_requests",
            "HTTP requests answered, by route template, method and status class",
            ("route", "method", "status"),
            registry=registry,
        )
        self.latency = Histogram(
            "kefu_http_request_duration_seconds",
            "Time from a request reaching kefu to its answer's end, by route template",
            ("route", "method", "status"),
            registry=registry,
        )

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        status_class = f"{status // 100}xx"
        self.requests.labels(route, method, status_class).inc()
        self.latency.labels(route, method, status_class).observe(seconds)


PARAMETER = re.compile(r"{([^}:]+)(?::[^}]*)?}")


def route_template(scope: Scope) -> str:
    """The matched route's template, with the prefix its router was included under.

    The router leaves the matched route on the scope, but its ``path`` lacks the prefix of
    ``include_router`` ("/tickets/{ticket_id}" for "/api/v1/tickets/5"). That prefix is the part
    of the request's path before the route's own part: the template filled with the request's
    path parameters."""
    route = scope.get("route")  # set on the scope by the router that matched (Starlette)
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if not isinstance(template, str) or not template:
        return UNMATCHED
    params = scope.get("path_params") or {}
    try:
        filled = PARAMETER.sub(lambda m: str(params[m.group(1)]), template)
    except KeyError:
        return template
    path = str(scope.get("path", ""))
    if filled and path.endswith(filled):
        return path[: len(path) - len(filled)] + template
    return template


class RequestMetrics:
    def __init__(self, app: Any, *, meters: RequestMeters) -> None:
        self.app = app
        self.meters = meters

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # an exception that escapes every handler is answered 500 outside us

        async def noted_send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, noted_send)
        finally:
            self.meters.observe(
                route_template(scope), scope["method"], status, time.perf_counter() - started
            )
