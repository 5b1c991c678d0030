"""``kefu report``: the KPI figures of a period, against their targets, as Markdown or CSV on
standard output, or as an XLSX file — the same table as /api/v1/analytics/kpis."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Literal

import typer

from kefu.cli_nlp import _fail


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as e:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)") from e


def report(
    first: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD), inclusive.")],
    last: Annotated[str, typer.Option("--to", help="Last day (YYYY-MM-DD), inclusive.")],
    fmt: Annotated[
        Literal["md", "csv", "xlsx"], typer.Option("--format", help="md, csv or xlsx.")
    ] = "md",
    by: Annotated[
        str, typer.Option("--by", help="agent,group,channel,category,priority,business_line")
    ] = "",
    period: Annotated[
        Literal["day", "week", "month"] | None, typer.Option("--period", help="day, week or month.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write here (required for xlsx).")
    ] = None,
) -> None:
    """Every KPI of the cases opened between --from and --to (local days), against its target."""
    from kefu.db.engine import make_engine
    from kefu.db.session import session_scope
    from kefu.domain.kpi.slices import Period
    from kefu.domain.roles import Role
    from kefu.errors import KefuError
    from kefu.services.actors import Actor
    from kefu.services.analytics import exports, kpis
    from kefu.settings import get_settings

    if fmt == "xlsx" and out is None:
        raise _fail("--format xlsx needs --out FILE")
    actor = Actor(user_id=None, role=Role.ADMIN, via="cli", name="cli")
    engine = make_engine(get_settings().resolved_database_url)
    try:
        dims = kpis.parse_by(by)
        start, end = kpis.date_range(_day(first), _day(last))
        with session_scope(engine) as session:
            rows = kpis.kpi_table(
                session, actor, start=start, end=end, by=dims,
                period=Period(period) if period else None,
            )  # fmt: skip
    except KefuError as e:
        raise _fail(f"{e.code}: {e.details}") from e
    finally:
        engine.dispose()
    header, lines = kpis.flat_rows(rows, dims, sliced_by_period=period is not None)
    if fmt == "xlsx":
        assert out is not None  # noqa: S101 — checked above
        out.write_bytes(exports.to_xlsx(header, lines))
        typer.echo(f"wrote {out} ({len(lines)} rows)")
        return
    text = exports.to_csv(header, lines) if fmt == "csv" else _markdown(header, lines, first, last)
    if out is not None:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out} ({len(lines)} rows)")
    else:
        typer.echo(text, nl=False)


def _markdown(header: list[str], lines: list[list[object]], first: str, last: str) -> str:
    from kefu.services.analytics import exports

    title = f"# KPI report {first} – {last} (Asia/Shanghai)\n\n"
    return title + exports.to_markdown(header, lines)
