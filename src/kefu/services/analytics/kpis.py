"""The KPI table: every figure of a period, per slice, each against its target.

Figures come from the pure formulas (domain/kpi) over the facts read from the database: summed
from the pre-aggregated tables (``rollup_read``, kept by ``rollup``), or computed from raw rows
(``facts.period_facts``) for a time zone other than the rollup's; targets are the admin's over
kefu's defaults (``targets``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from kefu.domain.kpi.metrics import Figure, Metric
from kefu.domain.kpi.slices import DEFAULT_TZ, Dimension, Period, SliceValue, compute
from kefu.domain.kpi.targets import Target, Verdict, judge
from kefu.errors import KefuError
from kefu.services.actors import Actor
from kefu.services.analytics import rollup_read
from kefu.services.analytics.facts import NO_FILTERS, Filters, period_facts
from kefu.services.analytics.rollup_read import Freshness
from kefu.services.analytics.targets import check_reader, current_targets


@dataclass(frozen=True)
class MetricCell:
    metric: Metric
    figure: Figure
    target: Target
    verdict: Verdict


@dataclass(frozen=True)
class KpiRow:
    """One slice: its period label (when sliced by period), its values along ``by``, and every
    metric in ``Metric`` order."""

    period: str | None
    values: dict[str, SliceValue]
    cells: list[MetricCell]


@dataclass(frozen=True)
class KpiView:
    """The KPI table and how current it is (``rollup_read.Freshness``): a page shows
    ``freshness.pending`` and ``fresh_as_of`` when the figures are not ``exact``."""

    rows: list[KpiRow]
    freshness: Freshness


def kpi_table(
    session: Session,
    actor: Actor,
    *,
    start: datetime,
    end: datetime,
    by: Sequence[Dimension] = (),
    period: Period | None = None,
    filters: Filters = NO_FILTERS,
    tz: ZoneInfo = DEFAULT_TZ,
) -> list[KpiRow]:
    """Every slice that has a case opened in ``[start, end)``; supervisors and admins only."""
    return kpi_view(
        session, actor, start=start, end=end, by=by, period=period, filters=filters, tz=tz
    ).rows


def kpi_view(
    session: Session,
    actor: Actor,
    *,
    start: datetime,
    end: datetime,
    by: Sequence[Dimension] = (),
    period: Period | None = None,
    filters: Filters = NO_FILTERS,
    tz: ZoneInfo = DEFAULT_TZ,
) -> KpiView:
    """``kpi_table`` with its freshness. The figures come from the pre-aggregated tables
    (``rollup_read.figures``) in the rollup's time zone, from raw rows in any other."""
    check_reader(actor)
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be aware datetimes")
    if end <= start:
        raise KefuError("validation_error", status_code=422, details={"to": "must be after from"})
    if rollup_read.is_rollup_zone(tz):
        figures, fresh = rollup_read.figures(
            session, start=start, end=end, by=by, period=period, filters=filters
        )
    else:
        facts = period_facts(session, start=start, end=end, filters=filters)
        figures = compute(facts.cases, facts.replies, facts.surveys, by=by, period=period, tz=tz)
        fresh = rollup_read.Freshness(0, False, None)
    targets = current_targets(session)
    rows = []
    for key, by_metric in figures.items():
        head = key[0] if period else None
        values = dict(zip((d.value for d in by), key[1:] if period else key, strict=True))
        cells = [MetricCell(m, f, targets[m], judge(f, targets[m])) for m, f in by_metric.items()]
        rows.append(KpiRow(str(head) if head is not None else None, values, cells))
    return KpiView(rows, fresh)


def flat_rows(
    rows: Sequence[KpiRow], by: Sequence[Dimension], *, sliced_by_period: bool
) -> tuple[list[str], list[list[object]]]:
    """The table as a header and one line per slice and metric (for CSV, XLSX, Markdown)."""
    header = (["period"] if sliced_by_period else []) + [d.value for d in by]
    header += ["metric", "value", "numerator", "denominator", "unit", "target", "verdict"]
    lines: list[list[object]] = []
    for row in rows:
        head: list[object] = [row.period] if sliced_by_period else []
        head += [row.values[d.value] for d in by]
        for cell in row.cells:
            f = cell.figure
            lines.append(
                head
                + [
                    cell.metric.value,
                    None if f.value is None else round(f.value, 4),
                    None if f.numerator is None else round(f.numerator, 4),
                    f.denominator,
                    f.unit.value,
                    float(cell.target.threshold),
                    cell.verdict.value,
                ]
            )
    return header, lines


EARLIEST = date(2000, 1, 1)
LATEST = date(2999, 12, 31)


def date_range(first: date, last: date, tz: ZoneInfo = DEFAULT_TZ) -> tuple[datetime, datetime]:
    """The instants from the start of ``first`` to the end of ``last`` (inclusive), local days.
    Days outside ``EARLIEST``–``LATEST`` are refused (422): no case is that old, and the ends of
    the calendar do not convert between time zones."""
    if last < first:
        raise KefuError("validation_error", status_code=422, details={"to": "before from"})
    if first < EARLIEST or last > LATEST:
        raise KefuError(
            "validation_error",
            status_code=422,
            details={"from": f"days from {EARLIEST} to {LATEST}"},
        )
    start = datetime.combine(first, time(), tz)
    end = datetime.combine(last + timedelta(days=1), time(), tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def parse_by(text: str | None) -> list[Dimension]:
    """``agent,group`` → the dimensions, in order; an unknown name is a 422."""
    names = [n.strip() for n in (text or "").split(",") if n.strip()]
    known = {d.value: d for d in Dimension}
    unknown = [n for n in names if n not in known]
    if unknown or len(set(names)) != len(names):
        raise KefuError(
            "validation_error", status_code=422,
            details={"by": f"one or more of {', '.join(known)}, each once"},
        )  # fmt: skip
    return [known[n] for n in names]
