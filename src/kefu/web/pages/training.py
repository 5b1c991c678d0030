"""The role-play trainer in the workspace (模拟培训): the scenarios and one's sessions; a
supervisor assigns scenarios and sees the team's results; a session is a chat with the simulated
customer, marked as training, ending in its score card. Logic in services/training/sessions.py."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from kefu.api.deps import DB
from kefu.db.models import TrainingSession, User
from kefu.errors import KefuError
from kefu.services.actors import Actor
from kefu.services.training import sessions
from kefu.web import i18n
from kefu.web.guard import PageActor, SupervisorActor
from kefu.web.labels import LABELS, N_
from kefu.web.pages.cases import Fields
from kefu.web.pages.scripts import INDUSTRY_NAMES
from kefu.web.render import page

router = APIRouter(include_in_schema=False)

STATUS_NAMES = {"assigned": N_("待开始"), "active": N_("进行中"), "resolved": N_("已解决"),
                "escalated": N_("已升级")}  # fmt: skip
REACTION_NAMES = {"blame": N_("推卸责任或不礼貌"), "no_empathy": N_("没有回应情绪"),
                  "vague": N_("承诺含糊或过度"), "jargon": N_("使用术语"),
                  "patience_out": N_("客户失去耐心")}  # fmt: skip
GOAL_VERDICTS = {True: N_("达成"), False: N_("未达成")}


def _names() -> dict[str, Any]:
    return {"industry": INDUSTRY_NAMES, "status": STATUS_NAMES, "emotion": LABELS["emotion"],
            "reaction": REACTION_NAMES, "criterion": LABELS["qa_criterion"],
            "verdict": LABELS["qa_verdict"]}  # fmt: skip


@router.get("/training")
def training_index(request: Request, db: DB, actor: PageActor) -> Response:
    context: dict[str, Any] = {
        "scenarios": list(sessions.scenarios().values()),
        "mine": sessions.sessions_of(db, actor, actor.user_id or 0) if actor.user_id else [],
        "names": _names(),
        "may_assign": actor.sees_all_tickets,
    }
    if actor.sees_all_tickets:
        context["team"] = sessions.team_results(db, actor)
        context["staff"] = db.scalars(
            select(User).where(User.is_active.is_(True)).order_by(User.name)
        ).all()
        context["recent"] = db.scalars(
            select(TrainingSession).order_by(TrainingSession.id.desc()).limit(20)
        ).all()
    return page(request, "workspace/training/index.html", context)


@router.post("/training/start")
def start(request: Request, fields: Fields, db: DB, actor: PageActor) -> Response:
    row = sessions.do_start(db, actor, fields.get("scenario_id", ""))
    return RedirectResponse(f"/training/{row.id}", status_code=303)


@router.post("/training/assign")
def assign(request: Request, fields: Fields, db: DB, actor: SupervisorActor) -> Response:
    trainee = fields.get("trainee_id", "")
    sessions.do_assign(db, actor, int(trainee) if trainee.isdigit() else 0,
                       fields.get("scenario_id", ""))  # fmt: skip
    return RedirectResponse("/training?assigned=1", status_code=303)


def _session_page(
    request: Request, db: DB, actor: Actor, row: TrainingSession, *, error: str = "",
    draft: str = "", status: int = 200,
) -> Response:  # fmt: skip
    scenario = sessions.scenario_of(row.scenario_id)
    context = {
        "row": row,
        "scenario": scenario,
        "turns": sessions.turns_of(db, row),
        "names": _names(),
        "goal_verdicts": GOAL_VERDICTS,
        "mine": row.trainee_id == actor.user_id,
        "error": error,
        "draft": draft,
        "goals": {g.id: g.text for g in scenario.goals},
    }
    return page(request, "workspace/training/session.html", context, status=status)


@router.get("/training/{training_id}")
def session_page(request: Request, training_id: int, db: DB, actor: PageActor) -> Response:
    return _session_page(request, db, actor, sessions.load_training(db, actor, training_id))


@router.post("/training/{training_id}/begin")
def begin(request: Request, training_id: int, db: DB, actor: PageActor) -> Response:
    sessions.do_begin(db, actor, sessions.load_training(db, actor, training_id))
    return RedirectResponse(f"/training/{training_id}", status_code=303)


@router.post("/training/{training_id}/reply")
def reply(request: Request, training_id: int, fields: Fields, db: DB, actor: PageActor) -> Response:
    row = sessions.load_training(db, actor, training_id)
    text = fields.get("text", "")
    try:
        sessions.do_reply(db, actor, row, text)
    except KefuError as e:
        if e.status_code in (403, 404):
            raise
        language = i18n.language_of(request)
        details = e.details if isinstance(e.details, dict) else {}
        message = details.get("text") or e.message(language)
        return _session_page(request, db, actor, row, error=i18n.gettext(language, message),
                             draft=text[:2000], status=e.status_code)  # fmt: skip
    return RedirectResponse(f"/training/{training_id}#latest", status_code=303)
