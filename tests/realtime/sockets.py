"""A test client of the staff WebSocket (/api/v1/events): a real socket, JSON frames."""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Callable
from typing import Any

from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.visitors import token_protocols

Frame = dict[str, Any]


class Refused(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


class StaffSocket:
    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.replayed: list[Frame] = []
        self.ready: Frame | None = None
        self.seen: list[Frame] = []  # every frame received, in order

    def send(self, frame: Frame) -> None:
        self.connection.send(json.dumps(frame))

    def hello(self, last_event_id: str | None = None) -> Frame:
        """Say where to resume; returns the ``ready`` frame (what came before: ``replayed``)."""
        self.send({"type": "hello", "last_event_id": last_event_id})
        while True:
            frame = self.next()
            if frame["type"] == "ready":
                self.ready = frame
                return frame
            self.replayed.append(frame)

    def next(self, timeout: float = 20.0) -> Frame:
        frame: Frame = json.loads(self.connection.recv(timeout=timeout))
        self.seen.append(frame)
        return frame

    def until(self, wanted: Callable[[Frame], bool], timeout: float = 20.0) -> list[Frame]:
        """Frames up to and including the first ``wanted`` one."""
        deadline = time.monotonic() + timeout
        got: list[Frame] = []
        while True:
            frame = self.next(timeout=max(0.01, deadline - time.monotonic()))
            got.append(frame)
            if wanted(frame):
                return got

    def closed_with(self, timeout: float = 20.0) -> tuple[int | None, str]:
        """Read until the server closes; its close code and reason."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                self.next(timeout=max(0.01, deadline - time.monotonic()))
        except ConnectionClosed as e:
            received = e.rcvd
            return (received.code, received.reason) if received else (None, "")

    def close(self) -> None:
        self.connection.close()


def open_socket(
    base_url: str,
    *,
    token: str | None = None,
    query_token: str | None = None,
    protocol_token: str | None = None,
    cookie: str | None = None,
    origin: str | None = None,
    tls: ssl.SSLContext | None = None,
    cookie_name: str = "kefu_session",
) -> StaffSocket:
    """The staff socket of the server at ``base_url`` (http → ws, https → wss with ``tls``);
    ``cookie_name``: ``__Host-kefu_session`` for a production server."""
    url = base_url.replace("http", "ws", 1) + "/api/v1/events"
    if query_token:
        url += f"?token={query_token}"
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if cookie:
        headers["Cookie"] = f"{cookie_name}={cookie}"
    try:
        connection = connect(
            url,
            additional_headers=headers,
            origin=origin,  # type: ignore[arg-type]
            subprotocols=token_protocols(protocol_token) if protocol_token else None,
            proxy=None,
            open_timeout=20,
            legacy=True,  # the connection itself, closed by the test's fixture
            **({"ssl": tls} if tls else {}),
        )
    except InvalidStatus as e:
        body = e.response.body or b""
        raise Refused(e.response.status_code, json.loads(body) if body else None) from e
    return StaffSocket(connection)


def is_event(name: str, ticket_id: int | None = None) -> Callable[[Frame], bool]:
    def wanted(frame: Frame) -> bool:
        return (
            frame.get("type") == "event"
            and frame["event"]["event"] == name
            and (ticket_id is None or frame["event"]["ticket_id"] == ticket_id)
        )

    return wanted


def tickets_in(frames: list[Frame]) -> set[int | None]:
    return {f["event"]["ticket_id"] for f in frames if f.get("type") == "event"}
