#!/usr/bin/env python3
"""The workspace at scale: inbox, ticket view and search with 100,000 tickets and 1,000,000
messages, on SQLite and on PostgreSQL, in one run, each figure beside its baseline and target.

The databases are made once by the generator (``kefu demo --tickets N --no-serve``) and kept
between runs: ``--sqlite`` (a file) and ``--pg-url`` (a database of its own on loopback). A run
upgrades their schema, builds the search index if it is missing, makes sure one ticket holds
200 messages, has PostgreSQL's planner statistics fresh (as autovacuum keeps them), then starts ``kefu serve`` on each and, signed in through the sign-in form as the
demo supervisor (who sees every ticket):

- **inbox**: the first page of each view (``/inbox?view=…``), ``--requests`` times each;
- **ticket**: ``/tickets/{id}`` of the ticket with 200 messages;
- **search**: ``/search?q=`` for 200 queries sampled from message text (benchmarks/search_recall.py),
  and recall: the messages the index finds against what a ``LIKE '%q%'`` scan finds;
- **assets**: the bytes of JavaScript and CSS each page loads.

Times are server time, read from kefu's ``Server-Timing`` header (the network and this client
are not counted); the baseline beside them is ``/healthz`` (the HTTP stack without a page) and,
for search, the ``LIKE`` scan. Targets (issue 19): inbox and ticket p95 < 100 ms, search p95 <
200 ms, recall ≥ 99 %, under 150 KB of JS and CSS per page. The last line is one JSON object.

    .venv/bin/python benchmarks/workspace.py                       # both backends
    .venv/bin/python benchmarks/workspace.py --backends sqlite --requests 30
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

HERE = Path(__file__).resolve().parent
KEFU = Path(sys.executable).with_name("kefu")
DEFAULT_SQLITE = HERE.parent / "bench-data" / "workspace.db"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/kefu_bench_workspace"
SUPERVISOR = "chen.jing@demo.kefu"
PASSWORD = "lotus-window-2026"
VIEWS = ("all", "mine", "groups", "unassigned", "sla_risk", "p1", "waiting", "resolved")
TARGETS = {"page_p95_ms": 100.0, "search_p95_ms": 200.0, "recall": 0.99, "assets_kb": 150.0}


def _recall_module() -> Any:
    spec = importlib.util.spec_from_file_location("search_recall", HERE / "search_recall.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _env(url: str, data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "KEFU_DATABASE_URL": url,
        "KEFU_DATA_DIR": str(data_dir),
        "KEFU_SLA_SWEEP_IN_SERVER": "false",  # measure the pages, not a sweep running beside them
        "KEFU_LOG_LEVEL": "WARNING",
    }


def _kefu(url: str, data_dir: Path, *args: str) -> None:
    subprocess.run([str(KEFU), *args], env=_env(url, data_dir), check=True)


def prepare(url: str, tickets: int, data_dir: Path) -> dict[str, Any]:
    """Generate once, upgrade, index for search if needed, and give one ticket 200 messages."""
    from kefu.db.engine import make_engine
    from kefu.db.models import Message, Ticket

    if url.startswith("postgresql"):
        parsed = make_url(url)
        if parsed.host not in ("127.0.0.1", "localhost", "::1") or parsed.database in (
            "test",
            "postgres",
        ):
            raise SystemExit("refusing: a benchmark database of its own on loopback only")
        import psycopg

        with psycopg.connect(
            host=parsed.host, user=parsed.username or "postgres", dbname="postgres", autocommit=True
        ) as conn:
            if not conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)
            ).fetchone():
                conn.execute(f'CREATE DATABASE "{parsed.database}"')
    _kefu(url, data_dir, "db", "upgrade")
    engine = make_engine(url)
    with engine.connect() as conn:
        have = conn.scalar(select(func.count()).select_from(Ticket)) or 0
    if have < tickets:
        print(f"generating {tickets - have:,} tickets into {url} (once; kept for later runs)…")
        _kefu(url, data_dir, "demo", "--no-serve", "--tickets", str(tickets - have))
    with engine.connect() as conn:
        indexed = conn.scalar(text("SELECT count(*) FROM search_documents")) or 0
        messages = conn.scalar(select(func.count()).select_from(Message)) or 0
        total = conn.scalar(select(func.count()).select_from(Ticket)) or 0
    if indexed < messages:
        print("building the search index (once)…")
        _kefu(url, data_dir, "search", "reindex")
    with engine.begin() as conn:
        row = conn.execute(
            select(Message.ticket_id, func.count())
            .group_by(Message.ticket_id)
            .order_by(func.count().desc())
            .limit(1)
        ).one()
        ticket_id, count = row
        if count < 200:  # copies of its own messages, later in time
            ids = list(
                conn.scalars(
                    select(Message.id).where(Message.ticket_id == ticket_id).order_by(Message.id)
                )
            )
            columns = [c.name for c in Message.__table__.columns if c.name != "id"]
            names = ", ".join(columns)
            chosen = ", ".join("NULL" if c == "external_id" else c for c in columns)
            copy = f"INSERT INTO messages ({names}) SELECT {chosen} FROM messages WHERE id = :id"  # noqa: S608
            for n in range(200 - count):
                conn.execute(
                    text(copy),
                    {"id": ids[n % len(ids)]},
                )
    if url.startswith("postgresql"):  # planner statistics, as autovacuum keeps them in use
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    engine.dispose()
    return {"tickets": total, "messages": messages + max(0, 200 - count), "ticket_200": ticket_id}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_ms(answer: httpx.Response) -> float:
    return float(answer.headers["server-timing"].partition("dur=")[2])


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _stats(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(statistics.median(values), 1),
        "p95": round(_p(values, 0.95), 1),
        "max": round(max(values), 1),
    }


def _sign_in(client: httpx.Client) -> None:
    page = client.get("/login")
    token = re.search(r'name="sign_in_token" value="([^"]+)"', page.text)
    assert token, "no sign-in form"
    answer = client.post(
        "/login",
        data={"email": SUPERVISOR, "password": PASSWORD, "sign_in_token": token.group(1)},
        headers={"Origin": str(client.base_url).rstrip("/")},
    )
    assert answer.status_code == 303, answer.text[:300]


def _asset_kb(client: httpx.Client, html: str) -> float:
    paths = set(re.findall(r'(?:src|href)="(/static/[^"]+\.(?:js|css)\?v=[0-9a-f]+)"', html))
    return round(sum(len(client.get(p).content) for p in paths) / 1024, 1)


def measure(
    url: str, data_dir: Path, facts: dict[str, Any], args: argparse.Namespace
) -> dict[str, Any]:
    port = _free_port()
    server = subprocess.Popen(
        [str(KEFU), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=_env(url, data_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    result: dict[str, Any] = {}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            for _ in range(120):
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.5)
            _sign_in(client)
            warm = args.requests // 5 + 1
            result["baseline_healthz"] = _stats(
                [_server_ms(client.get("/healthz")) for _ in range(args.requests)]
            )
            inbox: list[float] = []
            per_view = {}
            for view in VIEWS:
                for _ in range(warm):
                    client.get("/inbox", params={"view": view})
                times = [
                    _server_ms(client.get("/inbox", params={"view": view}))
                    for _ in range(args.requests)
                ]
                per_view[view] = _stats(times)["p95"]
                inbox += times
            result["inbox"] = {**_stats(inbox), "p95_by_view": per_view}
            ticket_path = f"/tickets/{facts['ticket_200']}"
            for _ in range(warm):
                client.get(ticket_path)
            result["ticket_view"] = _stats(
                [_server_ms(client.get(ticket_path)) for _ in range(args.requests)]
            )
            recall = _recall_module()
            from kefu.db.engine import make_engine, make_session_factory
            from kefu.services.actors import SYSTEM
            from kefu.services.search import queries as search_queries
            from kefu.services.search.index import MESSAGE
            from kefu.services.search.tokens import parse_query

            engine = make_engine(url)
            session = make_session_factory(engine)()
            sampled = recall.sample_queries(session, args.queries, random.Random(args.seed))
            search_times, like_times, found, wanted = [], [], 0, 0
            for query in sampled:
                search_times.append(
                    _server_ms(client.get("/search", params={"q": query, "scope": "tickets"}))
                )
                started = time.perf_counter()
                like = recall.like_ids(session, SYSTEM, query)
                like_times.append((time.perf_counter() - started) * 1000)
                hits = set(
                    search_queries.matching_ids(session, SYSTEM, parse_query(query), MESSAGE)
                )
                session.rollback()
                wanted += len(like)
                found += len(like & hits)
            session.close()
            engine.dispose()
            result["search"] = {**_stats(search_times), "queries": len(sampled)}
            result["baseline_like_scan"] = _stats(like_times)
            result["recall"] = round(found / wanted, 4) if wanted else 1.0
            result["assets_kb"] = {
                name: _asset_kb(client, client.get(path).text)
                for name, path in (
                    ("inbox", "/inbox"),
                    ("ticket", ticket_path),
                    ("search", "/search?q=退款"),
                    ("board", "/board"),
                    ("admin", "/admin/routing"),
                )
            }
    finally:
        server.terminate()
        server.wait(timeout=30)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--sqlite", type=Path, default=DEFAULT_SQLITE)
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(
        f"load average at start: {load:.1f} on {os.cpu_count()} CPUs (figures are pessimistic above ~1)"
    )
    report: dict[str, Any] = {"load_average": round(load, 1)}
    ok = True
    for backend in args.backends.split(","):
        if backend == "sqlite":
            args.sqlite.parent.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{args.sqlite}"
        else:
            url = args.pg_url
        data_dir = (
            args.sqlite.parent if backend == "sqlite" else HERE.parent / "bench-data"
        ) / f"{backend}-data"
        data_dir.mkdir(parents=True, exist_ok=True)
        facts = prepare(url, args.tickets, data_dir)
        figures = measure(url, data_dir, facts, args)
        report[backend] = {**facts, **figures}
        checks = {
            "inbox p95 < 100 ms": figures["inbox"]["p95"] < TARGETS["page_p95_ms"],
            "ticket (200 messages) p95 < 100 ms": figures["ticket_view"]["p95"]
            < TARGETS["page_p95_ms"],
            "search p95 < 200 ms": figures["search"]["p95"] < TARGETS["search_p95_ms"],
            "recall vs LIKE >= 99 %": figures["recall"] >= TARGETS["recall"],
            "JS+CSS < 150 KB per page": max(figures["assets_kb"].values()) < TARGETS["assets_kb"],
        }
        print(f"\n== {backend}: {facts['tickets']:,} tickets, {facts['messages']:,} messages")
        print(
            f"  baseline /healthz        p50 {figures['baseline_healthz']['p50']} ms  p95 {figures['baseline_healthz']['p95']} ms"
        )
        print(
            f"  inbox (8 views)          p50 {figures['inbox']['p50']} ms  p95 {figures['inbox']['p95']} ms  by view {figures['inbox']['p95_by_view']}"
        )
        print(
            f"  ticket, 200 messages     p50 {figures['ticket_view']['p50']} ms  p95 {figures['ticket_view']['p95']} ms"
        )
        print(
            f"  search                   p50 {figures['search']['p50']} ms  p95 {figures['search']['p95']} ms  ({figures['search']['queries']} queries)"
        )
        print(
            f"  baseline LIKE scan       p50 {figures['baseline_like_scan']['p50']} ms  p95 {figures['baseline_like_scan']['p95']} ms"
        )
        print(f"  recall vs LIKE           {figures['recall']:.2%}")
        print(f"  JS+CSS per page (KB)     {figures['assets_kb']}")
        for name, passed in checks.items():
            print(f"  {'PASS' if passed else 'FAIL'}  {name}")
            ok = ok and passed
    print(json.dumps(report, ensure_ascii=False))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
