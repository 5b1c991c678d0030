#!/usr/bin/env python3
"""Suggestion speed: ``suggest(db, ticket)`` with a 2,000-script library (target p99 < 20 ms).

Builds a scratch database (SQLite in a temporary folder, or ``--database-url`` for a PostgreSQL
database of its own, whose tables it drops), loads the starter library, generates scripts until
the library holds ``--scripts`` (random scenarios, roles and matching conditions, all published),
opens ``--tickets`` cases with varied triage and customer profiles, then times:

- ``suggest``: the service as the API calls it (in-memory index, rebuilt only when the library's
  stamp changes; each call still reads the stamp, the case's customer and messages);
- ``naive``: the baseline — the same ranking and composition, but every request queries and
  scores the whole published library (the index built per request);
- ``rebuild``: the first suggestion after a change to the library (index rebuilt).

    .venv/bin/python benchmarks/suggestions_speed.py
    .venv/bin/python benchmarks/suggestions_speed.py --database-url postgresql+psycopg://postgres@127.0.0.1/kefu_bench_scripts

Prints a table and one line of JSON; exit status 0 when the p99 of ``suggest`` is under target.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select, text

from kefu.db import migrate
from kefu.db.engine import make_engine, make_session_factory
from kefu.db.models import Script, ScriptScenario, Ticket
from kefu.domain.case_loop import Stage
from kefu.domain.triage_labels import Category, Emotion, Intent
from kefu.services.actors import SYSTEM
from kefu.services.cases import tickets
from kefu.services.customers import profiles
from kefu.services.scripts import library, suggest
from kefu.services.scripts.index import build
from kefu.services.scripts.starter import ensure_starter_library

TARGET_P99_MS = 20.0
PHRASES = ["您的订单[单号]我们已经在处理", "关于[商品名称]的问题我来帮您", "我们会在[处理时限]前回复",
           "这边为您登记了工单[工单号]", "感谢您的耐心等待", "给您带来不便非常抱歉"]  # fmt: skip


def _reset(url: str) -> None:
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    migrate.upgrade(url)


def _generate(session, total: int, rng: random.Random) -> None:
    ensure_starter_library(session)
    scenarios = session.scalars(select(ScriptScenario)).all()
    have = session.scalar(select(func.count()).select_from(Script))
    intents, categories = [i.value for i in Intent], [c.value for c in Category]
    emotions, stages = [e.value for e in Emotion], [s.value for s in Stage]
    for n in range(total - have):
        role = rng.choices(["body", "opener", "closing"], weights=[8, 1, 1])[0]
        when: dict[str, object] = {"intents": rng.sample(intents, rng.randint(0, 2)),
                                   "categories": rng.sample(categories, rng.randint(0, 2))}  # fmt: skip
        if role == "opener":
            when = (
                {"emotions": rng.sample(emotions, 1)}
                if rng.random() < 0.7
                else {"first_reply": True}
            )
        elif role == "closing":
            when = {"stages": rng.sample(stages, rng.randint(1, 3))}
        elif rng.random() < 0.3:
            when["emotions"] = rng.sample(emotions, rng.randint(1, 2))
        if rng.random() < 0.1:
            when["profiles"] = rng.sample(["vip", "first_contact", "repeat_complaint"], 1)
        library.create_script(session, SYSTEM, scenario=rng.choice(scenarios), title=f"生成话术{n}",
                              body="，".join(rng.sample(PHRASES, 3)) + "。", role=role,
                              conditions=when, key=f"bench.{n}")  # fmt: skip
    session.commit()


def _cases(session, count: int, rng: random.Random) -> list[int]:
    ids = []
    for n in range(count):
        customer = profiles.do_create_customer(
            session, SYSTEM, name=rng.choice(["王小明", "李娜", "", "张伟"]),
            tags=["VIP"] if rng.random() < 0.2 else [],
        )  # fmt: skip
        ticket = tickets.do_create_ticket(
            session, SYSTEM, customer_id=customer.id, subject=f"case {n}",
            text=f"订单SL2024{n:06d}怎么回事", channel="web",
            intent=rng.choice([i.value for i in Intent]),
            category=rng.choice([c.value for c in Category]),
        )  # fmt: skip
        ticket.emotion = rng.choice([e.value for e in Emotion])
        ids.append(ticket.id)
    session.commit()
    return ids


def _time(calls: int, ids: list[int], session, fn: Callable[[Ticket], object]) -> list[float]:
    out = []
    for i in range(calls):
        ticket = session.get(Ticket, ids[i % len(ids)])
        start = time.perf_counter()
        fn(ticket)
        out.append((time.perf_counter() - start) * 1000)
        session.rollback()  # a request's session ends with the request
    return out


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", help="a scratch database (default: SQLite in a temp folder)"
    )
    parser.add_argument("--scripts", type=int, default=2000)
    parser.add_argument("--tickets", type=int, default=200)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        if url.rsplit("/", 1)[-1] in {"test", "postgres", "kefu"}:
            print(f"refusing to drop {url}: use a scratch database", file=sys.stderr)  # noqa: T201
            return 2
        _reset(url)
        engine = make_engine(url)
        session = make_session_factory(engine)()
        rng = random.Random(args.seed)
        _generate(session, args.scripts, rng)
        ids = _cases(session, args.tickets, rng)
        size = session.scalar(select(func.count()).select_from(Script))

        def naive(ticket: Ticket) -> object:
            index = build(session, "naive")  # query and score the whole library every time
            situation = suggest.situation_of(session, ticket)
            ranked = suggest.rank(index, situation, 3)
            values = suggest.values_for(session, ticket)
            return [suggest.compose_entries(suggest.opener_for(index, situation), body,
                                            suggest.closing_for(index, situation), values)
                    for body, _ in ranked]  # fmt: skip

        suggest.suggest(session, session.get(Ticket, ids[0]))  # warm: the index is built once
        session.rollback()
        indexed = _time(args.calls, ids, session, lambda t: suggest.suggest(session, t))
        baseline = _time(max(100, args.calls // 10), ids, session, naive)
        rebuilds = []
        for i in range(20):
            library.renew_stamp(session)
            session.commit()
            rebuilds += _time(1, ids[i:], session, lambda t: suggest.suggest(session, t))
        session.close()
        engine.dispose()
    rows = [("suggest (indexed)", indexed), ("naive per-request query+score", baseline),
            ("first after a library change", rebuilds)]  # fmt: skip
    print(f"suggestions on {engine.dialect.name}: {size:,} scripts, {args.tickets} cases")  # noqa: T201
    print(f"{'':32}{'calls':>7}{'p50 ms':>9}{'p99 ms':>9}{'mean ms':>9}")  # noqa: T201
    for name, values in rows:
        print(f"{name:32}{len(values):>7}{_pct(values, 0.5):>9.2f}{_pct(values, 0.99):>9.2f}"  # noqa: T201
              f"{statistics.fmean(values):>9.2f}")  # fmt: skip
    p99 = _pct(indexed, 0.99)
    verdict = "PASS" if p99 < TARGET_P99_MS else "FAIL"
    print(f"target p99 < {TARGET_P99_MS:.0f} ms: {verdict}")  # noqa: T201
    print(json.dumps({"engine": engine.dialect.name, "scripts": size, "p50_ms": round(_pct(indexed, 0.5), 2),  # noqa: T201
                      "p99_ms": round(p99, 2), "naive_p50_ms": round(_pct(baseline, 0.5), 2),
                      "naive_p99_ms": round(_pct(baseline, 0.99), 2),
                      "rebuild_p50_ms": round(_pct(rebuilds, 0.5), 2)}))  # fmt: skip
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
