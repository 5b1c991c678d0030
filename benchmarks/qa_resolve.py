#!/usr/bin/env python3
"""The resolve path with the quality review owed beside it, and without: is it slowed?

Resolving a case sets ``tickets.qa_due_at`` in the resolving transaction (services/qa/queue.py);
the review itself runs later in the ``qa_reviews`` job. This times resolving ``--cases`` cases
(a conversation of 10 messages each; ``loop.move_status`` to resolved and the commit), in
interleaved rounds: half with the queue as it is, half with ``queue.follow`` replaced by a no-op
(the baseline: the resolve path before the quality review). It prints the median and p90 of
each in ms and the ratio; then the job's cost per case, for scale.

Creates the database ``kefu_bench_qa`` on the local PostgreSQL (dropped and re-created; the
script refuses other names); ``--sqlite`` runs on a temporary SQLite file instead.

    .venv/bin/python benchmarks/qa_resolve.py [--cases 400] [--sqlite]

The last line is one JSON object. Target (issue #24): the resolve path is not slowed measurably.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/kefu_bench_qa"
TURNS = [
    ("customer", "我的快递一周了还没到，能帮我查一下吗？"),
    ("agent", "您好，非常理解您的着急，请提供订单号，我马上为您查询。"),
    ("customer", "订单号是SL2026120133"),
    ("agent", "已为您查到，包裹在中转站，我已申请加急，预计明天18点前送达。"),
    ("customer", "好的，谢谢"),
] * 2


def _database(sqlite: bool) -> str:
    if sqlite:
        return f"sqlite:///{tempfile.mkdtemp()}/kefu.db"
    from sla_sweep import recreate

    recreate(DEFAULT_URL, "kefu_bench_qa")
    return DEFAULT_URL


def _cases(sessions: Any, count: int) -> list[int]:
    from kefu.db.base import utcnow
    from kefu.db.models import Customer, Message, Ticket
    from kefu.domain.tickets import AuthorType, Direction

    ids = []
    with sessions() as session:
        customer = Customer(name="基准客户")
        session.add(customer)
        session.flush()
        start = utcnow() - timedelta(hours=1)
        for _ in range(count):
            ticket = Ticket(subject="快递未到", status="open", channel="webchat", priority="P3",
                            customer_id=customer.id, created_at=start, updated_at=start)  # fmt: skip
            session.add(ticket)
            session.flush()
            for i, (role, text) in enumerate(TURNS):
                customer_turn = role == "customer"
                session.add(Message(
                    ticket_id=ticket.id, channel="webchat", body_text=text,
                    created_at=start + timedelta(minutes=i),
                    direction=Direction.INBOUND.value if customer_turn else Direction.OUTBOUND.value,
                    author_type=AuthorType.CUSTOMER.value if customer_turn else AuthorType.USER.value,
                    analysis={"emotion": "anxious" if i == 0 else "neutral"} if customer_turn else None,
                ))  # fmt: skip
            ids.append(ticket.id)
        session.commit()
    return ids


def _resolve(sessions: Any, ticket_id: int) -> float:
    from kefu.db.base import utcnow
    from kefu.db.models import Ticket
    from kefu.domain.tickets import TicketStatus
    from kefu.services.cases import loop

    started = time.perf_counter()
    with sessions() as session:
        ticket = session.get(Ticket, ticket_id)
        loop.move_status(ticket, TicketStatus.RESOLVED, now=utcnow())
        session.commit()
    return (time.perf_counter() - started) * 1000


def _summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"median_ms": statistics.median(ordered),
            "p90_ms": ordered[int(0.9 * (len(ordered) - 1))]}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=400)
    parser.add_argument("--sqlite", action="store_true")
    args = parser.parse_args()
    url = _database(args.sqlite)

    from dashboard import _upgrade

    from kefu.db.base import utcnow
    from kefu.db.engine import make_engine, make_session_factory, writer_bind
    from kefu.db.session import session_scope
    from kefu.services.qa import queue, reviews

    _upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(writer_bind(engine))
    ids = _cases(sessions, args.cases)
    follow = queue.follow
    with_review: list[float] = []
    without: list[float] = []
    for i, ticket_id in enumerate(ids):  # interleaved: the machine's drift hits both alike
        owed = i % 2 == 0
        queue.follow = follow if owed else (lambda *a, **k: None)  # type: ignore[assignment]
        (with_review if owed else without).append(_resolve(sessions, ticket_id))
    queue.follow = follow
    started = time.perf_counter()
    reviewed = reviews.sweep_until_done(lambda: session_scope(engine), utcnow, rounds=10_000)
    job_ms = (time.perf_counter() - started) * 1000
    owed, base = _summary(with_review), _summary(without)
    ratio = owed["median_ms"] / base["median_ms"]
    backend = "SQLite" if args.sqlite else "PostgreSQL"
    print(f"resolving a case ({backend}, {args.cases} cases, interleaved):")
    print(
        f"  with the review owed:   median {owed['median_ms']:.2f} ms, p90 {owed['p90_ms']:.2f} ms"
    )
    print(
        f"  baseline (no review):   median {base['median_ms']:.2f} ms, p90 {base['p90_ms']:.2f} ms"
    )
    print(f"  ratio {ratio:.3f}")
    per_case = job_ms / reviewed.reviewed if reviewed.reviewed else 0.0
    print(f"the qa_reviews job afterwards: {reviewed.reviewed} cases in {job_ms:.0f} ms "
          f"({per_case:.1f} ms a case, off the resolve path)")  # fmt: skip
    engine.dispose()
    print(json.dumps({"with_review": owed, "baseline": base, "ratio": ratio,
                      "job_cases": reviewed.reviewed, "job_ms_per_case": per_case}))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
