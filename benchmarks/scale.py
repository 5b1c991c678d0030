#!/usr/bin/env python3
"""Scale benchmark: the whole deployment of docs/deployment.md driven through nginx.

For each count of API processes in ``--api`` (default ``1,2``) it

1. re-creates its own PostgreSQL database (default ``kefu_bench_scale``; never ``test``) and
   upgrades it with ``deploy/kefu-start migrate``; makes a group, an admin, agents, a web chat
   channel, an integration, a signed-webhook source and a WeChat account;
2. starts N ``kefu serve`` and ``--workers`` ``kefu worker`` with deploy/kefu-start (Redis db 12,
   a stream of its own) and a private nginx from deploy/nginx/kefu.conf (https, round robin);
3. connects ``--visitors`` chat widgets (sessions and sockets through nginx) and the agents'
   sockets, warms up, then for ``--seconds`` (default 180) keeps ``--concurrency`` requests of
   each kind in flight (closed loop):
   - ``webchat``: a visitor's message frame → its ``accepted`` frame;
   - ``api``: ``POST /api/v1/inbound`` by the integration → 201;
   - ``webhook``: a signed ``sms.received`` (Standard Webhooks) → 200;
   - ``wechat``: a follower's text message, signed as WeChat signs it → 200;
   - ``reply``: an agent's reply ``POST /api/v1/tickets/{id}/messages`` → 201;
4. prints per operation: done, per second, p50/p99 latency and errors; the database
   connections in use (pg_stat_activity, sampled every second); the CPU seconds and peak RSS
   of every process (kefu, nginx, PostgreSQL backends, Redis, this load generator, from /proc);
   and "lost or duplicated: N": every message carries a tag, and the tags acknowledged are
   compared with the tags stored (an acknowledged message missing, or stored twice);
5. prints the runs side by side with the ratio, and one line of JSON with every figure.

    .venv/bin/python benchmarks/scale.py --seconds 20          # a short run
    .venv/bin/python benchmarks/scale.py                       # 180 s with 1 and with 2 API processes

The load generator runs on the same machine: on 2 cores everything contends for them, so the
figures to carry over are the CPU seconds per operation (docs/deployment.md, the capacity model).
Only loopback is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import math
import os
import random
import re
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(REPO))
from ingest import (  # noqa: E402 - the measuring tools of the intake benchmark
    PgBackends,
    cpu_seconds,
    machine_busy_seconds,
    make_text,
    percentile,
    postgres_backend,
    self_cpu_seconds,
    stop_process,
)
from tests.deploy.stack import (  # noqa: E402 - the deployment as tests/deploy starts it
    BROWSER,
    PROXY_PEER,
    START_SCRIPT,
    configure_nginx,
    free_port,
    internal_tls,
    kefu_tls,
    make_tls,
)

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/kefu_bench_scale"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
OPS = ("webchat", "api", "webhook", "wechat", "reply")
TAG_LETTER = {"webchat": "w", "api": "a", "webhook": "h", "wechat": "x", "reply": "r"}
REPLIES = ["好的，这就为您查询。", "您好，已经为您登记，请稍候。", "感谢耐心等待，快递明天送到。"]
AGENTS = 3
TIMEOUT_S = 30.0
UNLIMITED = "1000000"  # the per-visitor, per-address and per-source limits: every load comes from one address


# --- the stack ------------------------------------------------------------------------------


@dataclass
class Setup:
    admin: str
    agents: list[str]
    channel_key: str
    integration: str
    webhook_key: str
    webhook_secret: str
    wechat_key: str


def prepare(database_url: str, secret_key: str) -> Setup:
    """What the load needs, made through kefu's services (as an admin would through the API).
    The WeChat account's API address is a closed loopback port (nothing is sent to WeChat)."""
    os.environ["KEFU_OUTBOUND_ALLOW_HOSTS"] = "127.0.0.1"
    os.environ["KEFU_OUTBOUND_HTTP_HOSTS"] = "127.0.0.1"  # the local fakes answer plain http
    from tests import factories, wechat_peer

    from kefu.db.engine import make_engine
    from kefu.db.session import session_scope
    from kefu.services.actors import SYSTEM
    from kefu.services.webhooks import sources

    engine = make_engine(database_url)
    try:
        with session_scope(engine) as db:
            group = factories.make_group(db, "压测组", calendar={"always_open": True})
            admin = factories.make_token(db, factories.make_user(db, role="admin"))
            agents = [
                factories.make_token(db, factories.make_user(db, groups=[group]))
                for _ in range(AGENTS)
            ]
            channel = factories.make_webchat_channel(
                db, name="压测商城", group_id=group.id, secret_key=secret_key
            )
            integration = factories.make_integration(db, channels=["api"])
            secret, source = sources.do_create_source(
                db, SYSTEM, name="短信网关", kinds=["sms.received"], group_id=group.id,
                secret_key=secret_key,
            )  # fmt: skip
            db.commit()
            account = wechat_peer.make_account(db, secret_key)
            return Setup(admin, agents, channel.key, integration, source.key, secret, account.key)
    finally:
        engine.dispose()


