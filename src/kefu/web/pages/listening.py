"""``/listening`` (舆情): social listening for supervisors and admins — mentions over time and
their negative share (a Chart.js chart drawn by listening.js from a JSON block), the topics with
most negative mentions, the alert history (acknowledged with a note), and the latest mentions
with their analysis, filtered by platform, tone and topic, each of which can become a case.

Agents and specialists get the 403 page: the page is for watching the brand and deciding what
to take up; the cases made from it reach agents through their inbox like any other case.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from kefu.api.deps import DB, AppSettings
from kefu.api.schemas import Id
from kefu.db.base import utcnow
from kefu.db.models import User
from kefu.domain.triage_labels import Category
from kefu.services.social import alerts, cases, listening
from kefu.services.social.posts import PLATFORMS
from kefu.web import i18n
from kefu.web.guard import SupervisorActor
from kefu.web.labels import N_
from kefu.web.pages.admin.forms import Posted, text
from kefu.web.render import local_time, page

router = APIRouter(include_in_schema=False)

PLATFORM_NAMES = {
    "weibo": N_("微博"),
    "douyin": N_("抖音"),
    "xiaohongshu": N_("小红书"),
    "other": N_("其他平台"),
}
ALERT_KINDS = {
    "spike_topic": N_("话题突增"),
    "spike_overall": N_("整体突增"),
    "crisis": N_("危机信号"),
}


def _filters(request: Request) -> tuple[listening.Filters, dict[str, str]]:
    """The filters of the query string (unknown values ignored) and their values for the form."""
    query = request.query_params
    platform = query.get("platform") if query.get("platform") in PLATFORMS else None
    topic = query.get("topic") if query.get("topic") in {c.value for c in Category} else None
    tone = query.get("tone") if query.get("tone") in ("negative", "other") else None
    before = query.get("before", "")
    filters = listening.Filters(
        platform=platform,
        negative=None if tone is None else tone == "negative",
        topic=topic,
        before_id=int(before) if before.isdigit() and len(before) < 19 else None,
    )
    return filters, {"platform": platform or "", "topic": topic or "", "tone": tone or ""}


def _chart(request: Request, view: listening.Overview) -> dict[str, Any]:
    """The chart's data and its words, for listening.js."""
    language = i18n.language_of(request)
    fmt = "%H:%M" if view.range == "24h" else "%m-%d"
    return {
        "labels": [local_time(p.start, fmt) for p in view.points],
        "counts": [p.count for p in view.points],
        # No mentions, no share: a gap in the line, not a fall to 0 %.
        "negativeShare": [
            round(p.negative_share * 100, 1) if p.count else None for p in view.points
        ],
        "words": {
            "mentions": i18n.gettext(language, "提及数"),
            "negativeShare": i18n.gettext(language, "负面占比 (%)"),
        },
    }


@router.get("/listening")
def listening_page(request: Request, db: DB, actor: SupervisorActor) -> Response:
    filters, chosen = _filters(request)
    range_key = request.query_params.get("range", listening.DEFAULT_RANGE)
    view = listening.overview(db, actor, now=utcnow(), range_key=range_key, filters=filters)
    people = {a.acknowledged_by_id for a in view.alerts if a.acknowledged_by_id}
    names = {i: n for i, n in db.execute(select(User.id, User.name).where(User.id.in_(people)))}
    context = {
        "view": view,
        "chart": _chart(request, view),
        "chosen": chosen,
        "ranges": list(listening.RANGES),
        "platforms": PLATFORM_NAMES,
        "alert_kinds": ALERT_KINDS,
        "topics": [c.value for c in Category],
        "acknowledged_by": names,
        "headline": alerts.headline,
        "done": request.query_params.get("done"),
        "next_page": view.mentions[-1].id if view.more and view.mentions else None,
    }
    return page(request, "workspace/listening/index.html", context)


@router.post("/listening/mentions/{mention_id}/case")
def make_case(mention_id: Id, db: DB, actor: SupervisorActor, settings: AppSettings) -> Response:
    """转为工单: the mention's case (made once), opened in the ticket view."""
    mention = cases.access_mention(db, actor, mention_id)
    ticket = cases.do_make_case(db, actor, mention, settings=settings, now=utcnow())
    return RedirectResponse(f"/tickets/{ticket.id}", status_code=303)


@router.post("/listening/alerts/{alert_id}/acknowledge")
def acknowledge(alert_id: Id, db: DB, actor: SupervisorActor, form: Posted) -> Response:
    alert = alerts.access_alert(db, actor, alert_id)
    alerts.do_acknowledge(db, actor, alert, note=text(form, "note"))
    return RedirectResponse("/listening?done=acknowledged#alerts", status_code=303)
