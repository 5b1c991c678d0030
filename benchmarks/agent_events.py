#!/usr/bin/env python3
"""Staff socket fan-out benchmark: events through Redis to agents' sockets of one kefu process.

It sets up a SQLite database in a temporary directory (two groups of agents, supervisors, and
cases in each group), starts ONE ``uvicorn kefu.app:create_app`` process with ``KEFU_REDIS_URL``
set, opens every staff member's socket on /api/v1/events, then, for each offered rate, appends
``message.added`` events for random cases to the process's Redis Stream (as other kefu processes
would) on schedule for a few seconds. The server's reader thread takes them, its hub looks up
where the cases stand, filters per viewer and sends; this script receives.

For each rate it reports the frames each socket should have received (an agent: its group's
cases; a supervisor: all) against those received, latency from the event's stream id (Redis's
clock at XADD, the same machine) to its arrival at the socket (p50/p99/max), and the CPU seconds
of the kefu process. The load generator and the clients run in this process, on the same
2-core machine: at high rates they compete with the server for CPU.

    .venv/bin/python benchmarks/agent_events.py                      # 500, 1000, 2000 events/s
    .venv/bin/python benchmarks/agent_events.py --rates 5000 --agents 4 --seconds 5

Only 127.0.0.1 is contacted; the stream key is unique to the run and deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis
import websockets

from kefu.db import migrate
from kefu.db.engine import make_engine, make_session_factory
from kefu.domain import events as ev
from kefu.domain.roles import Role
from kefu.realtime.log import RedisLog
from kefu.services.actors import SYSTEM
from kefu.services.cases import tickets
from kefu.services.customers import profiles as customers
from kefu.services.staff import auth
from kefu.services.staff import directory as staff

REDIS_URL = "redis://127.0.0.1:6379/15"
BATCH_EVERY = 0.01  # seconds between appends: a rate is sent as small batches on schedule


@dataclass
class Member:
    name: str
    token: str
    group: int | None  # None: a supervisor, who sees every case
    received: list[tuple[int, float]] = field(default_factory=list)  # (ticket, latency s)


def _prepare(
    url: str, *, agents: int, supervisors: int, cases: int
) -> tuple[list[Member], dict[int, int]]:
    migrate.upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    members: list[Member] = []
    case_groups: dict[int, int] = {}
    with sessions() as session:
        groups = [staff.do_create_group(session, SYSTEM, name=n) for n in ("华北组", "华南组")]
        customer = customers.do_create_customer(session, SYSTEM, name="压测顾客", identities=[])
        session.flush()
        for group in groups:
            for i in range(agents):
                user = staff.do_create_user(session, SYSTEM, email=f"a{i}-{group.id}@bench.cn", name=f"客服{i}",
                                            role=Role.AGENT, password="bench-password-1", group_ids=[group.id])  # fmt: skip
                secret, _ = auth.do_create_token(session, SYSTEM, user, name="bench")
                members.append(Member(user.name, secret, group.id))
            for i in range(cases):
                ticket = tickets.do_create_ticket(session, SYSTEM, customer_id=customer.id, subject=f"订单{i}",
                                                  text="我的快递一周了还没到", channel="web", group_id=group.id)  # fmt: skip
                case_groups[ticket.id] = group.id
        for i in range(supervisors):
            user = staff.do_create_user(session, SYSTEM, email=f"s{i}@bench.cn", name=f"主管{i}",
                                        role=Role.SUPERVISOR, password="bench-password-1")  # fmt: skip
            secret, _ = auth.do_create_token(session, SYSTEM, user, name="bench")
            members.append(Member(user.name, secret, None))
        session.commit()
    engine.dispose()
    return members, case_groups


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _listen(url: str, member: Member, ready: asyncio.Event, stop: asyncio.Event) -> None:
    async with websockets.connect(url, additional_headers={"Authorization": f"Bearer {member.token}"},
                                  max_queue=None, proxy=None) as ws:  # fmt: skip
        await ws.send(json.dumps({"type": "hello", "last_event_id": None}))
        while json.loads(await ws.recv())["type"] != "ready":
            pass
        ready.set()
        while not stop.is_set():
            try:
                text = await asyncio.wait_for(ws.recv(), 0.5)
            except TimeoutError:
                continue
            now = time.time()
            frame = json.loads(text)
            if frame["type"] == "event":
                sent_ms = int(frame["id"].split("-")[0])
                member.received.append((frame["event"]["ticket_id"], now - sent_ms / 1000))


def _publish(log: RedisLog, case_ids: list[int], rate: float, seconds: float) -> list[int]:
    """Append events on schedule; the cases they were about, in order."""
    per_batch = max(1, round(rate * BATCH_EVERY))
    start, about, n = time.monotonic(), [], 0
    while (due := start + n * BATCH_EVERY) < start + seconds:
        time.sleep(max(0.0, due - time.monotonic()))
        batch = [random.choice(case_ids) for _ in range(per_batch)]  # noqa: S311 - not a secret
        log.append([ev.MessageAdded(t, message_id=len(about) + i) for i, t in enumerate(batch)])
        about.extend(batch)
        n += 1
    return about


async def _run_rate(url: str, members: list[Member], case_groups: dict[int, int], log: RedisLog,
                    rate: float, seconds: float, server_pid: int) -> dict[str, object]:  # fmt: skip
    for member in members:
        member.received.clear()
    stop = asyncio.Event()
    readies = [asyncio.Event() for _ in members]
    listeners = [
        asyncio.create_task(_listen(url, m, r, stop)) for m, r in zip(members, readies, strict=True)
    ]
    await asyncio.gather(*(r.wait() for r in readies))
    cpu_before = _cpu_seconds(server_pid)
    sent: list[int] = []
    publisher = threading.Thread(
        target=lambda: sent.extend(_publish(log, list(case_groups), rate, seconds))
    )
    publisher.start()
    while publisher.is_alive():
        await asyncio.sleep(0.05)
    await asyncio.sleep(2.0)  # let the tail arrive
    cpu = _cpu_seconds(server_pid) - cpu_before
    stop.set()
    await asyncio.gather(*listeners)
    per_group = Counter(case_groups[t] for t in sent)
    expected = sum(len(sent) if m.group is None else per_group[m.group] for m in members)
    received = sum(len(m.received) for m in members)
    wrong = sum(1 for m in members for t, _ in m.received if m.group not in (None, case_groups[t]))
    latencies = sorted(lat for m in members for _, lat in m.received)

    def ms(p: float) -> float | None:
        return (
            round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 1)
            if latencies
            else None
        )

    return {
        "rate": rate,
        "events_sent": len(sent),
        "frames_expected": expected,
        "frames_received": received,
        "frames_to_wrong_group": wrong,
        "p50_ms": ms(0.50),
        "p99_ms": ms(0.99),
        "max_ms": ms(1.0),
        "server_cpu_s": round(cpu, 2),
        "server_cpu_ms_per_event": round(cpu / len(sent) * 1000, 3) if sent else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rates", type=float, nargs="+", default=[500, 1000, 2000])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--agents", type=int, default=5, help="agents per group (two groups)")
    parser.add_argument("--supervisors", type=int, default=2)
    parser.add_argument("--cases", type=int, default=200, help="cases per group")
    args = parser.parse_args()

    data = Path(tempfile.mkdtemp(prefix="kefu-agent-events-"))
    db_url = f"sqlite:///{data / 'kefu.db'}"
    stream = f"kefu:bench:events:{uuid.uuid4().hex}"
    members, case_groups = _prepare(
        db_url, agents=args.agents, supervisors=args.supervisors, cases=args.cases
    )
    port = _free_port()
    env = {**os.environ, "KEFU_DATABASE_URL": db_url, "KEFU_DATA_DIR": str(data), "KEFU_REDIS_URL": REDIS_URL,
           "KEFU_EVENT_STREAM": stream, "KEFU_LOG_LEVEL": "WARNING", "KEFU_SLA_SWEEP_IN_SERVER": "false"}  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "kefu.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"], env=env,
    )  # fmt: skip
    log = RedisLog(REDIS_URL, key=stream, retention=100_000)
    results = []
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                print("the server did not start", file=sys.stderr)  # noqa: T201
                return 2
            time.sleep(0.2)
        url = f"ws://127.0.0.1:{port}/api/v1/events"
        for rate in args.rates:
            results.append(
                asyncio.run(
                    _run_rate(url, members, case_groups, log, rate, args.seconds, server.pid)
                )
            )
            print(json.dumps(results[-1], ensure_ascii=False))  # noqa: T201
    finally:
        server.terminate()
        server.wait(timeout=30)
        redis.Redis.from_url(REDIS_URL).delete(stream)
        shutil.rmtree(data, ignore_errors=True)
    lost = [r for r in results if r["frames_received"] != r["frames_expected"]]
    wrong = [r for r in results if r["frames_to_wrong_group"]]
    return 1 if lost or wrong else 0


if __name__ == "__main__":
    sys.exit(main())
