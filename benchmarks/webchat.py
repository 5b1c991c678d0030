#!/usr/bin/env python3
"""Web chat benchmark: 2,000 widget connections on one kefu process, messages both ways.

On PostgreSQL with Redis (a database of its own that this script drops and re-creates, and a
Redis database number of its own that it empties), it

1. prepares the schema, an admin, agents of one group and a web chat channel routed to it;
2. starts ONE ``kefu serve`` process (then, for the second run, TWO sharing Redis);
3. opens N visitor sessions and widget sockets (default 2,000) and a few agent sockets, and
   prints the server's resident memory per idle widget connection;
4. every visitor writes once, so that each has a conversation the agents can answer;
5. "steady": an open-loop generator sends R messages/s (default 200) for S seconds, half from
   visitors (a ``message`` frame on their socket) and half agents' replies (``POST
   /api/v1/tickets/{id}/messages``), on schedule whatever the answers;
   - visitor → agent: from the frame's send to the ``message.added`` event on an agent socket;
   - agent → visitor: from the POST's send to the ``message`` frame on the visitor's socket
     (the reply goes through the outbox, its relay and the web chat adapter);
6. prints p50/p99/max of both, the CPU seconds of kefu, PostgreSQL, Redis and this load
   generator, and the targets with PASS/FAIL (they hold for the one-process run; on two
   cores two processes contend, so that run reports CPU per message instead).

    .venv/bin/python benchmarks/webchat.py --quick      # 200 connections, 5 s
    .venv/bin/python benchmarks/webchat.py              # the acceptance run

Only 127.0.0.1 is contacted. The PostgreSQL database must not be named ``test``.
Exit status: 0 if the one-process targets are met, 1 if one is missed, 2 if set-up failed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import random
import resource
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import (  # noqa: E402 - the shared server and measuring tools of the intake benchmark
    Backend,
    PgBackends,
    cpu_seconds,
    kefu_server,
    make_text,
    percentile,
    postgres_backend,
    run_cli,
    self_cpu_seconds,
)

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/kefu_bench_chat"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
ORIGIN = "http://shop.bench.example"
TARGET_P99_MS = 200.0
AGENTS = 5
ALWAYS_OPEN = {"always_open": True}  # a benchmark runs at any hour
REPLIES = ["好的，这就为您查询。", "您好，已经为您登记，请稍候。", "感谢耐心等待，快递明天送到。"]


@dataclass
class Latencies:
    values: list[float] = field(default_factory=list)  # seconds
    lost: int = 0

    def summary(self) -> dict[str, Any]:
        done = sorted(self.values)
        ms = lambda s: round(s * 1000, 1)  # noqa: E731
        return {
            "n": len(done),
            "lost": self.lost,
            "p50_ms": ms(percentile(done, 50)),
            "p99_ms": ms(percentile(done, 99)),
            "max_ms": ms(done[-1]) if done else math.nan,
        }


@dataclass
class Run:
    """What one run sends and what it has heard so far."""

    visitor_sent: dict[str, float] = field(default_factory=dict)  # client id -> send time
    seq_of: dict[str, int] = field(default_factory=dict)  # client id -> message id
    client_of: dict[int, str] = field(default_factory=dict)  # message id -> client id
    heard_by_agents: dict[int, list[float]] = field(default_factory=dict)  # message id -> times
    reply_sent: dict[str, float] = field(default_factory=dict)  # token in the text -> send time
    to_agents: Latencies = field(default_factory=Latencies)
    to_visitors: Latencies = field(default_factory=Latencies)
    tickets: set[int] = field(default_factory=set)
    replies: int = 0  # agents' replies sent while measuring
    measuring: bool = False
    errors: list[str] = field(default_factory=list)

    def agent_heard(self, message_id: int, at: float) -> None:
        client = self.client_of.get(message_id)
        if client is None:  # the event came before the visitor's "accepted": match it then
            self.heard_by_agents.setdefault(message_id, []).append(at)
        else:
            self._count_to_agents(client, at)

    def accepted(self, client_id: str, seq: int) -> None:
        self.seq_of[client_id] = seq
        self.client_of[seq] = client_id
        for at in self.heard_by_agents.pop(seq, []):
            self._count_to_agents(client_id, at)

    def _count_to_agents(self, client_id: str, at: float) -> None:
        sent = self.visitor_sent.get(client_id)
        if sent is not None and self.measuring:
            self.to_agents.values.append(at - sent)


# --- set-up -----------------------------------------------------------------------------------


def prepare(backend: Backend, agents: int) -> dict[str, Any]:
    """Schema, an admin and agents with tokens; the group and channel come through the API."""
    run_cli(backend, "db", "upgrade")
    run_cli(
        backend,
        "user",
        "create",
        "admin@bench.example",
        "--role",
        "admin",
        "--password",
        "bench-pass-2026",
    )
    admin = run_cli(backend, "token", "create", "admin@bench.example").strip()
    tokens = []
    for i in range(agents):
        email = f"agent{i}@bench.example"
        run_cli(
            backend, "user", "create", email, "--role", "agent", "--password", "bench-pass-2026"
        )
        tokens.append(run_cli(backend, "token", "create", email).strip())
    return {"admin": admin, "agents": tokens}


async def make_channel(base: str, admin: str, agents: list[str]) -> str:
    """A group with every agent in it and a web chat channel routed to it; its key."""
    headers = {"Authorization": f"Bearer {admin}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.get(f"{base}/api/v1/users") as r:
            members = [u["id"] for u in await _json(r) if u["email"].startswith("agent")]
        group_body = {"name": "在线客服组", "member_ids": members, "calendar": ALWAYS_OPEN}
        async with http.post(f"{base}/api/v1/groups", json=group_body) as r:
            group = await _json(r)
        body = {"name": "压测商城", "allowed_origins": [ORIGIN], "group_id": group["id"]}
        async with http.post(f"{base}/api/v1/webchat/channels", json=body) as r:
            channel = await _json(r)
        for token in agents:  # 在线: they take chats
            mine = {"Authorization": f"Bearer {token}"}
            async with http.put(
                f"{base}/api/v1/users/me/status", json={"status": "online"}, headers=mine
            ) as r:
                await _json(r)
    return str(channel["key"])


async def _json(response: aiohttp.ClientResponse) -> Any:
    if response.status >= 300:
        raise SystemExit(
            f"{response.method} {response.url} → {response.status}: {await response.text()}"
        )
    return await response.json()


# --- the two kinds of socket --------------------------------------------------------------------


@dataclass
class Visitor:
    token: str
    ws: aiohttp.ClientWebSocketResponse
    reader: asyncio.Task[None] | None = None


def visitor_address(number: int) -> str:
    """A made-up address per visitor, passed on as a trusted proxy would: the per-address limits
    stay on, and thousands of visitors from one loopback address are not one abuser."""
    return f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}"


async def open_visitor(
    http: aiohttp.ClientSession, base: str, key: str, run: Run, number: int
) -> Visitor:
    headers = {"Origin": ORIGIN, "X-Forwarded-For": visitor_address(number)}
    async with http.post(f"{base}/chat/api/{key}/session", json={}, headers=headers) as r:
        session = await _json(r)
    token = session["visitor_token"]
    ws_url = base.replace("http://", "ws://") + f"/chat/ws/{key}"
    ws = await http.ws_connect(
        ws_url,
        protocols=("kefu", f"kefu.bearer.{token}"),  # as the widget sends it, never in the URL
        origin=ORIGIN,
        headers={"X-Forwarded-For": headers["X-Forwarded-For"]},
        heartbeat=None,
        max_msg_size=0,
    )
    await ws.send_str(json.dumps({"type": "hello", "last_seq": session.get("last_seq", 0)}))
    visitor = Visitor(token, ws)
    visitor.reader = asyncio.create_task(_read_visitor(visitor, run))
    return visitor


async def _read_visitor(visitor: Visitor, run: Run) -> None:
    async for frame in visitor.ws:
        if frame.type != aiohttp.WSMsgType.TEXT:
            continue
        at = time.perf_counter()
        data = json.loads(frame.data)
        kind = data.get("type")
        if kind == "accepted":
            run.accepted(data["client_id"], int(data["seq"]))
        elif kind == "message" and data["message"].get("from") == "agent":
            text = data["message"]["text"]
            token = text.rsplit("#", 1)[-1]
            sent = run.reply_sent.pop(token, None)
            if sent is not None and run.measuring:
                run.to_visitors.values.append(at - sent)
            await visitor.ws.send_str(json.dumps({"type": "ack", "seq": data["message"]["seq"]}))
        elif kind == "error":
            run.errors.append(f"visitor: {data}")


async def open_agent(
    http: aiohttp.ClientSession, base: str, token: str, run: Run
) -> asyncio.Task[None]:
    ws_url = base.replace("http://", "ws://") + "/api/v1/events"
    ws = await http.ws_connect(
        ws_url,
        headers={"Authorization": f"Bearer {token}"},
        origin=base,
        heartbeat=None,
        max_msg_size=0,
    )
    return asyncio.create_task(_read_agent(ws, run))


async def _read_agent(ws: aiohttp.ClientWebSocketResponse, run: Run) -> None:
    async for frame in ws:
        if frame.type != aiohttp.WSMsgType.TEXT:
            continue
        at = time.perf_counter()
        data = json.loads(frame.data)
        event = data.get("event") or {}
        if data.get("type") == "event" and event.get("event") == "message.added":
            if event.get("direction") == "inbound":
                run.tickets.add(int(event["ticket_id"]))
                run.agent_heard(int(event["message_id"]), at)


# --- the load ------------------------------------------------------------------------------------


async def visitor_writes(visitor: Visitor, run: Run, rng: random.Random) -> None:
    client_id = str(uuid.uuid4())
    run.visitor_sent[client_id] = time.perf_counter()
    await visitor.ws.send_str(
        json.dumps({"type": "message", "client_id": client_id, "text": make_text(rng)})
    )


async def agent_replies(
    http: aiohttp.ClientSession, base: str, admin: str, ticket: int, run: Run
) -> None:
    token = uuid.uuid4().hex[:12]
    body = {"text": f"{random.choice(REPLIES)} #{token}"}
    run.reply_sent[token] = time.perf_counter()
    run.replies += run.measuring
    async with http.post(
        f"{base}/api/v1/tickets/{ticket}/messages",
        json=body,
        headers={"Authorization": f"Bearer {admin}"},
    ) as r:
        if r.status >= 300:
            run.errors.append(f"reply {r.status}: {(await r.text())[:200]}")
            run.reply_sent.pop(token, None)


async def steady(
    bases: list[str], visitors: list[Visitor], admin: str, run: Run, rate: float, seconds: float
) -> None:
    """Open loop: one send every 1/rate s, visitors and agents in turn, never waiting for answers."""
    rng = random.Random(7)
    tickets = sorted(run.tickets)
    pending: set[asyncio.Task[None]] = set()
    connector = aiohttp.TCPConnector(limit=200)
    async with aiohttp.ClientSession(connector=connector) as http:
        start = time.perf_counter()
        total = int(rate * seconds)
        for i in range(total):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if i % 2 == 0:
                work = visitor_writes(rng.choice(visitors), run, rng)
            else:
                base = bases[(i // 2) % len(bases)]
                work = agent_replies(http, base, admin, rng.choice(tickets), run)
            task = asyncio.create_task(work)
            pending.add(task)
            task.add_done_callback(pending.discard)
        await asyncio.gather(*pending)
        await asyncio.sleep(2.0)  # the last ones' way back
    run.to_visitors.lost = len(run.reply_sent)
    heard = {c for c in run.visitor_sent if c in run.seq_of}
    run.to_agents.lost = len(run.visitor_sent) - len(heard)


# --- measuring -------------------------------------------------------------------------------------


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def redis_pid() -> int | None:
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError):
                if (proc / "comm").read_text().strip() == "redis-server":
                    return int(proc.name)
    return None


class Cpu:
    def __init__(self, pids: list[int], pg: PgBackends | None) -> None:
        self.pids, self.pg, self.redis = pids, pg, redis_pid()

    def snapshot(self) -> dict[str, float]:
        pg = self.pg.cpu() if self.pg else {}
        return {
            "kefu": sum(cpu_seconds(pid) for pid in self.pids),
            "postgres": sum(pg.values()),
            "redis": cpu_seconds(self.redis) if self.redis else math.nan,
            "load generator": self_cpu_seconds(),
        }


async def one_run(
    backend: Backend, secrets: dict[str, Any], processes: int, args: argparse.Namespace
) -> dict[str, Any]:
    run = Run()
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(kefu_server(backend)) for _ in range(processes)]
        pids = [proc.pid for proc, _ in servers]
        bases = [base for _, base in servers]
        key = args.channel_key or await make_channel(bases[0], secrets["admin"], secrets["agents"])
        args.channel_key = key
        cpu = Cpu(pids, backend.pg)
        http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        try:
            agents = [
                await open_agent(http, bases[i % len(bases)], token, run)
                for i, token in enumerate(secrets["agents"])
            ]
            rss0 = sum(rss_bytes(pid) for pid in pids)
            visitors: list[Visitor] = []
            for start in range(0, args.connections, 100):
                batch = range(start, min(start + 100, args.connections))
                visitors += await asyncio.gather(
                    *(open_visitor(http, bases[i % len(bases)], key, run, i) for i in batch)
                )
            await asyncio.sleep(1.0)
            rss1 = sum(rss_bytes(pid) for pid in pids)
            rng = random.Random(1)
            for start in range(0, len(visitors), 50):  # every visitor opens a conversation
                await asyncio.gather(
                    *(visitor_writes(v, run, rng) for v in visitors[start : start + 50])
                )
                await asyncio.sleep(0.25)
            deadline = time.monotonic() + 60
            while len(run.tickets) < len(visitors) * 0.95 and time.monotonic() < deadline:
                await asyncio.sleep(0.5)
            run.visitor_sent.clear()
            before = cpu.snapshot()
            run.measuring = True
            t0 = time.perf_counter()
            await steady(bases, visitors, secrets["admin"], run, args.rate, args.seconds)
            wall = time.perf_counter() - t0
            after = cpu.snapshot()
            for visitor in visitors:
                await visitor.ws.close()
            for task in agents:
                task.cancel()
        finally:
            await http.close()
    used = {name: round(after[name] - before[name], 2) for name in after}
    messages = len(run.visitor_sent) + run.replies  # sent both ways while measuring
    return {
        "processes": processes,
        "connections": args.connections,
        "rss_per_idle_connection_kib": round((rss1 - rss0) / max(1, args.connections) / 1024, 1),
        "visitor_to_agent": run.to_agents.summary(),
        "agent_to_visitor": run.to_visitors.summary(),
        "cpu_seconds": used,
        "wall_s": round(wall, 1),
        "kefu_cpu_ms_per_message": round(1000 * used["kefu"] / max(1, messages), 2),
        "errors": run.errors[:5],
    }


def show(result: dict[str, Any]) -> None:
    print(
        f"\n== {result['processes']} kefu process(es), {result['connections']} widget connections"
    )
    print(
        f"resident memory per idle widget connection: {result['rss_per_idle_connection_kib']} KiB"
    )
    for name in ("visitor_to_agent", "agent_to_visitor"):
        s = result[name]
        print(
            f"{name:18} n={s['n']:5}  lost={s['lost']:3}  p50={s['p50_ms']:7} ms  p99={s['p99_ms']:7} ms  max={s['max_ms']:7} ms  (target p99 < {TARGET_P99_MS:.0f} ms)"
        )
    print(
        "CPU seconds during the steady phase ("
        + f"{result['wall_s']} s): "
        + ", ".join(f"{k} {v}" for k, v in result["cpu_seconds"].items())
    )
    print(f"kefu CPU per message: {result['kefu_cpu_ms_per_message']} ms")
    for error in result["errors"]:
        print("error:", error)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=200.0, help="messages/s, both ways together")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--processes", default="1,2", help="the runs: how many kefu processes each")
    parser.add_argument("--quick", action="store_true", help="200 connections, 5 s")
    args = parser.parse_args()
    if args.quick:
        args.connections, args.seconds = 200, 5.0
    args.channel_key = None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))

    import redis

    redis.Redis.from_url(args.redis_url).flushdb()
    results = []
    with tempfile.TemporaryDirectory(prefix="kefu-webchat-bench-") as root:
        backend = postgres_backend(Path(root), args.pg_url)
        backend.env.update(
            KEFU_REDIS_URL=args.redis_url,
            KEFU_ALLOWED_ORIGINS="",
            KEFU_LOG_LEVEL="WARNING",
            KEFU_TRUSTED_PROXIES="127.0.0.1",  # the load generator stands in for a proxy
        )
        secrets = prepare(backend, AGENTS)
        for processes in (int(p) for p in args.processes.split(",")):
            results.append(asyncio.run(one_run(backend, secrets, processes, args)))
            show(results[-1])
    first = results[0]
    ok = all(
        first[k]["p99_ms"] < TARGET_P99_MS and first[k]["lost"] == 0
        for k in ("visitor_to_agent", "agent_to_visitor")
    )
    print(
        "\n"
        + ("PASS" if ok else "FAIL")
        + f": p99 both ways < {TARGET_P99_MS:.0f} ms with {first['processes']} process(es)"
    )
    print(json.dumps(results, ensure_ascii=False))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
