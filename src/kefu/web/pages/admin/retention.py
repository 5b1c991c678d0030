"""``/admin/retention`` (数据保留): how many days each kind of personal data is kept
(services/retention/policy.py); the sweep in the worker applies them (services/retention/sweep.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from kefu.api.deps import DB
from kefu.domain.retention import KIND_KEYS, KINDS, MAX_DAYS
from kefu.services.retention import policy
from kefu.web import i18n
from kefu.web.guard import AdminActor
from kefu.web.labels import N_
from kefu.web.pages.admin.forms import Errors, Posted, attempt, text
from kefu.web.render import page

router = APIRouter(include_in_schema=False)

# Each kind's label and what its days count from (domain/retention.KINDS, for translation).
LABELS = {
    "mail_raw": (N_("原始邮件"), N_("收到邮件")),
    "inbound_payloads": (N_("原始推送（Webhook、微信、API）"), N_("收到推送")),
    "case_bodies": (N_("已关闭工单的消息正文与附件"), N_("工单关闭")),
    "survey_comments": (N_("满意度调查留言"), N_("客户作答")),
    "social_mentions": (N_("未转为工单的舆情帖子"), N_("帖子发布")),
    "webchat_visitors": (N_("没有工单的网页访客"), N_("最后更新")),
    "outbox": (N_("已送达的外发记录"), N_("最后更新")),
    "login_sessions": (N_("登录会话与验证码"), N_("过期或注销")),
    "audit_events": (N_("审计日志"), N_("记录时间")),
}
assert {k.key: (k.name, k.counted_from) for k in KINDS} == LABELS  # noqa: S101


def _page(
    request: Request, db: Session, *, values: dict[str, Any] | None = None,
    errors: Errors | None = None, status: int = 200,
) -> Response:  # fmt: skip
    context = {
        "section": "retention",
        "kinds": [(key, *LABELS[key]) for key in KIND_KEYS],
        "values": values or policy.current(db).to_json(),
        "max_days": MAX_DAYS,
        "errors": errors or {},
        "done": request.query_params.get("done"),
    }
    return page(request, "workspace/admin/retention.html", context, status=status)


@router.get("/admin/retention")
def retention_page(request: Request, db: DB, actor: AdminActor) -> Response:
    return _page(request, db)


@router.post("/admin/retention")
def save_retention(request: Request, db: DB, actor: AdminActor, form: Posted) -> Response:
    """Every kind's days; an empty field keeps that kind forever (0)."""
    language = i18n.language_of(request)
    typed = {key: text(form, key).strip() for key in KIND_KEYS}
    values: dict[str, int] = {}
    errors: Errors = {}
    for key, raw in typed.items():
        if not raw.isascii() or not (raw == "" or raw.isdigit()):
            errors[key] = i18n.gettext(language, "请输入整数")
        elif (days := int(raw or 0)) > MAX_DAYS:
            errors[key] = i18n.gettext(language, "不能大于 {le}").format(le=MAX_DAYS)
        else:
            values[key] = days
    if not errors:
        _saved, errors = attempt(db, lambda: policy.save(db, actor, values), language, KIND_KEYS)
    if errors:
        return _page(request, db, values=typed, errors=errors, status=422)
    return RedirectResponse("/admin/retention?done=saved", status_code=303)
