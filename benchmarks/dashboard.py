#!/usr/bin/env python3
"""The dashboard's queries with 1,000,000 tickets and 10,000,000 messages on PostgreSQL.

The database (``kefu_bench_dashboard`` on loopback, ``--pg-url`` for another) is made once by the
demo generator — months of history in bulk, then its feedback phase (surveys, follow-ups, the
lifecycle automations' closes) — and kept: a later run reuses it and prints how long it took to
make (stored as the database's comment) and its size on disk. Each run then brings the schema
up to date, fills in what an older database lacks (the feedback phase, the SLA sweep's records,
the KPI rollup) and times every query the dashboard page runs, as the page runs it (the
services of ``services/analytics``), over the last 30, 90 and 365 days, without filters and
with a group and a channel:

- ``kpi_cards``: every metric of the period against its target (the KPI rollup);
- ``trend_day`` / ``trend_week``: the key metrics per day / ISO week;
- ``scorecards``: one row per agent;
- ``pareto``: complaints by category; ``moods``: emotion and sentiment per day;
- ``heatmap``: SLA breaches by weekday and hour;
- ``drill_*``: the first page of tickets behind a card (SLA compliance, not counted), a Pareto
  bar and a heat-map cell;
- ``page``: all of the above together, as one page load computes them.

Each figure is the median of ``--repeat`` runs (after one warm-up), in milliseconds, beside two
baselines: a bare ``count(*)`` of the period's tickets by the ``created_at`` index (the least
any query of the period costs) and, for 30 days, the figures computed from raw rows
(``period_facts`` + the pure formulas: what ``kpi_cards`` cost before the rollup), with the
ratio. Target (issue 23): every query under 1 s. The last line is one JSON object.

    .venv/bin/python benchmarks/dashboard.py                       # 1,000,000 tickets
    .venv/bin/python benchmarks/dashboard.py --tickets 20000 --pg-url \\
        postgresql+psycopg://postgres@127.0.0.1:5432/kefu_bench_dashboard_small
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/kefu_bench_dashboard"
TARGET_MS = 1000.0
PERIODS = (30, 90, 365)


def _database_exists(url: str) -> bool:
    import psycopg

    parsed = make_url(url)
    with psycopg.connect(
        host=parsed.host or "127.0.0.1", port=parsed.port or 5432,
        user=parsed.username or "postgres", dbname="postgres", autocommit=True,
    ) as admin:  # fmt: skip
        found = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)
        ).fetchone()
        if found is None:
            admin.execute(f'CREATE DATABASE "{parsed.database}"')
        return found is not None


def _check_url(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise SystemExit("this benchmark runs on PostgreSQL")
    if (parsed.host or "127.0.0.1") not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("refusing: only a database on loopback")
    if parsed.database in ("test", "postgres", "template0", "template1"):
        raise SystemExit(f"refusing to use the database {parsed.database!r}")


def _upgrade(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    import kefu

    config = Config()
    config.set_main_option("script_location", str(Path(kefu.__file__).parent / "db" / "migrations"))
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "head")


def make_or_reuse(url: str, tickets: int, seed: int) -> dict[str, Any]:
    """Make the database once (schema, demo, ``tickets`` synthetic tickets); reuse it after."""
    from kefu.db.engine import make_engine
    from kefu.db.session import session_scope
    from kefu.demo.loader import load_demo
    from kefu.demo.synthetic import generate

    existed = _database_exists(url)
    _upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        have = conn.scalar(text("SELECT count(*) FROM tickets")) or 0
        comment = conn.scalar(
            text("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = current_database()")
        )  # fmt: skip
    made: dict[str, Any] = {"existed": existed, "tickets_before": have}
    if have < tickets:
        started = time.monotonic()
        with session_scope(engine) as session:
            load_demo(session)
        report = generate(
            engine, tickets=tickets - have, messages_per_ticket=10, seed=seed,
            progress=lambda line: print("  " + line, flush=True),
        )  # fmt: skip
        seconds = time.monotonic() - started
        made.update(made_seconds=round(seconds, 1), generated=report.summary())
        with engine.begin() as conn:
            conn.execute(
                text(
                    f"COMMENT ON DATABASE \"{make_url(url).database}\" IS 'made in {seconds:.0f} s'"
                )
            )
    elif comment and comment.startswith("made in"):
        made["made_seconds"] = float(comment.split()[2])
    engine.dispose()
    return made


def _timed(step: Callable[[], Any]) -> float:
    started = time.perf_counter()
    step()
    return (time.perf_counter() - started) * 1000


def fill_in(url: str) -> dict[str, Any]:
    """What an older database lacks: the feedback phase, the SLA records, the KPI rollup."""
    from kefu.db.engine import make_engine, make_session_factory, writer_bind
    from kefu.demo.synthetic import sla_history
    from kefu.demo.synthetic.surveys import add_feedback
    from kefu.services.analytics import rollup

    engine = make_engine(url)
    done: dict[str, Any] = {}
    with engine.connect() as conn:
        surveys = conn.scalar(text("SELECT count(*) FROM surveys")) or 0
        tickets = conn.scalar(text("SELECT count(*) FROM tickets")) or 0
        events = conn.scalar(text("SELECT count(*) FROM sla_events")) or 0
        facts = conn.scalar(text("SELECT count(*) FROM kpi_case_facts")) or 0
    # the demo's own few hundred surveys do not count: the phase writes the history's
    surveys = surveys if surveys * 100 >= tickets else 0
    if not surveys:
        started = time.monotonic()
        done["feedback"] = str(add_feedback(engine))
        done["feedback_seconds"] = round(time.monotonic() - started, 1)
    if events < 1000:
        started = time.monotonic()
        done["sla_events"] = sla_history.write_sla_events(
            engine, progress=lambda line: print("  " + line, flush=True)
        )
        done["sla_seconds"] = round(time.monotonic() - started, 1)
    if not facts or not surveys or events < 1000:
        started = time.monotonic()
        report = rollup.rebuild(
            make_session_factory(writer_bind(engine)),
            progress=lambda line: print("  " + line, flush=True),
        )
        done["rollup"] = report.summary()
        done["rollup_seconds"] = round(time.monotonic() - started, 1)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return done


def sizes(url: str) -> dict[str, Any]:
    from kefu.db.engine import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        out = {
            "tickets": conn.scalar(text("SELECT count(*) FROM tickets")),
            "messages": conn.scalar(text("SELECT count(*) FROM messages")),
            "surveys": conn.scalar(text("SELECT count(*) FROM surveys")),
            "sla_events": conn.scalar(text("SELECT count(*) FROM sla_events")),
            "size": conn.scalar(
                text("SELECT pg_size_pretty(pg_database_size(current_database()))")
            ),
            "first": conn.scalar(text("SELECT min(created_at) FROM tickets")),
            "last": conn.scalar(text("SELECT max(created_at) FROM tickets")),
        }
    engine.dispose()
    return out


def measure(url: str, repeat: int) -> dict[str, dict[str, float]]:
    """Every query of the page, per period and filter: the median in ms."""
    from sqlalchemy import func, select

    from kefu.db.engine import make_engine, make_session_factory
    from kefu.db.models import Group, Ticket
    from kefu.domain.kpi.slices import DEFAULT_TZ
    from kefu.domain.roles import Role
    from kefu.services.actors import Actor
    from kefu.services.analytics.facts import NO_FILTERS, Filters
    from kefu.services.analytics.kpis import date_range

    engine = make_engine(url)
    sessions = make_session_factory(engine)
    actor = Actor(None, Role.ADMIN, via="cli", name="benchmark")
    with sessions() as s:
        last = s.scalar(select(func.max(Ticket.created_at))) or datetime.now(UTC)
        group_id = s.scalar(select(Group.id).order_by(Group.id))
        channel = s.scalar(
            select(Ticket.channel).group_by(Ticket.channel).order_by(func.count().desc()).limit(1)
        )
    # whole local days, as the page asks (``date_range``): the last day with cases and the days
    # before it
    last_day = last.astimezone(DEFAULT_TZ).date()
    results: dict[str, dict[str, float]] = {}

    def run(name: str, step: Callable[[Any], Any], once: bool = False) -> float:
        times = []
        for i in range(1 if once else repeat + 1):
            with sessions() as s:
                took = _timed(lambda s=s: step(s))
                s.rollback()
            if i or once:  # the first run warms the caches
                times.append(took)
        return statistics.median(times)

    for days in PERIODS:
        start, end = date_range(last_day - timedelta(days=days - 1), last_day)
        both = Filters(group_id=group_id, channel=channel)
        for label, filters in (("all", NO_FILTERS), ("group+channel", both)):
            key = f"{days}d {label}"
            with_raw = days == 30 and label == "all"
            results[key] = _queries(run, actor, start, end, filters, with_raw=with_raw)
            print(
                f"  {key}: " + ", ".join(f"{k} {v:,.1f}" for k, v in results[key].items()),
                flush=True,
            )
    engine.dispose()
    return results


def _queries(
    run: Callable[..., float], actor: Any, start: datetime,
    end: datetime, filters: Any, *, with_raw: bool,
) -> dict[str, float]:  # fmt: skip
    """The page's queries over one period and filter: name → median ms."""
    from sqlalchemy import func, select

    from kefu.db.models import Ticket
    from kefu.domain.kpi.metrics import Metric
    from kefu.domain.kpi.slices import Period, compute
    from kefu.services.analytics import breakdowns, dashboard, drilldown, scorecards
    from kefu.services.analytics.facts import period_facts

    in_period = (Ticket.created_at >= start, Ticket.created_at < end)
    steps: dict[str, Callable[[Any], Any]] = {
        "baseline_count": lambda s: s.scalar(select(func.count()).select_from(Ticket).where(*in_period)),
        "kpi_cards": lambda s: dashboard.kpi_cards(s, actor, start, end, filters),
        "trend_day": lambda s: dashboard.trend(s, actor, start, end, filters, Period.DAY),
        "trend_week": lambda s: dashboard.trend(s, actor, start, end, filters, Period.WEEK),
        "scorecards": lambda s: scorecards.agent_scorecards(s, actor, start, end, filters),
        "pareto": lambda s: breakdowns.complaint_categories(s, start, end, filters),
        "moods": lambda s: breakdowns.moods_by_day(s, start, end, filters),
        "heatmap": lambda s: breakdowns.breach_heatmap(s, start, end, filters),
    }  # fmt: skip
    drills = {
        "drill_sla": drilldown.Drill(Metric.SLA_COMPLIANCE, drilldown.Part.OTHERS),
        "drill_pareto": drilldown.Drill(category="物流配送"),
        "drill_heat": drilldown.Drill(weekday=1, hour=10),
    }
    for name, drill in drills.items():
        steps[name] = lambda s, d=drill: drilldown.ticket_page(s, actor, start, end, filters, d)
    steps["page"] = lambda s: dashboard.dashboard(s, actor, start, end, filters)
    out = {name: run(name, step) for name, step in steps.items()}
    if with_raw:  # minutes a run: once, after the rest warmed the caches

        def raw(s: Any) -> Any:
            facts = period_facts(s, start=start, end=end)
            return compute(facts.cases, facts.replies, facts.surveys)

        out["baseline_raw_kpis"] = run("raw", raw, once=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-url", default=DEFAULT_URL)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--measure-only", action="store_true",
        help="Skip filling in what the database lacks (the phases and the rollup).",
    )  # fmt: skip
    args = parser.parse_args()
    _check_url(args.pg_url)
    os.environ["KEFU_DATABASE_URL"] = args.pg_url
    os.environ.setdefault(
        "KEFU_DATA_DIR", str(Path(__file__).resolve().parent.parent / "bench-data" / "dashboard")
    )

    print(f"database {make_url(args.pg_url).database}: made once, kept")
    made = make_or_reuse(args.pg_url, args.tickets, args.seed)
    filled = {} if args.measure_only else fill_in(args.pg_url)
    size = sizes(args.pg_url)
    print(f"  made in {made.get('made_seconds', '?')} s (this run: {'reused' if made['tickets_before'] >= args.tickets else 'made'}); "
          f"{size['tickets']:,} tickets, {size['messages']:,} messages, {size['surveys']:,} surveys, "
          f"{size['sla_events']:,} SLA records, {size['size']} on disk, {size['first']:%Y-%m-%d} – {size['last']:%Y-%m-%d}")  # fmt: skip
    for key, value in filled.items():
        print(f"  {key}: {value}")
    results = measure(args.pg_url, args.repeat)

    queries = [
        q for q in next(iter(results.values())) if not q.startswith("baseline") and q != "page"
    ]
    print(f"\nmedian ms of {args.repeat} runs (target < {TARGET_MS:,.0f} ms per query)")
    print(f"{'query':<14}" + "".join(f"{k:>20}" for k in results))
    for q in [*queries, "page", "baseline_count"]:
        print(f"{q:<14}" + "".join(f"{r.get(q, float('nan')):>20,.1f}" for r in results.values()))
    raw = results["30d all"].get("baseline_raw_kpis")
    if raw:
        cards = results["30d all"]["kpi_cards"]
        print(
            f"\n30 days, raw rows (before the rollup): {raw:,.1f} ms — kpi_cards {raw / cards:,.0f}× faster"
        )
    worst = max((v, k, q) for k, r in results.items() for q, v in r.items() if q in queries)
    verdict = "PASS" if worst[0] < TARGET_MS else "FAIL"
    print(f"slowest query: {worst[2]} ({worst[1]}) {worst[0]:,.1f} ms — {verdict}")
    print(json.dumps({"made": made, "filled": filled, "size": {k: str(v) for k, v in size.items()},
                      "results": results, "slowest_ms": worst[0], "pass": verdict == "PASS"}))  # fmt: skip
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
