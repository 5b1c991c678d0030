"""``/dashboard`` (数据看板): the service's figures for supervisors and admins — every KPI
against its target, the key figures' trend, complaint categories (Pareto), emotion and sentiment
per day, SLA breaches by weekday and hour, agents' scorecards — filtered by period, group and
channel; every figure leads to its tickets (``/dashboard/tickets``) and every table downloads as
CSV or XLSX. Charts are drawn by dashboard.js (Chart.js served by kefu) from a JSON block.

Agents and specialists get the 403 page, as on /listening.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from kefu.api.deps import DB
from kefu.db.models import User
from kefu.errors import KefuError
from kefu.services.analytics import dashboard as service
from kefu.services.analytics import dashboard_tables, drilldown, exports
from kefu.services.analytics.facts import Filters
from kefu.web.guard import SupervisorActor
from kefu.web.pages import dashboard_query as q
from kefu.web.pages import dashboard_view as v
from kefu.web.render import page

router = APIRouter(include_in_schema=False)

EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get("/dashboard")
def dashboard_page(request: Request, db: DB, actor: SupervisorActor) -> Response:
    chosen = q.read_filters(request.query_params, q.today_local())
    context = v.form_context(request, db, chosen)
    if chosen.errors or chosen.start is None or chosen.end is None:
        return page(request, "workspace/dashboard/index.html", context, status=422)
    view = service.dashboard(db, actor, chosen.start, chosen.end, chosen.filters, chosen.grain)
    context |= v.dashboard_context(v.Words(request), chosen, view)
    return page(request, "workspace/dashboard/index.html", context)


def _file(
    header: list[str], rows: list[list[object]], fmt: str, sheet: str, chosen: q.Chosen
) -> Response:
    """The table as a download named after it and the period (``kpis-2026-12-01-2026-12-07``)."""
    name = f"{sheet}-{chosen.first}-{chosen.last}"
    body: str | bytes = (
        exports.to_csv(header, rows) if fmt == "csv" else exports.to_xlsx(header, rows, sheet=sheet)
    )
    return Response(
        body,
        media_type=EXPORT_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )


def _format(request: Request) -> str:
    fmt = request.query_params.get("format", "csv")
    if fmt not in EXPORT_TYPES:
        raise KefuError("validation_error", status_code=422, details={"format": "csv or xlsx"})
    return fmt


def _period_or_422(chosen: q.Chosen) -> tuple[Any, Any]:
    if chosen.errors or chosen.start is None or chosen.end is None:
        raise KefuError("validation_error", status_code=422, details=dict(chosen.errors))
    return chosen.start, chosen.end


@router.get("/dashboard/export/{name}")
def export_table(name: str, request: Request, db: DB, actor: SupervisorActor) -> Response:
    """One table of the dashboard as CSV or XLSX (``format``), with the page's filters."""
    if name not in dashboard_tables.TABLES:
        raise KefuError("not_found", status_code=404, what="page")
    fmt = _format(request)
    chosen = q.read_filters(request.query_params, q.today_local())
    start, end = _period_or_422(chosen)
    header, rows = dashboard_tables.table(db, actor, name, start, end, chosen.filters, chosen.grain)
    return _file(header, rows, fmt, name, chosen)


@router.get("/dashboard/tickets")
def drill_page(request: Request, db: DB, actor: SupervisorActor) -> Response:
    """The tickets behind a figure, 50 a page, newest first; ``format=csv|xlsx`` downloads all."""
    chosen = q.read_filters(request.query_params, q.today_local())
    drill, agent_id, drill_errors = q.read_drill(request.query_params)
    chosen.errors |= drill_errors
    filters = Filters(group_id=chosen.group_id, channel=chosen.channel, agent_id=agent_id)
    if "format" in request.query_params:
        fmt = _format(request)
        start, end = _period_or_422(chosen)
        lines = drilldown.all_tickets(db, actor, start, end, filters, drill)
        header, rows = dashboard_tables.tickets_table(lines)
        return _file(header, rows, fmt, "tickets", chosen)
    context = v.form_context(request, db, chosen)
    if chosen.errors or chosen.start is None or chosen.end is None:
        return page(request, "workspace/dashboard/tickets.html", context, status=422)
    number = request.query_params.get("page", "1")
    listing = drilldown.ticket_page(
        db, actor, chosen.start, chosen.end, filters, drill,
        page=int(number) if number.isdigit() and len(number) < 9 else 1,
    )  # fmt: skip
    agent = db.scalar(select(User.name).where(User.id == agent_id)) if agent_id else None
    context |= v.drill_context(v.Words(request), chosen, drill, agent_id, agent, listing)
    return page(request, "workspace/dashboard/tickets.html", context)
