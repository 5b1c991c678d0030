"""``/admin/qa``: the quality review's scorecard (质检评分卡) — each criterion's weight, whether it
is critical (a failure fails the review) or advisory (shown, weighed 0); saving makes a new
version, used by the reviews made after it (services/qa/scorecards.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from kefu.api.deps import DB
from kefu.domain.qa.criteria import Criterion
from kefu.errors import KefuError
from kefu.services.qa import scorecards
from kefu.web.guard import AdminActor
from kefu.web.pages.admin.forms import Posted, text
from kefu.web.render import page

router = APIRouter(include_in_schema=False)


def _page(
    request: Request, db: DB, *, values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    card = scorecards.current_scorecard(db)
    context = {
        "section": "qa",
        "version": card.version,
        "criteria": [c.value for c in Criterion],
        "values": values or card.to_json(),
        "errors": errors or {},
        "done": request.query_params.get("done"),
    }
    return page(request, "workspace/admin/qa.html", context, status=status)


@router.get("/admin/qa")
def scorecard_page(request: Request, db: DB, actor: AdminActor) -> Response:
    return _page(request, db)


@router.post("/admin/qa")
def save_scorecard(request: Request, db: DB, actor: AdminActor, form: Posted) -> Response:
    values: dict[str, Any] = {}
    for criterion in Criterion:
        name = criterion.value
        weight = text(form, f"{name}.weight").strip()
        values[name] = {
            "weight": int(weight) if weight.lstrip("-").isdigit() else weight,
            "critical": text(form, f"{name}.critical") == "on",
            "advisory": text(form, f"{name}.advisory") == "on",
        }
    try:
        saved = scorecards.save(db, actor, values)
    except KefuError as e:
        if e.status_code != 422:
            raise
        details = e.details if isinstance(e.details, dict) else {}
        return _page(request, db, values=values, errors=details, status=422)
    return RedirectResponse(f"/admin/qa?done={saved.version}", 303)
