"""``/scripts``: the supervisor's page of the reply-script library (话术库) — browse it by type and
scenario, edit a script (every saved text a new version), see its versions, and review the
scripts agents proposed from their replies (publish, or reject with a note).

Supervisors and admins only (403 page for others). Forms carry the session's CSRF token
(web/guard.py); the services check permissions and audit every change.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from kefu.api.deps import DB
from kefu.api.scripts import Review, ScriptUpdate
from kefu.db.models import Script
from kefu.domain.scripts.placeholders import find
from kefu.services.scripts import library
from kefu.web import i18n
from kefu.web.guard import SupervisorActor
from kefu.web.labels import N_, label
from kefu.web.pages.admin.forms import Errors, Posted, attempt, text, validate
from kefu.web.render import page

router = APIRouter(include_in_schema=False)

TYPE_NAMES = {"inquiry": N_("咨询"), "complaint": N_("投诉"), "suggestion": N_("建议"),
              "praise": N_("表扬")}  # fmt: skip
INDUSTRY_NAMES = {"general": N_("通用"), "retail": N_("电商零售"), "food_delivery": N_("外卖餐饮"),
                  "telecom": N_("通信"), "finance": N_("金融"), "travel": N_("出行旅游"),
                  "education": N_("教育"), "utilities": N_("水电燃气")}  # fmt: skip
ROLE_NAMES = {"opener": N_("开场"), "body": N_("正文"), "closing": N_("结束语")}
STATUS_NAMES = {"draft": N_("草稿"), "proposed": N_("待审核"), "published": N_("已发布"),
                "retired": N_("已停用")}  # fmt: skip
CONDITION_NAMES = {"intents": (N_("意图"), "intent"), "categories": (N_("类别"), "category"),
                   "emotions": (N_("情绪"), "emotion"), "stages": (N_("阶段"), "stage"),
                   "profiles": (N_("客户"), ""), "first_reply": (N_("首次回复"), "")}  # fmt: skip
PROFILE_NAMES = {"vip": N_("VIP 会员"), "first_contact": N_("首次联系"),
                 "repeat_complaint": N_("重复投诉")}  # fmt: skip
NAMES = {"type": TYPE_NAMES, "industry": INDUSTRY_NAMES, "role": ROLE_NAMES, "status": STATUS_NAMES}


def segments(body: str) -> list[tuple[str, bool]]:
    """The text in pieces, each placeholder a piece of its own (the page marks them)."""
    out, position = [], 0
    for p in find(body):
        out += [(body[position : p.start], False), (p.raw, True)]
        position = p.end
    return [s for s in [*out, (body[position:], False)] if s[0]]


def conditions_text(conditions: dict[str, Any], language: str) -> list[tuple[str, str]]:
    """A script's matching conditions as a reader sees them: (意图, 投诉、建议) …"""
    out = []
    for key, value in conditions.items():
        if key not in CONDITION_NAMES or value in ([], None):
            continue
        title, kind = CONDITION_NAMES[key]
        if key == "first_reply":
            shown = i18n.gettext(language, N_("是") if value else N_("否"))
        elif key == "profiles":
            shown = "、".join(i18n.gettext(language, PROFILE_NAMES.get(v, v)) for v in value)
        else:
            shown = "、".join(i18n.gettext(language, label(kind, v)) for v in value)
        out.append((i18n.gettext(language, title), shown))
    return out


def _script_view(script: Script, language: str) -> dict[str, Any]:
    return {"script": script, "segments": segments(script.body),
            "conditions": conditions_text(script.conditions, language)}  # fmt: skip


def _tree(db: Session, actor: Any) -> dict[str, list[Any]]:
    found = library.tree(db, actor)
    by_type: dict[str, list[Any]] = {t: [] for t in library.TYPES}
    for scenario in found.scenarios:
        by_type[scenario.type].append((scenario, len(found.scripts[scenario.id])))
    return by_type


@router.get("/scripts")
def scripts_page(request: Request, db: DB, actor: SupervisorActor) -> Response:
    found = library.tree(db, actor)
    chosen_id = request.query_params.get("scenario", "")
    scenarios = {str(s.id): s for s in found.scenarios}
    chosen = scenarios.get(chosen_id) or (found.scenarios[0] if found.scenarios else None)
    scripts = found.scripts[chosen.id] if chosen else []
    proposals = [s for items in found.scripts.values() for s in items if s.status == "proposed"]
    context = {
        "tree": _tree(db, actor),
        "chosen": chosen,
        "scripts": [_script_view(s, i18n.language_of(request)) for s in scripts],
        "proposal_count": len(proposals),
        "names": NAMES,
        "done": request.query_params.get("done"),
    }
    return page(request, "workspace/scripts/index.html", context)


def _edit_page(
    request: Request, db: Session, script: Script, values: dict[str, str], errors: Errors | None = None,
    status: int = 200,
) -> Response:  # fmt: skip
    context = {
        "view": _script_view(script, i18n.language_of(request)),
        "scenario": library.access_scenario(db, script.scenario_id),
        "versions": library.versions(db, script),
        "values": values,
        "errors": errors or {},
        "names": NAMES,
    }
    return page(request, "workspace/scripts/edit.html", context, status=status)


@router.get("/scripts/proposals")
def proposals_page(request: Request, db: DB, actor: SupervisorActor) -> Response:
    found = library.tree(db, actor)
    scenario_of = {s.id: s for s in found.scenarios}
    proposals = [
        {**_script_view(s, i18n.language_of(request)), "scenario": scenario_of[s.scenario_id]}
        for items in found.scripts.values()
        for s in items
        if s.status == "proposed"
    ]
    context = {"proposals": proposals, "names": NAMES, "done": request.query_params.get("done")}
    return page(request, "workspace/scripts/proposals.html", context)


@router.get("/scripts/{script_id}")
def script_page(script_id: int, request: Request, db: DB, actor: SupervisorActor) -> Response:
    script = library.access_script(db, actor, script_id)
    return _edit_page(request, db, script, {"title": script.title, "body": script.body, "note": ""})


@router.post("/scripts/{script_id}")
def save_script(
    script_id: int, request: Request, db: DB, actor: SupervisorActor, form: Posted
) -> Response:
    language = i18n.language_of(request)
    script = library.access_script(db, actor, script_id)
    values = {name: text(form, name) for name in ("title", "body", "note")}
    body, errors = validate(ScriptUpdate, values, language)
    if body is not None:
        changes = body.model_dump(exclude_unset=True, exclude={"note"})
        done, errors = attempt(
            db, lambda: library.do_update_script(db, actor, script, changes, note=body.note),
            language, values,
        )  # fmt: skip
        if done is not None:
            return RedirectResponse(f"/scripts/{script.id}?saved=1", 303)
    return _edit_page(request, db, script, values, errors, status=422)


@router.post("/scripts/{script_id}/review")
def review_script(
    script_id: int, request: Request, db: DB, actor: SupervisorActor, form: Posted
) -> Response:
    language = i18n.language_of(request)
    script = library.access_script(db, actor, script_id)
    values = {"decision": text(form, "decision"), "note": text(form, "note")}
    body, errors = validate(Review, values, language)
    if body is not None:
        done, errors = attempt(
            db,
            lambda: library.do_review(db, actor, script, publish=body.decision == "publish",
                                      note=body.note),
            language, values,
        )  # fmt: skip
        if done is not None:
            return RedirectResponse(f"/scripts/proposals?done={body.decision}", 303)
    return RedirectResponse("/scripts/proposals?done=error", 303)