@dataclass
class Stack:
    proxy: str
    tls: Any
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    folder: Path = Path()


def _wait_up(url: str, process: subprocess.Popen[bytes], log: Path, tls: Any = None) -> None:
    import httpx

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{log.name} exited:\n{log.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2, verify=tls or True).status_code == 200:
                return
        time.sleep(0.3)
    raise SystemExit(f"{url} did not answer:\n{log.read_text(errors='replace')[-3000:]}")


def start_stack(folder: Path, env: dict[str, str], apis: int, workers: int) -> Stack:
    _, _, tls = make_tls(folder)
    https_port, http_port = free_port(), free_port()
    stack = Stack(f"https://127.0.0.1:{https_port}", tls, folder=folder)

    def start(name: str, role: str, extra: dict[str, str]) -> subprocess.Popen[bytes]:
        with (folder / f"{name}.log").open("wb") as log:
            stack.processes[name] = subprocess.Popen(  # noqa: S603 - our own script
                [str(START_SCRIPT), role], env={**env, **extra}, stdout=log,
                stderr=subprocess.STDOUT, cwd=folder, start_new_session=True,
            )  # fmt: skip
        return stack.processes[name]

    ports = [free_port() for _ in range(apis)]
    for n, port in enumerate(ports, 1):
        # https with the internal CA's certificate: nginx verifies it (deploy/nginx/kefu.conf).
        start(f"serve-{n}", "serve", {"KEFU_PORT": str(port), **kefu_tls(folder)})
    for n, port in enumerate(ports, 1):
        _wait_up(f"https://127.0.0.1:{port}/readyz", stack.processes[f"serve-{n}"], folder / f"serve-{n}.log", internal_tls(folder))  # fmt: skip
    for n in range(1, workers + 1):
        start(f"worker-{n}", "worker", {})
    command = configure_nginx(folder, ports, https_port, http_port)
    with (folder / "nginx.log").open("wb") as log:
        stack.processes["nginx"] = subprocess.Popen(command, stdout=log, stderr=log)  # noqa: S603
    _wait_up(f"{stack.proxy}/healthz", stack.processes["nginx"], folder / "nginx.log", tls)
    return stack


# --- the load -------------------------------------------------------------------------------


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_errors: list[str] = field(default_factory=list)
    acked: list[str] = field(default_factory=list)  # tags of what kefu acknowledged

    def error(self, what: str) -> None:
        self.errors += 1
        if len(self.first_errors) < 3:
            self.first_errors.append(what[:200])


@dataclass
class Load:
    setup: Setup
    proxy: str
    measuring: bool = False
    tallies: dict[str, Tally] = field(default_factory=lambda: {op: Tally() for op in OPS})
    tickets: list[int] = field(default_factory=list)
    heard: int = 0  # events the agents' sockets received
    counter: int = 0
    issued: set[str] = field(default_factory=set)  # tags sent while measuring
    rss_per_widget: float = 0.0  # bytes the servers grew by per widget connected

    def tag(self, op: str) -> str:
        self.counter += 1
        tag = f"{TAG_LETTER[op]}{self.counter}"
        if self.measuring:
            self.issued.add(tag)
        return tag

    def done(self, op: str, started: float, tag: str | None) -> None:
        if self.measuring:
            tally = self.tallies[op]
            tally.latencies.append(time.perf_counter() - started)
            if tag:
                tally.acked.append(tag)

    def failed(self, op: str, what: str) -> None:
        if self.measuring:
            self.tallies[op].error(what)


