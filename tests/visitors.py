"""A chat widget's side of the visitor protocol (plan-18.md), for tests: sessions, signed
identities and a WebSocket client that reads frames as the widget does."""

from __future__ import annotations

import json
import secrets
import ssl
import time
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from kefu.domain import visitor_identity as vi

FRAME_TIMEOUT = 30.0
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def start(client: httpx.Client, key: str, **body: Any) -> dict[str, Any]:
    """POST /session; the answer's JSON (the visitor token in ``visitor_token``)."""
    response = client.post(f"/chat/api/{key}/session", json={"visitor_token": None, **body})
    assert response.status_code == 200, response.text
    return response.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def claim(secret: str, user_id: str, *, at: float | None = None, nonce: str | None = None,
          name: str = "", email: str = "", phone: str = "") -> dict[str, Any]:  # fmt: skip
    """A site's identity claim, signed as the site's server would (with the contacts it
    verified, when given)."""
    timestamp = int(time.time() if at is None else at)
    nonce = nonce or secrets.token_urlsafe(18)
    return {
        "user_id": user_id,
        "timestamp": str(timestamp),
        "nonce": nonce,
        "signature": vi.sign(secret.encode(), user_id, timestamp, nonce, email, phone),
        "name": name,
        "email": email,
        "phone": phone,
    }


def ws_url(server: str, key: str) -> str:
    return f"{server.replace('http', 'ws', 1)}/chat/ws/{key}"


def token_protocols(token: str) -> list[Subprotocol]:
    """What the widget offers: its visitor token as a subprotocol, beside ``kefu``."""
    return [Subprotocol("kefu"), Subprotocol(f"kefu.bearer.{token}")]


class Widget:
    """One socket of a visitor, read like the widget reads it: every frame kept in order."""

    def __init__(
        self,
        server: str,
        key: str,
        token: str,
        *,
        origin: str | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        opened = connect(
            ws_url(server, key),
            subprotocols=token_protocols(token),
            origin=origin,
            open_timeout=FRAME_TIMEOUT,
            proxy=None,  # type: ignore[arg-type]
            **({"ssl": tls} if tls else {}),
        )
        assert isinstance(opened, ClientConnection)
        self.socket = opened.__enter__()
        self.frames: list[dict[str, Any]] = []

    def send(self, **frame: Any) -> None:
        self.socket.send(json.dumps(frame, ensure_ascii=False))

    def hello(self, last_seq: int = 0) -> dict[str, Any]:
        self.send(type="hello", last_seq=last_seq)
        return self.until(lambda f: f["type"] == "ready")

    def receive(self, timeout: float = FRAME_TIMEOUT) -> dict[str, Any]:
        frame = json.loads(self.socket.recv(timeout=timeout))
        self.frames.append(frame)
        return frame

    def until(self, wanted: Any, timeout: float = FRAME_TIMEOUT) -> dict[str, Any]:
        """Read frames until one matches; returns it (all read frames stay in ``frames``)."""
        deadline = time.monotonic() + timeout
        while True:
            frame = self.receive(max(0.01, deadline - time.monotonic()))
            if wanted(frame):
                return frame

    def messages(self) -> list[dict[str, Any]]:
        return [f["message"] for f in self.frames if f["type"] == "message"]

    def drop(self) -> None:
        """Lose the connection the hard way (no closing handshake), as a phone going offline."""
        self.socket.socket.close()

    def close(self) -> None:
        try:
            self.socket.close()
        except (ConnectionClosed, OSError):
            pass


def refused_with(server: str, key: str, token: str, *, origin: str | None = None) -> int | None:
    """The close code (or HTTP status) a socket is refused with; None when it was accepted."""
    from websockets.exceptions import InvalidStatus

    try:
        widget = Widget(server, key, token, origin=origin)
    except InvalidStatus as e:
        return int(e.response.status_code)
    try:
        widget.send(type="hello", last_seq=0)
        widget.receive(timeout=10)
    except ConnectionClosed as e:
        return e.rcvd.code if e.rcvd else None
    finally:
        widget.close()
    return None
