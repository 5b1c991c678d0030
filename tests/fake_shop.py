"""A shop's order system for the order lookup tests: a real HTTP server on loopback.

It checks kefu's signature as docs/order-lookup.md tells shops to (HMAC-SHA256 over
``f"{timestamp}.{body}"`` with the integration's signing secret, a timestamp within five
minutes; written here from the document, not imported from kefu), answers 401 to a request
that fails it, and otherwise answers from its ``orders`` (404 for one it does not have) or, when
``script`` has answers queued, the next of them (a status, a body, a delay).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_SKEW_SECONDS = 300


@dataclass
class Scripted:
    status: int = 200
    body: Any = None  # JSON, or bytes sent as they are
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeShop:
    secret: str = ""
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    script: list[Scripted] = field(default_factory=list)
    asked: list[dict[str, Any]] = field(default_factory=list)  # signed requests, in order
    refused: int = 0  # requests whose signature failed

    def __post_init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/kefu/orders"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def signed(self, timestamp: str, body: bytes, signature: str) -> bool:
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_SKEW_SECONDS:
            return False
        mac = hmac.new(self.secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
        return hmac.compare_digest(signature, "sha256=" + mac.hexdigest())


def _handler(shop: FakeShop) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802 - the http.server protocol
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            timestamp = self.headers.get("X-Kefu-Timestamp", "")
            if not shop.signed(timestamp, body, self.headers.get("X-Kefu-Signature", "")):
                shop.refused += 1
                return self._send(401, {"error": "bad signature"})
            asked = json.loads(body)
            shop.asked.append({**asked, "host": self.headers.get("Host")})
            if shop.script:
                answer = shop.script.pop(0)
                time.sleep(answer.delay)
                return self._send(answer.status, answer.body, answer.headers)
            order = shop.orders.get(asked.get("order_no", ""))
            if order is None:
                return self._send(404, {"error": "no such order"})
            return self._send(200, order)

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
            try:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)
            except (BrokenPipeError, ConnectionResetError):
                pass  # kefu gave up waiting (the timeout test)

    return Handler
