"""``kefu kpi``: the pre-aggregated KPI figures (services/analytics/rollup.py) made again from the
raw rows (``rebuild``: after an upgrade, or to check them), brought up to date (``refresh``, what
the ``kpi_rollup`` job does), or how far behind they are (``status``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from sqlalchemy import Engine
from sqlalchemy.orm import Session

kpi_app = typer.Typer(help="Pre-aggregated KPI figures (the dashboard's).", no_args_is_help=True)


@contextmanager
def _sessions() -> Iterator[Callable[[], Session]]:
    from kefu.db.engine import make_engine, make_session_factory, writer_bind
    from kefu.settings import get_settings

    engine = make_engine(get_settings().resolved_database_url)
    try:
        yield make_session_factory(writer_bind(engine))
    finally:
        engine.dispose()


@kpi_app.command("rebuild")
def rebuild(
    batch: Annotated[int, typer.Option(min=100, help="Tickets per batch.")] = 5000,
) -> None:
    """Every case's KPI row and every daily sum made again from the raw rows (one transaction)."""
    from kefu.services.analytics.rollup import rebuild as run

    with _sessions() as sessions:
        try:
            report = run(sessions, batch=batch, progress=typer.echo)
        except RuntimeError as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(1) from e
        typer.echo(report.summary())
        with sessions() as session:
            _vacuum(session)


def _vacuum(session: Session) -> None:
    """PostgreSQL: the new rows' visibility and statistics at once (index-only scans of the
    median, plans for the new size) rather than whenever autovacuum comes round."""
    if session.get_bind().dialect.name != "postgresql":
        return
    from kefu.db.models.analytics import (
        kpi_breach_hours,
        kpi_case_facts,
        kpi_daily,
        kpi_daily_agents,
        kpi_daily_moods,
    )

    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    with engine.connect() as connection:
        autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
        for table in (
            kpi_case_facts,
            kpi_daily,
            kpi_daily_agents,
            kpi_daily_moods,
            kpi_breach_hours,
        ):
            autocommit.exec_driver_sql(f"VACUUM ANALYZE {table.name}")


@kpi_app.command("refresh")
def refresh() -> None:
    """Roll up the cases changed since the last refresh, until none is left."""
    from kefu.services.analytics.rollup import refresh_until_done

    with _sessions() as sessions:
        counts = refresh_until_done(sessions, rounds=1_000_000)
    typer.echo(", ".join(f"{k} {v}" for k, v in counts.items()))


@kpi_app.command("status")
def status() -> None:
    """How many changed cases wait to be rolled up, and since when."""
    from kefu.services.analytics.rollup_read import FOLD_LIMIT, freshness

    with _sessions() as sessions, sessions() as session:
        state = freshness(session)
    more = "+" if state.pending > FOLD_LIMIT else ""
    since = state.fresh_as_of.isoformat() if state.fresh_as_of else "-"
    typer.echo(f"pending {state.pending}{more}, oldest change {since}")
