"""A local stand-in for WeChat's server API, a real HTTP server on loopback.

It speaks the endpoints kefu calls, as WeChat documents them: ``GET /cgi-bin/token`` (one valid
access token at a time, per AppID and AppSecret), ``POST /cgi-bin/message/custom/send`` and
``/cgi-bin/message/template/send`` (JSON, ``errcode`` 0 or an error), ``GET /cgi-bin/media/get``
(the file, or a JSON error as text/plain). It records every call and counts token requests,
and answers scripted errors on demand (``fail_next``). tests/channels/wechat/test_fake_wechat.py
checks it against wechatpy's client, so kefu is not tested against its own reading alone.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    body: dict[str, Any] | None
    accepted: bool = False  # answered errcode 0 (or the file)


@dataclass
class FakeWechat:
    app_id: str = "wx0123456789abcdef"
    app_secret: str = "s3cret-app-secret"
    token_delay: float = 0.0  # seconds before answering a token request (a slow WeChat)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # media_id → (bytes, type)
    calls: list[Call] = field(default_factory=list)
    token_requests: int = 0
    _failures: list[tuple[str, int | dict[str, Any]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens = itertools.count(1)
        self.valid_token: str | None = None
        self._msgids = itertools.count(1000)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeWechat:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail_next(self, path: str, answer: int | dict[str, Any]) -> None:
        """The next call of ``path`` answers ``answer``: an HTTP status, or a JSON body."""
        with self._lock:
            self._failures.append((path, answer))

    def revoke_token(self) -> None:
        """The current token stops working (WeChat answers 40001 until a new one is fetched)."""
        with self._lock:
            self.valid_token = None

    def sent(self, path: str = "/cgi-bin/message/custom/send") -> list[dict[str, Any]]:
        """The bodies of the calls of ``path`` it accepted, in order."""
        with self._lock:
            return [c.body or {} for c in self.calls if c.path == path and c.accepted]

    def wait_for(self, condition: Any, seconds: float = 30.0) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            assert time.monotonic() < deadline, f"timed out; calls: {self.calls}"
            time.sleep(0.02)

    # --- the endpoints ----------------------------------------------------------------------

    def answer(
        self, method: str, path: str, query: dict[str, str], raw: bytes
    ) -> tuple[int, str, bytes]:
        call = Call(method, path, query, json.loads(raw) if raw else None)
        with self._lock:
            self.calls.append(call)
        status, content_type, answer = self._answer(call)
        call.accepted = status == 200 and (
            b'"errcode": 0' in answer
            or not content_type.startswith(("application/json", "text/plain"))
        )
        return status, content_type, answer

    def _answer(self, call: Call) -> tuple[int, str, bytes]:
        method, path, query, body = call.method, call.path, call.query, call.body
        with self._lock:
            scripted = next((f for f in self._failures if f[0] == path), None)
            if scripted is not None:
                self._failures.remove(scripted)
        if scripted is not None:
            if isinstance(scripted[1], int):
                return scripted[1], "text/plain", b"scripted failure"
            return _json(scripted[1])
        if path == "/cgi-bin/token":
            return self._token(query)
        with self._lock:
            token_ok = (
                self.valid_token is not None and query.get("access_token") == self.valid_token
            )
        if not token_ok:
            return _json(
                {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"}
            )
        if path == "/cgi-bin/message/custom/send" and method == "POST":
            if not body or not body.get("touser") or body.get("msgtype") != "text":
                return _json({"errcode": 40008, "errmsg": "invalid message type"})
            return _json({"errcode": 0, "errmsg": "ok"})
        if path == "/cgi-bin/message/template/send" and method == "POST":
            if not body or not body.get("template_id"):
                return _json({"errcode": 40037, "errmsg": "invalid template_id"})
            return _json({"errcode": 0, "errmsg": "ok", "msgid": next(self._msgids)})
        if path == "/cgi-bin/media/get" and method == "GET":
            found = self.media.get(query.get("media_id", ""))
            if found is None:
                return (
                    200,
                    "text/plain",
                    json.dumps({"errcode": 40007, "errmsg": "invalid media_id"}).encode(),
                )
            return 200, found[1], found[0]
        return 404, "text/plain", b"not found"

    def _token(self, query: dict[str, str]) -> tuple[int, str, bytes]:
        if self.token_delay:
            time.sleep(self.token_delay)
        if query.get("appid") != self.app_id:
            return _json({"errcode": 40013, "errmsg": "invalid appid"})
        if query.get("secret") != self.app_secret or query.get("grant_type") != "client_credential":
            return _json({"errcode": 40125, "errmsg": "invalid appsecret"})
        with self._lock:
            self.token_requests += 1
            self.valid_token = f"ACCESS_TOKEN_{next(self._tokens)}"
            return _json({"access_token": self.valid_token, "expires_in": 7200})


def _json(body: dict[str, Any]) -> tuple[int, str, bytes]:
    return 200, "application/json; encoding=utf-8", json.dumps(body, ensure_ascii=False).encode()


def _handler(fake: FakeWechat) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            status, content_type, body = fake.answer(method, parts.path, query, raw)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            if content_type.startswith("image/"):
                self.send_header("Content-Disposition", 'attachment; filename="MEDIA.jpg"')
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 - the standard library's name
            self._serve("GET")

        def do_POST(self) -> None:  # noqa: N802 - the standard library's name
            self._serve("POST")

        def log_message(self, *_: Any) -> None:
            pass

    return Handler
