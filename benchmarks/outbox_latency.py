#!/usr/bin/env python3
"""How soon an agent's reply leaves: from ``POST /api/v1/tickets/{id}/messages`` to the
integration's callback receiving it (the outbox: enqueue, commit, wake-up, claim, signed POST).

One kefu app served by uvicorn in this process (its relay in a thread, as in ``kefu serve``), a
callback receiver on loopback, and N replies to api-channel cases, one after another (the
latency of a reply with nothing else going on) and then from C concurrent agents. Reports
p50/p90/p99/max in milliseconds, for SQLite (a fresh temporary data directory) and, with
``--pg URL``, a PostgreSQL database this script empties first (never one named ``test``).

    .venv/bin/python benchmarks/outbox_latency.py
    .venv/bin/python benchmarks/outbox_latency.py --replies 500 --concurrency 8 \\
        --pg postgresql+psycopg://postgres@127.0.0.1:5432/kefu_bench

Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import json
import logging
import socket
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import text
from sqlalchemy.engine import make_url

from kefu.app import create_app
from kefu.cli import SERVER_OPTIONS
from kefu.db import migrate
from kefu.db.engine import make_engine, make_session_factory, writer_bind
from kefu.domain.roles import Role
from kefu.services.actors import SYSTEM
from kefu.services.intake import integrations
from kefu.services.staff import auth
from kefu.services.staff import directory as staff
from kefu.settings import Settings

PROTECTED = {"test", "postgres", "template0", "template1"}


class Receiver:
    """Notes when each message id arrives (the first time)."""

    def __init__(self) -> None:
        self.arrived: dict[int, float] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                now = time.perf_counter()
                with receiver.lock:
                    receiver.arrived.setdefault(json.loads(body)["message_id"], now)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/cb"

    def wait(self, message_id: int, timeout: float = 30.0) -> float:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            with self.lock:
                if message_id in self.arrived:
                    return self.arrived[message_id]
            time.sleep(0.0005)
        raise TimeoutError(f"reply {message_id} never arrived")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare(url: str) -> None:
    if url.startswith("postgresql"):
        if make_url(url).database in PROTECTED:
            raise SystemExit(f"refusing to empty the database {make_url(url).database}")
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    migrate.upgrade(url)


def run(label: str, url: str, data_dir: Path, replies: int, concurrency: int) -> None:
    _prepare(url)
    receiver = Receiver()
    settings = Settings(env="test", data_dir=data_dir, database_url=url, log_level="WARNING")
    engine = make_engine(url)
    session = make_session_factory(writer_bind(engine))()
    admin = staff.do_create_user(session, SYSTEM, email="bench@example.cn", name="压测",
                                 role=Role.ADMIN, password="bench-password-1")  # fmt: skip
    session.flush()
    token, _ = auth.do_create_token(session, SYSTEM, admin, name="bench")
    shop, _, _ = integrations.do_create_integration(
        session, SYSTEM, name="压测店铺", channels=["api"], callback_url=receiver.url,
        secret_key=settings.secret_key,
    )  # fmt: skip
    session.commit()
    session.close()

    app = create_app(settings, engine=engine)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", **SERVER_OPTIONS))  # fmt: skip
    serving = threading.Thread(target=server.run, daemon=True)
    serving.start()
    while not server.started:
        time.sleep(0.01)
    base = f"http://127.0.0.1:{port}/api/v1"
    staff_client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"})
    shop_client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {shop}"})
    cases = []
    for i in range(max(concurrency, 1) * 4):
        posted = shop_client.post("/inbound", json={
            "channel": "api", "external_id": f"bench-{i}", "sender": {"external_id": f"buyer-{i}"},
            "text": "请问我的订单什么时候发货？"})  # fmt: skip
        cases.append(posted.json()["ticket_id"])

    after_answer: list[float] = []

    def one(i: int) -> float:
        started = time.perf_counter()
        made = staff_client.post(f"/tickets/{cases[i % len(cases)]}/messages",
                                 json={"text": f"您好，第{i}条回复"})  # fmt: skip
        answered = time.perf_counter()
        arrived = receiver.wait(made.json()["id"])
        after_answer.append((arrived - answered) * 1000)  # the outbox's part, roughly
        return (arrived - started) * 1000

    for i in range(20):  # warm up
        one(i)
    after_answer.clear()
    alone = [one(i) for i in range(replies)]
    alone_after = list(after_answer)
    with ThreadPoolExecutor(concurrency) as pool:
        together = list(pool.map(one, range(replies)))
    server.should_exit = True
    serving.join(timeout=30)  # the lifespan stops the relay before the data directory goes
    for name, sample in (
        ("one at a time", alone),
        ("  after the answer", alone_after),  # the callback may even come first (negative)
        (f"{concurrency} agents at once", together),
    ):
        cuts = statistics.quantiles(sample, n=100)
        print(f"{label:>10}  {name:<18} reply → callback ms: p50 {cuts[49]:6.1f}  p90 {cuts[89]:6.1f}"
              f"  p99 {cuts[98]:6.1f}  max {max(sample):6.1f}  (n={len(sample)})")  # fmt: skip
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--pg", help="a PostgreSQL URL to run on too (emptied first)")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        run("SQLite", f"sqlite:///{tmp}/kefu.db", Path(tmp), args.replies, args.concurrency)
    if args.pg:
        with tempfile.TemporaryDirectory() as tmp:
            run("PostgreSQL", args.pg, Path(tmp), args.replies, args.concurrency)


if __name__ == "__main__":
    main()
