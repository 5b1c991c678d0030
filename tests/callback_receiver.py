"""A test integration's callback endpoint: a real HTTP server on loopback.

It checks kefu's signature the way docs/callbacks.md tells integrators to (HMAC-SHA256 over
``f"{timestamp}.{body}"``, written here from the document, not imported from kefu) and shows
each ``Idempotency-Key`` once, as a receiver that dedupes does: what it accepted (signed, and
answered 2xx) is in ``shown``. What it answers is scripted:
a list of statuses, one per request (then 200), and an optional hook that runs when a request
arrives, before the answer (e.g. killing the relay that sent it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_SKEW_SECONDS = 300


@dataclass
class Post:
    key: str
    body: dict[str, Any]
    raw: bytes
    headers: dict[str, str]
    signature_ok: bool


@dataclass
class Answer:
    status: int = 200
    body: dict[str, Any] | None = None
    delay: float = 0.0  # seconds before answering (a slow receiver)


@dataclass
class CallbackReceiver:
    secret: str | None = None
    script: list[Answer] = field(default_factory=list)  # one per request, then 200
    on_post: Callable[[Post], None] | None = None
    posts: list[Post] = field(default_factory=list)
    # What it accepted (a signed post it answered 2xx), each key once, in arrival order.
    shown: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/kefu/callback"

    def __enter__(self) -> CallbackReceiver:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def keys(self) -> list[str]:
        with self._lock:
            return [p.key for p in self.posts]

    def wait_for(self, condition: Callable[[], bool], seconds: float = 60.0) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            assert time.monotonic() < deadline, f"timed out; posts so far: {self.keys()}"
            time.sleep(0.02)

    def _receive(self, raw: bytes, headers: dict[str, str]) -> Answer:
        post = Post(
            key=headers.get("idempotency-key", ""),
            body=json.loads(raw),
            raw=raw,
            headers=headers,
            signature_ok=self._signed(raw, headers),
        )
        with self._lock:
            self.posts.append(post)
            answer = self.script.pop(0) if self.script else Answer()
            accepted = 200 <= answer.status < 300 and post.signature_ok
            if accepted and post.key not in {s["idempotency_key"] for s in self.shown}:
                self.shown.append(post.body)
        if self.on_post is not None:
            self.on_post(post)
        return answer

    def _signed(self, raw: bytes, headers: dict[str, str]) -> bool:
        if self.secret is None:
            return False
        timestamp = headers.get("x-kefu-timestamp", "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_SKEW_SECONDS:
            return False
        expected = hmac.new(
            self.secret.encode(), timestamp.encode() + b"." + raw, hashlib.sha256
        ).hexdigest()
        return hmac.compare_digest(f"sha256={expected}", headers.get("x-kefu-signature", ""))


def _handler(receiver: CallbackReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 - the http.server name
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            answer = receiver._receive(raw, {k.lower(): v for k, v in self.headers.items()})
            if answer.delay:
                time.sleep(answer.delay)
            body = json.dumps(answer.body or {"ok": True}).encode()
            try:
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:  # the sender is gone (killed, or it gave up waiting)
                pass

        def log_message(self, *_: object) -> None:
            pass

    return Handler
