"""``/admin/surveys``: each channel's satisfaction survey (满意度调查) — on or off, the kinds
asked (CSAT, NPS, CES), the way it is asked, how long a link lasts (services/surveys/config.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from kefu.api.deps import DB
from kefu.domain import surveys as sv
from kefu.domain.surveys import CHANNEL_WAYS, ChannelSurveys, SurveyKind
from kefu.domain.tickets import Channel
from kefu.errors import KefuError
from kefu.services.surveys import config
from kefu.services.surveys.send import SENT_ON
from kefu.web import i18n
from kefu.web.guard import AdminActor
from kefu.web.labels import N_
from kefu.web.pages.admin.forms import Posted, text, texts
from kefu.web.render import page

router = APIRouter(include_in_schema=False)

WAY_NAMES = {
    sv.AskVia.INLINE: N_("聊天中直接评分"),
    sv.AskVia.LINK: N_("发送调查链接"),
    sv.AskVia.MESSAGE: N_("发送带链接的消息"),
    sv.AskVia.TEMPLATE: N_("模板消息"),
}


def _rows(db: Session) -> list[dict[str, Any]]:
    rows = []
    for channel in SENT_ON:
        ways = CHANNEL_WAYS[channel]
        setting = config.setting_for(db, channel.value)
        rows.append({
            "channel": channel.value,
            "setting": setting,
            "ways": [(w.value, WAY_NAMES[w]) for w in ways],
            "hours": f"{setting.link_lifetime.total_seconds() / 3600:g}",
        })  # fmt: skip
    return rows


def _page(
    request: Request, db: DB, *, error: tuple[str, str] | None = None, status: int = 200
) -> Response:
    language = "en" if i18n.language_of(request) == "en" else "zh"
    kinds = [(k.value, sv.kind_name(k, language)) for k in SurveyKind]
    context = {"section": "surveys", "rows": _rows(db), "kinds": kinds,
               "done": request.query_params.get("done"), "error": error}  # fmt: skip
    return page(request, "workspace/admin/surveys.html", context, status=status)


@router.get("/admin/surveys")
def surveys_page(request: Request, db: DB, actor: AdminActor) -> Response:
    return _page(request, db)


@router.post("/admin/surveys/{channel}")
def save_survey_setting(
    channel: Channel, request: Request, db: DB, actor: AdminActor, form: Posted
) -> Response:
    if channel not in SENT_ON:
        raise KefuError("not_found", status_code=404, what=channel.value)
    hours_text = text(form, "link_lifetime_hours").strip()
    data: dict[str, object] = {
        "channel": channel.value,
        "kinds": [k for k in texts(form, "kinds") if k in {s.value for s in SurveyKind}],
        "via": text(form, "via") or None,
        "enabled": text(form, "enabled") == "on",
    }
    try:
        data["link_lifetime_hours"] = float(hours_text) if hours_text else None
        setting = ChannelSurveys.from_json(data)
    except (ValueError, sv.SurveyRefused) as e:
        return _page(request, db, error=(channel.value, str(e)), status=422)
    config.save_setting(db, actor, setting)
    return RedirectResponse(f"/admin/surveys?done={channel.value}", 303)
