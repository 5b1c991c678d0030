#!/usr/bin/env python3
"""Does the answer to a password-reset request take longer for an address kefu knows?

``POST /api/v1/auth/password-reset`` answers the same body for every address; both paths draw
and digest a token (services/staff/password_reset.py), and a known active address also writes
the token row, queues the mail in the outbox and audits. This script asks for known and unknown
addresses in alternation, ``--requests`` times each, to a server on loopback (uvicorn in this
process, a new connection each time: the time to the whole answer), on SQLite in a temporary folder and on
PostgreSQL ``kefu_bench_reset`` on loopback (dropped and re-created; other names refused), and
prints p50 / p95 per kind and the difference of the medians — what an attacker timing the
answers would have to see through network jitter (typically several milliseconds).

    .venv/bin/python benchmarks/password_reset_timing.py [--backends sqlite,postgres] [--requests 400]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn
from sla_sweep import recreate  # run as a script: benchmarks/ is on the path

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/kefu_bench_reset"
USERS = 50


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def measure(url: str, data_dir: Path, requests: int) -> dict[str, list[float]]:
    from kefu.app import create_app
    from kefu.db import migrate
    from kefu.db.engine import make_engine, make_session_factory, writer_bind
    from kefu.domain.roles import Role
    from kefu.services.actors import SYSTEM
    from kefu.services.staff import directory as staff
    from kefu.settings import Settings

    migrate.upgrade(url)
    engine = make_engine(url)
    session = make_session_factory(writer_bind(engine))()
    for i in range(USERS):
        staff.do_create_user(session, SYSTEM, email=f"agent{i}@bench.kefu", name=f"客服{i}",
                             role=Role.AGENT, password="a-bench-password-1", group_ids=[])  # fmt: skip
    session.commit()
    session.close()
    settings = Settings(env="test", data_dir=data_dir, database_url=url, log_level="WARNING",
                        password_resets_per_hour=10**9, outbox_relay_in_server=False,
                        sla_sweep_in_server=False)  # fmt: skip
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, engine=engine), host="127.0.0.1",
                                           port=port, log_level="warning"))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    # A new connection for each request, paced: the link queued after one answer is done before
    # the next request arrives, as for someone timing answers one by one.
    limits = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30) as client:
        for n in range(requests * 2 + 40):
            kind = "known" if n % 2 else "unknown"
            email = f"agent{n % USERS}@bench.kefu" if kind == "known" else f"nobody{n}@bench.kefu"
            start = time.perf_counter()
            answer = client.post("/api/v1/auth/password-reset", json={"email": email})
            elapsed = (time.perf_counter() - start) * 1000
            if answer.status_code != 202:
                raise SystemExit(f"unexpected answer {answer.status_code}: {answer.text}")
            if n >= 40:  # after a warm-up
                times[kind].append(elapsed)
            time.sleep(0.03)
    server.should_exit = True
    thread.join(timeout=30)
    engine.dispose()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    print(f"{'backend':<10} {'kind':<8} {'p50 ms':>8} {'p95 ms':>8}")
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            if backend == "postgres":
                recreate(PG_URL, "kefu_bench_reset")
                url = PG_URL
            else:
                url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            times = measure(url, Path(tmp), args.requests)
        medians = {}
        for kind, values in times.items():
            values.sort()
            medians[kind] = statistics.median(values)
            p95 = values[int(len(values) * 0.95) - 1]
            print(f"{backend:<10} {kind:<8} {medians[kind]:>8.2f} {p95:>8.2f}")
        print(
            f"{backend:<10} {'known − unknown (median)':<26} {medians['known'] - medians['unknown']:+.2f} ms"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
