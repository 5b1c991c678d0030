"""/api/v1/analytics: KPI figures against their targets, the targets, script effectiveness;
every table also as CSV (formula injection neutralised) or XLSX."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import Field

from kefu.api.access import ADMINS, MANAGERS, allow
from kefu.api.deps import DB, CurrentActor
from kefu.api.schemas import ERRORS, Id, In, Out
from kefu.domain.kpi.slices import Period
from kefu.services.analytics import exports, kpis, scripts, targets
from kefu.services.analytics.facts import Filters

router = APIRouter(prefix="/analytics", tags=["analytics"], responses=ERRORS)

Format = Literal["json", "csv", "xlsx"]
From = Annotated[date, Query(alias="from", description="first day (local), inclusive")]
To = Annotated[date, Query(alias="to", description="last day (local), inclusive")]


class CellPublic(Out):
    metric: str
    value: float | None
    numerator: float | None
    denominator: int
    unit: str
    target: float
    direction: str
    verdict: str = Field(description="on_target | off_target | no_data")


class SlicePublic(Out):
    period: str | None
    values: dict[str, str | int | None] = Field(description="the slice's value per dimension")
    metrics: list[CellPublic]


class KpisPublic(Out):
    start: datetime
    end: datetime
    by: list[str]
    period: str | None
    slices: list[SlicePublic]


class TargetPublic(Out):
    metric: str
    threshold: float
    direction: str
    default: float
    set_by_id: int | None
    set_at: datetime | None


class TargetsUpdate(In):
    thresholds: dict[str, float | None] = Field(
        description="metric → threshold in the figure's unit; null resets to the default"
    )


def _file(header: list[str], rows: list[list[Any]], fmt: Format, name: str) -> Response:
    if fmt == "csv":
        return Response(
            exports.to_csv(header, rows), media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )  # fmt: skip
    return Response(
        exports.to_xlsx(header, rows),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
    )


@router.get(
    "/kpis",
    response_model=KpisPublic,
    summary="Every KPI per slice against its target (JSON, CSV or XLSX)",
    **allow(*MANAGERS),
)
def kpi_figures(
    db: DB,
    actor: CurrentActor,
    first: From,
    last: To,
    by: Annotated[
        str | None, Query(description="agent,group,channel,category,priority,business_line")
    ] = None,
    period: Period | None = None,
    group_id: Id | None = None,
    channel: Annotated[str | None, Query(max_length=20)] = None,
    agent_id: Id | None = None,
    format: Format = "json",  # noqa: A002
) -> Any:
    dims = kpis.parse_by(by)
    start, end = kpis.date_range(first, last)
    filters = Filters(group_id=group_id, channel=channel, agent_id=agent_id)
    rows = kpis.kpi_table(db, actor, start=start, end=end, by=dims, period=period, filters=filters)
    if format != "json":
        header, lines = kpis.flat_rows(rows, dims, sliced_by_period=period is not None)
        return _file(header, lines, format, f"kpi-{first}-{last}")
    return KpisPublic(
        start=start, end=end, by=[d.value for d in dims], period=period.value if period else None,
        slices=[
            SlicePublic(period=r.period, values=r.values, metrics=[
                CellPublic(
                    metric=c.metric.value, value=c.figure.value, numerator=c.figure.numerator,
                    denominator=c.figure.denominator, unit=c.figure.unit.value,
                    target=c.target.threshold, direction=c.target.direction.value,
                    verdict=c.verdict.value,
                ) for c in r.cells
            ]) for r in rows
        ],
    )  # fmt: skip


@router.get(
    "/targets",
    response_model=list[TargetPublic],
    summary="The KPI targets in force",
    **allow(*MANAGERS),
)
def list_targets(db: DB, actor: CurrentActor) -> list[dict[str, object]]:
    return targets.target_rows(db, actor)


@router.put(
    "/targets",
    response_model=list[TargetPublic],
    summary="Set or reset KPI targets (admins)",
    **allow(*ADMINS),
)
def set_targets(body: TargetsUpdate, db: DB, actor: CurrentActor) -> list[dict[str, object]]:
    return targets.do_set_targets(db, actor, body.thresholds)


_EFFECT_COLUMNS = ("script_id", "title", "uses", "tickets", "score", "weak")
_COMPARISONS = ("resolution", "first_contact_resolution", "csat_satisfied", "csat_average")
_COMPARISON_FIELDS = ("rate", "baseline", "difference", "n", "n_baseline", "p_value", "significant")


@router.get(
    "/script-effectiveness",
    summary="Scripts ranked by their outcomes against matched cases without them",
    **allow(*MANAGERS),
)
def script_effectiveness(
    db: DB,
    actor: CurrentActor,
    first: From,
    last: To,
    format: Format = "json",  # noqa: A002
) -> Any:
    start, end = kpis.date_range(first, last)
    effects = scripts.script_effectiveness(db, actor, start=start, end=end)
    if format == "json":
        return {"start": start, "end": end, "scripts": effects}
    header = list(_EFFECT_COLUMNS) + [f"{c}_{f}" for c in _COMPARISONS for f in _COMPARISON_FIELDS]
    rows = [
        [e[k] for k in _EFFECT_COLUMNS]
        + [e[c][f] for c in _COMPARISONS for f in _COMPARISON_FIELDS]
        for e in effects
    ]
    return _file(header, rows, format, f"script-effectiveness-{first}-{last}")