class Visitor:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            frame = json.loads(message.data)
            waiting = self.waiting.pop(str(frame.get("client_id", "")), None)
            if waiting and not waiting.done():
                waiting.set_result(frame)


async def open_visitor(http: aiohttp.ClientSession, load: Load) -> Visitor:
    key = load.setup.channel_key
    async with http.post(f"{load.proxy}/chat/api/{key}/session", json={}) as r:
        if r.status != 200:
            raise SystemExit(f"a visitor's session: {r.status} {(await r.text())[:300]}")
        session = await r.json()
    url = load.proxy.replace("https", "wss", 1) + f"/chat/ws/{key}"
    # The visitor token as the widget sends it: a subprotocol, never in the URL.
    protocols = ("kefu", f"kefu.bearer.{session['visitor_token']}")
    ws = await http.ws_connect(url, protocols=protocols, heartbeat=None)
    await ws.send_str(json.dumps({"type": "hello", "last_seq": 0}))
    return Visitor(ws)


async def agent_socket(http: aiohttp.ClientSession, load: Load, token: str) -> None:
    url = load.proxy.replace("https", "wss", 1) + "/api/v1/events"
    async with http.ws_connect(url, headers={"Authorization": f"Bearer {token}"}) as ws:
        await ws.send_str(json.dumps({"type": "hello"}))
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            frame = json.loads(message.data)
            if frame.get("type") == "event":
                load.heard += 1
                event = frame["event"]
                if event.get("event") == "message.added" and event.get("direction") == "inbound":
                    load.tickets.append(int(event["ticket_id"]))
                    del load.tickets[:-2000]


async def webchat_loop(
    load: Load, visitors: list[Visitor], rng: random.Random, stop: float
) -> None:
    while time.perf_counter() < stop:
        visitor = rng.choice(visitors)
        tag, client_id = load.tag("webchat"), uuid.uuid4().hex
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        visitor.waiting[client_id] = answer
        started = time.perf_counter()
        frame = {"type": "message", "client_id": client_id, "text": f"{make_text(rng)} #{tag}"}
        try:
            await visitor.ws.send_str(json.dumps(frame, ensure_ascii=False))
            got = await asyncio.wait_for(answer, TIMEOUT_S)
        except (TimeoutError, ConnectionError, aiohttp.ClientError) as e:
            load.failed("webchat", repr(e))
            continue
        if got.get("type") == "accepted":
            load.done("webchat", started, tag)
        else:
            load.failed("webchat", json.dumps(got, ensure_ascii=False))


async def _post(
    http: aiohttp.ClientSession, load: Load, op: str, tag: str | None, url: str, **kwargs: Any
) -> Any:
    started = time.perf_counter()
    try:
        async with http.post(url, timeout=aiohttp.ClientTimeout(total=TIMEOUT_S), **kwargs) as r:
            body = await r.text()
            if r.status >= 300:
                load.failed(op, f"{r.status} {body}")
                return None
    except (TimeoutError, aiohttp.ClientError) as e:
        load.failed(op, repr(e))
        return None
    load.done(op, started, tag)
    return json.loads(body) if body.startswith("{") else body


async def api_loop(
    http: aiohttp.ClientSession, load: Load, rng: random.Random, stop: float
) -> None:
    headers = {"Authorization": f"Bearer {load.setup.integration}"}
    while time.perf_counter() < stop:
        tag = load.tag("api")
        body = {
            "channel": "api", "external_id": f"bench-{tag}",
            "sender": {"external_id": f"buyer-{rng.randrange(500)}", "name": "顾客"},
            "text": f"{make_text(rng)} #{tag}",
        }  # fmt: skip
        answer = await _post(http, load, "api", tag, f"{load.proxy}/api/v1/inbound", json=body, headers=headers)  # fmt: skip
        if answer:
            load.tickets.append(int(answer["ticket_id"]))


def webhook_headers(secret: str, event_id: str, body: bytes) -> dict[str, str]:
    """Standard Webhooks signing (docs/webhooks.md), written from the document."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    timestamp = str(int(time.time()))
    mac = hmac.new(key, f"{event_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return {
        "webhook-id": event_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": "v1," + base64.b64encode(mac).decode(),
        "Content-Type": "application/json",
    }


async def webhook_loop(http: aiohttp.ClientSession, load: Load, rng: random.Random, stop: float) -> None:  # fmt: skip
    url = f"{load.proxy}/api/v1/channels/webhook/{load.setup.webhook_key}"
    while time.perf_counter() < stop:
        tag = load.tag("webhook")
        data = {"id": f"sms-{tag}", "from": f"+86138{rng.randrange(10**8):08d}", "text": f"{make_text(rng)} #{tag}"}  # fmt: skip
        event = {"type": "sms.received", "timestamp": datetime.now(UTC).isoformat(), "data": data}
        body = json.dumps(event, ensure_ascii=False).encode()
        headers = webhook_headers(load.setup.webhook_secret, f"msg_{tag}", body)
        answer = await _post(http, load, "webhook", tag, url, data=body, headers=headers)
        if answer and answer.get("ticket_id"):
            load.tickets.append(int(answer["ticket_id"]))


async def wechat_loop(http: aiohttp.ClientSession, load: Load, rng: random.Random, stop: float) -> None:  # fmt: skip
    from tests.wechat_peer import Peer, message_xml

    peer = Peer()
    url = f"{load.proxy}/api/v1/channels/wechat/{load.setup.wechat_key}"
    while time.perf_counter() < stop:
        tag = load.tag("wechat")
        xml = message_xml(
            openid=f"o-bench-{rng.randrange(500)}", Content=f"{make_text(rng)} #{tag}"
        )
        query, body = peer.plain(xml)
        await _post(http, load, "wechat", tag, url, params=query, data=body)


async def reply_loop(http: aiohttp.ClientSession, load: Load, rng: random.Random, stop: float) -> None:  # fmt: skip
    headers = {"Authorization": f"Bearer {load.setup.admin}"}  # any case, whichever group
    while time.perf_counter() < stop:
        if not load.tickets:
            await asyncio.sleep(0.1)
            continue
        tag = load.tag("reply")
        ticket = rng.choice(load.tickets)
        body = {"text": f"{rng.choice(REPLIES)} #{tag}"}
        url = f"{load.proxy}/api/v1/tickets/{ticket}/messages"
        await _post(http, load, "reply", tag, url, json=body, headers=headers)


async def drive(load: Load, tls: Any, args: argparse.Namespace, sampler: Sampler) -> float:
    """Connect, warm up, measure; the measured seconds."""
    rng = random.Random(25)
    connector = aiohttp.TCPConnector(limit=0, ssl=tls, local_addr=(BROWSER, 0))
    async with aiohttp.ClientSession(connector=connector) as http:
        agents = [asyncio.create_task(agent_socket(http, load, t)) for t in load.setup.agents]
        before = sampler.servers_rss()
        visitors = [await open_visitor(http, load) for _ in range(args.visitors)]
        await asyncio.sleep(1.0)  # every hello answered
        load.rss_per_widget = (sampler.servers_rss() - before) / max(1, args.visitors)
        loops = {
            "webchat": lambda stop: webchat_loop(load, visitors, rng, stop),
            "api": lambda stop: api_loop(http, load, rng, stop),
            "webhook": lambda stop: webhook_loop(http, load, rng, stop),
            "wechat": lambda stop: wechat_loop(http, load, rng, stop),
            "reply": lambda stop: reply_loop(http, load, rng, stop),
        }

        async def phase(seconds: float) -> None:
            stop = time.perf_counter() + seconds
            await asyncio.gather(*(loops[op](stop) for op in OPS for _ in range(args.concurrency)))

        await phase(args.warmup)
        load.measuring = True
        sampler.begin()
        sampling = asyncio.create_task(sampler.run())
        started = time.perf_counter()
        await phase(args.seconds)
        measured = time.perf_counter() - started
        sampler.end()
        sampling.cancel()
        load.measuring = False
        for visitor in visitors:
            await visitor.ws.close()
        for task in agents:
            task.cancel()
    return measured


# --- measuring -------------------------------------------------------------------------------


def rss_bytes(pid: int) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def redis_pids() -> list[int]:
    pids = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        with contextlib.suppress(OSError):
            if comm.read_text().strip() == "redis-server":
                pids.append(int(comm.parent.name))
    return pids


class Sampler:
    """CPU seconds over the measured window, peak RSS and database connections (every second)."""

    def __init__(self, stack: Stack, pg: PgBackends, database: str) -> None:
        self.stack, self.pg, self.database = stack, pg, database
        self.connections: list[int] = []
        self.rss: Counter[str] = Counter()

    def groups(self) -> dict[str, list[int]]:
        found = {name: [p.pid] for name, p in self.stack.processes.items() if name != "nginx"}
        nginx = self.stack.processes["nginx"].pid
        found["nginx"] = [nginx, *children(nginx)]
        found["redis"] = redis_pids()
        return found

    def servers_rss(self) -> int:
        return sum(
            rss_bytes(p.pid) for n, p in self.stack.processes.items() if n.startswith("serve")
        )

    def cpu(self) -> dict[str, float]:
        now = {name: sum(cpu_seconds(pid) for pid in pids) for name, pids in self.groups().items()}
        now["postgres"] = sum(self.pg.cpu().values())
        now["load generator"] = self_cpu_seconds()
        return now

    def begin(self) -> None:
        self.cpu0, self.pg0 = self.cpu(), self.pg.cpu()
        self.machine0 = machine_busy_seconds()

    def end(self) -> None:
        cpu1, pg1 = self.cpu(), self.pg.cpu()
        self.used = {name: cpu1[name] - self.cpu0.get(name, 0.0) for name in cpu1}
        self.used["postgres"] = sum(v - self.pg0.get(pid, 0.0) for pid, v in pg1.items())
        # Everything else on the machine (other people's work): the figures are skewed by it.
        machine = machine_busy_seconds() - self.machine0
        self.used["other processes"] = max(0.0, machine - sum(self.used.values()))

    async def run(self) -> None:
        import psycopg

        connect = {**self.pg.connect, "dbname": "postgres", "autocommit": True}
        with psycopg.connect(**connect) as conn:
            while True:
                (count,) = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (self.database,)
                ).fetchone() or (0,)
                self.connections.append(int(count))
                for name, pids in self.groups().items():
                    self.rss[name] = max(self.rss[name], sum(rss_bytes(p) for p in pids))
                self.rss["load generator"] = max(self.rss["load generator"], rss_bytes(os.getpid()))  # fmt: skip
                await asyncio.sleep(1.0)


def stored_tags(database_url: str) -> Counter[str]:
    """How many times each tag is stored in a message (the tag ends the text)."""
    from sqlalchemy import text

    from kefu.db.engine import make_engine

    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT body_text FROM messages WHERE body_text LIKE '%#%'")
            ).scalars()
            found: Counter[str] = Counter()
            for body in rows:
                match = re.search(r"#([whaxr]\d+)\s*$", body or "")
                if match:
                    found[match.group(1)] += 1
            return found
    finally:
        engine.dispose()


# --- one run ---------------------------------------------------------------------------------


def one_run(args: argparse.Namespace, apis: int, root: Path) -> dict[str, Any]:
    folder = root / f"api-{apis}"
    folder.mkdir()
    backend = postgres_backend(folder, args.pg_url)  # dropped and re-created
    assert backend.pg is not None
    secret_key = secrets.token_urlsafe(32)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("KEFU_")},
        "KEFU_PYTHON": sys.executable,
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
        "KEFU_ENV": "production",
        "KEFU_SECRET_KEY": secret_key,
        "KEFU_DATABASE_URL": args.pg_url,
        "KEFU_REDIS_URL": args.redis_url,
        "KEFU_EVENT_STREAM": f"kefu:bench:scale:{uuid.uuid4().hex[:8]}",
        "KEFU_DATA_DIR": str(folder / "data"),
        "KEFU_TRUSTED_PROXIES": PROXY_PEER,
        "KEFU_OUTBOUND_ALLOW_HOSTS": "127.0.0.1",
        "KEFU_OUTBOUND_HTTP_HOSTS": "127.0.0.1",
        "KEFU_LOG_LEVEL": "WARNING",
        "KEFU_WEBCHAT_MESSAGES_PER_MINUTE": UNLIMITED,
        "KEFU_WEBCHAT_ADDRESS_MESSAGES_PER_MINUTE": UNLIMITED,
        "KEFU_WEBCHAT_SESSIONS_PER_MINUTE": UNLIMITED,
        "KEFU_WEBHOOK_EVENTS_PER_MINUTE": UNLIMITED,
        "KEFU_WECHAT_CALLBACKS_PER_MINUTE": UNLIMITED,
    }
    migrated = subprocess.run(  # noqa: S603 - our own script
        [str(START_SCRIPT), "migrate"], env=env, cwd=folder, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    if migrated.returncode != 0:
        raise SystemExit(f"kefu-start migrate failed:\n{migrated.stderr[-3000:]}")
    setup = prepare(args.pg_url, secret_key)
    stack = start_stack(folder, env, apis, args.workers)
    try:
        load = Load(setup, stack.proxy)
        sampler = Sampler(stack, backend.pg, backend.pg.database)
        seconds = asyncio.run(drive(load, stack.tls, args, sampler))
        time.sleep(3.0)  # what was acknowledged is committed; let the last events settle
    finally:
        for process in stack.processes.values():
            stop_process(process)
        with contextlib.suppress(Exception):
            import redis

            redis.Redis.from_url(args.redis_url).delete(env["KEFU_EVENT_STREAM"])
    stored = stored_tags(args.pg_url)
    return summarise(apis, args, load, sampler, seconds, stored)


def summarise(
    apis: int, args: argparse.Namespace, load: Load, sampler: Sampler, seconds: float,
    stored: Counter[str],
) -> dict[str, Any]:  # fmt: skip
    ops: dict[str, Any] = {}
    acked: set[str] = set()
    for op, tally in load.tallies.items():
        done = sorted(tally.latencies)
        acked.update(tally.acked)
        ops[op] = {
            "done": len(done),
            "per_s": round(len(done) / seconds, 1),
            "p50_ms": round(percentile(done, 50) * 1000, 1) if done else math.nan,
            "p99_ms": round(percentile(done, 99) * 1000, 1) if done else math.nan,
            "errors": tally.errors,
            "first_errors": tally.first_errors,
        }
    total = sum(o["done"] for o in ops.values())
    lost = sum(1 for tag in acked if stored[tag] == 0)
    duplicated = sum(n - 1 for tag, n in stored.items() if n > 1)
    cpu = {name: round(v, 2) for name, v in sampler.used.items()}
    kefu_cpu = sum(v for name, v in sampler.used.items() if name.startswith(("serve", "worker")))
    stack_cpu = kefu_cpu + sum(sampler.used.get(n, 0.0) for n in ("nginx", "postgres", "redis"))
    connections = sampler.connections or [0]
    return {
        "api_processes": apis,
        "workers": args.workers,
        "seconds": round(seconds, 1),
        "visitors": args.visitors,
        "ops": ops,
        "total_per_s": round(total / seconds, 1),
        "acknowledged": len(acked),
        "lost": lost,
        "duplicated": duplicated,
        # Sent while measuring, not acknowledged (an error or a timeout), stored all the same.
        "stored_without_ack": sum(1 for tag in load.issued if stored[tag] and tag not in acked),
        "db_connections_max": max(connections),
        "db_connections_mean": round(sum(connections) / len(connections), 1),
        "cpu_s": cpu,
        "rss_mib": {name: round(v / 1_048_576, 1) for name, v in sampler.rss.items()},
        "agent_events_heard": load.heard,
        "rss_kib_per_widget": round(load.rss_per_widget / 1024, 1),
        "kefu_cpu_ms_per_op": round(1000 * kefu_cpu / total, 2) if total else math.nan,
        "stack_cpu_ms_per_op": round(1000 * stack_cpu / total, 2) if total else math.nan,
    }


def show(run: dict[str, Any]) -> None:
    print(f"\n== {run['api_processes']} API process(es), {run['workers']} worker(s), "  # noqa: T201
          f"{run['seconds']} s, {run['visitors']} widgets connected")  # fmt: skip
    print(f"{'operation':<10}{'done':>8}{'per s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")  # noqa: T201
    for op, o in run["ops"].items():
        print(
            f"{op:<10}{o['done']:>8}{o['per_s']:>9}{o['p50_ms']:>9}{o['p99_ms']:>9}{o['errors']:>8}"
        )  # noqa: T201
        for error in o["first_errors"]:
            print(f"            {error}")  # noqa: T201
    print(f"{'all':<10}{sum(o['done'] for o in run['ops'].values()):>8}{run['total_per_s']:>9}")  # noqa: T201
    print(f"lost or duplicated: {run['lost'] + run['duplicated']} "  # noqa: T201
          f"(acknowledged {run['acknowledged']}, lost {run['lost']}, duplicated "
          f"{run['duplicated']}; stored without an acknowledgement: {run['stored_without_ack']})")  # fmt: skip
    print(f"widget connections: {run['visitors']}, the servers grew by {run['rss_kib_per_widget']} KiB each; "  # noqa: T201
          f"events heard by the agents' sockets: {run['agent_events_heard']}")  # fmt: skip
    print(f"database connections (pg_stat_activity): max {run['db_connections_max']}, "  # noqa: T201
          f"mean {run['db_connections_mean']}")  # fmt: skip
    print(f"{'process':<16}{'cpu s':>8}{'cores':>7}{'rss MiB':>9}")  # noqa: T201
    for name, used in run["cpu_s"].items():
        rss = run["rss_mib"].get(name, "-")
        print(f"{name:<16}{used:>8}{used / run['seconds']:>7.2f}{rss:>9}")  # noqa: T201
    print(f"CPU per operation: kefu {run['kefu_cpu_ms_per_op']} ms; with nginx, PostgreSQL "  # noqa: T201
          f"and Redis {run['stack_cpu_ms_per_op']} ms")  # fmt: skip


def side_by_side(runs: list[dict[str, Any]]) -> None:
    if len(runs) < 2:
        return
    first, last = runs[0], runs[-1]
    rows: list[tuple[str, float, float]] = [("operations/s", first["total_per_s"], last["total_per_s"])]  # fmt: skip
    for op in OPS:
        rows.append((f"{op} per s", first["ops"][op]["per_s"], last["ops"][op]["per_s"]))
        rows.append((f"{op} p99 ms", first["ops"][op]["p99_ms"], last["ops"][op]["p99_ms"]))
    rows += [
        ("kefu CPU ms/op", first["kefu_cpu_ms_per_op"], last["kefu_cpu_ms_per_op"]),
        ("stack CPU ms/op", first["stack_cpu_ms_per_op"], last["stack_cpu_ms_per_op"]),
        ("db connections max", first["db_connections_max"], last["db_connections_max"]),
        ("lost or duplicated", first["lost"] + first["duplicated"], last["lost"] + last["duplicated"]),
    ]  # fmt: skip
    a, b = first["api_processes"], last["api_processes"]
    print(f"\n{'':<22}{f'{a} API':>10}{f'{b} API':>10}{'ratio':>8}")  # noqa: T201
    for name, x, y in rows:
        ratio = f"{y / x:.2f}" if x else "-"
        print(f"{name:<22}{x:>10}{y:>10}{ratio:>8}")  # noqa: T201


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--api", default="1,2", help="API process counts, one run each")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--visitors", type=int, default=100, help="chat widgets connected")
    parser.add_argument("--concurrency", type=int, default=2, help="requests in flight per kind")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    args = parser.parse_args()
    runs = []
    with tempfile.TemporaryDirectory(prefix="kefu-scale-") as root:
        for apis in (int(n) for n in args.api.split(",")):
            run = one_run(args, apis, Path(root))
            show(run)
            runs.append(run)
    side_by_side(runs)
    print(json.dumps({"runs": runs}, ensure_ascii=False))  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
