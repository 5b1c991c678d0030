"""The case panel: where a ticket's closed loop stands and a form for each step it may take now.

A complaint goes 受理登记 → 分析评估 → 处理解决 → 跟进反馈 → 总结归档 (domain/case_loop.py); the
panel shows the stage bar, what the next step still needs (``loop.view``), what the steps
recorded, and the forms of the current stage: facts, the 5-Why analysis, the solution with
its compensation (above the proposer's authority it waits for approval; an approver sees the
approval form), the customer's feedback, the lesson to archive; waiting with an agreed time,
resuming, reopening. A question or a suggestion takes the short path and gets the plain
status actions instead.

``GET /tickets/{id}/case`` is a fragment for the ticket page's ``#case-panel`` section, which
reloads it on the ticket's live events; ``/tickets/{id}/case/page`` shows it alone. A step
posts to ``/tickets/{id}/case/<step>`` (htmx) and the answer is the panel again — 422 with a
message next to each field that does not pass, the loop's refusal (409, 403 above one's
authority) next to the form, with what was typed kept.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from kefu.api.deps import DB, AppSettings
from kefu.db.base import utcnow
from kefu.db.models import Ticket
from kefu.domain import case_loop as cw
from kefu.domain.case_loop import CasePath, Stage
from kefu.domain.triage_labels import Category
from kefu.errors import KefuError, NotFound
from kefu.services.actors import Actor
from kefu.services.cases import approvals
from kefu.services.cases import loop as cases
from kefu.services.cases import tickets as tickets_service
from kefu.settings import Settings
from kefu.web import i18n
from kefu.web.guard import PageActor
from kefu.web.labels import N_, label
from kefu.web.pages import case_forms as forms
from kefu.web.render import LOCAL_ZONE, page

router = APIRouter(include_in_schema=False)

# What the next step of each stage needs, as the panel says it.
NEXT_STEP = {
    Stage.REGISTERED: N_("记录客户反映的关键信息，然后进入「分析评估」。"),
    Stage.ANALYSING: N_("确认问题类别，用 5 Why 找到根本原因，然后进入「处理解决」。"),
    Stage.RESOLVING: N_("提出解决方案和补偿（超出授权的补偿须审批），然后进入「跟进反馈」。"),
    Stage.FOLLOWING_UP: N_("回访客户，记录确认或评分；写下经验总结后归档。"),
    Stage.ARCHIVED: N_("案件已归档。客户再次来信或重新打开会回到「处理解决」。"),
    Stage.OPEN: N_("答复客户后标记为已解决。"),
    Stage.RESOLVED: N_("客户没有新问题即可关闭；客户再来信会重新打开。"),
    Stage.CLOSED: N_("工单已关闭。"),
}
MISSING_NAMES = {
    "facts": N_("关键信息"),
    "category": N_("确认的问题类别"),
    "root_cause": N_("根本原因"),
    "solution": N_("解决方案"),
    "approval": N_("补偿审批"),
    "revised_solution": N_("修改后的解决方案（补偿被驳回）"),
    "confirmation_or_rating": N_("客户确认或评分"),
    "lesson": N_("经验总结"),
}
DONE_MESSAGES = {
    "facts": N_("已记录关键信息"),
    "analysis": N_("已记录分析"),
    "solution": N_("已保存解决方案"),
    "feedback": N_("已记录客户反馈"),
    "resume": N_("已结束等待"),
    "reopened": N_("已重新打开"),
    "wait": N_("已挂起等待"),
    "approved": N_("补偿已批准"),
    "rejected": N_("补偿已驳回"),
    "stage": N_("已进入「%(stage)s」"),
    "status": N_("状态已更新"),
}


async def form_fields(request: Request) -> dict[str, str]:
    """The posted form's text fields (the guard has read the form already for its token)."""
    form = await request.form()
    return {name: value for name, value in form.items() if isinstance(value, str)}


Fields = Annotated[dict[str, str], Depends(form_fields)]


def _policy(settings: Settings) -> cw.Policy:
    return cases.policy_of(settings)


def panel_context(
    request: Request, actor: Actor, ticket: Ticket, policy: cw.Policy, **state: Any
) -> dict[str, Any]:
    """What the panel template needs: the case as ``loop.view`` sees it, in the reader's words."""
    language = i18n.language_of(request)
    view = cases.view(ticket, policy)
    stage, stages = Stage(view["stage"]), view["stages"]
    final = stage in cw.FINAL_STAGES
    # A stage off its path (an old or imported row) shows as the path's end when it is final.
    index = stages.index(stage) if stage in stages else (len(stages) - 1 if final else 0)
    pending = approvals.pending_of(ticket, policy)
    own_limit = policy.limits.limit(actor.role)
    return {
        "ticket": ticket,
        "case": view,
        "complaint": view["path"] == CasePath.COMPLAINT.value,
        "stage_index": index,
        "next_step": NEXT_STEP[stage],
        "missing": [i18n.gettext(language, MISSING_NAMES.get(m, m)) for m in view["missing"]],
        "final": final,
        "merged": view["merged_into_id"] is not None,
        "waitable": stage not in cw.DONE_STAGES and not view["waiting_on"],
        "pending": pending,
        "may_decide": pending is not None and policy.limits.may_grant(actor.role, pending.amount),
        "own_limit_yuan": None if own_limit is None else f"{own_limit / 100:.2f}",
        "categories": [c.value for c in Category],
        "kinds": forms.COMPENSATION_KINDS,
        "wait_min": _local_now_minute(),
        "form": state.get("form", {}),
        "active": state.get("active", ""),
        "errors": state.get("errors", {}),
        "refusal": state.get("refusal", ""),
        "done": state.get("done", ""),
        "unsaved": state.get("unsaved", False),  # the form holds what was typed, not yet taken
    }


def _local_now_minute() -> str:
    return utcnow().astimezone(LOCAL_ZONE).strftime("%Y-%m-%dT%H:%M")


def _panel(request: Request, context: dict[str, Any], status: int = 200) -> Response:
    return page(request, "workspace/cases/_panel.html", context, status=status)


def said(response: Response, text: str) -> None:
    """Tell the person what was done in a toast (cases.js shows it), where the part that says so
    goes away with the live reload the change causes (a decided approval leaves the list)."""
    response.headers["HX-Trigger"] = json.dumps({"kefu-case-done": text})


@router.get("/tickets/{ticket_id}/case")
def case_panel(
    request: Request, ticket_id: int, db: DB, actor: PageActor, settings: AppSettings
) -> Response:
    ticket = tickets_service.access_ticket(db, actor, ticket_id)
    return _panel(request, panel_context(request, actor, ticket, _policy(settings)))


@router.get("/tickets/{ticket_id}/case/page")
def case_page(
    request: Request, ticket_id: int, db: DB, actor: PageActor, settings: AppSettings
) -> Response:
    """The panel on a page of its own (a full view on a phone, and for tests)."""
    ticket = tickets_service.access_ticket(db, actor, ticket_id)
    context = panel_context(request, actor, ticket, _policy(settings))
    return page(request, "workspace/cases/page.html", context)


class StepDone(Exception):
    """The form's record was taken, then the step after it (moving on) was refused."""

    def __init__(self, done: str, refused: KefuError) -> None:
        super().__init__(done)
        self.done, self.refused = done, refused


@router.post("/tickets/{ticket_id}/case/{step}")
def take_step(
    request: Request,
    ticket_id: int,
    step: str,
    fields: Fields,
    db: DB,
    actor: PageActor,
    settings: AppSettings,
) -> Response:
    reader = forms.READERS.get(step)
    if reader is None:
        raise NotFound("route")
    ticket = tickets_service.access_ticket(db, actor, ticket_id, for_update=True)
    policy = _policy(settings)
    language = i18n.language_of(request)
    state: dict[str, Any] = {"form": fields, "active": step}
    status = 200
    try:
        done = _take(db, actor, ticket, reader(fields), policy, settings, fields)
        state.update(done=_said(language, done, ticket), form={})
    except forms.FormInvalid as invalid:
        state["errors"] = {k: i18n.gettext(language, v) for k, v in invalid.errors.items()}
        state["unsaved"], status = True, 422
    except StepDone as partly:  # the record was kept; moving on was refused
        state.update(done=_said(language, partly.done, ticket), form={})
        state["refusal"] = _refusal(request, partly.refused, state)
        status = partly.refused.status_code
    except KefuError as e:
        if e.status_code == 404:
            raise
        state["refusal"] = _refusal(request, e, state)
        state["unsaved"], status = True, e.status_code
    context = panel_context(request, actor, ticket, policy, **state)
    return _panel(request, context, status)


def _take(
    db: Session,
    actor: Actor,
    ticket: Ticket,
    step: forms.Step,
    policy: cw.Policy,
    settings: Settings,
    fields: dict[str, str],
) -> str:
    """Take the step (and move on when the form asked to); returns what to say it did."""
    window = cases.intake_rules(settings).repeat_window
    if isinstance(step, forms.StatusChange):
        changes = {"status": step.target.value}
        tickets_service.do_update_ticket(db, actor, ticket, changes, policy, repeat_window=window)
        return DONE_MESSAGES["status"]
    outcome = cases.do_step(db, actor, ticket, step, policy, repeat_window=window)
    done = DONE_MESSAGES.get(outcome.step.partition(":")[0], DONE_MESSAGES["stage"])
    if fields.get("then") == "advance":
        try:
            cases.do_step(db, actor, ticket, cw.Advance(), policy, repeat_window=window)
        except KefuError as refused:
            raise StepDone(done, refused) from refused
        done = DONE_MESSAGES["stage"]
    return done


def _said(language: str, done: str, ticket: Ticket) -> str:
    """What the step did, in the reader's words (a move names the stage it reached)."""
    stage = i18n.gettext(language, label("stage", ticket.stage))
    return i18n.gettext(language, done) % {"stage": stage}


def _refusal(request: Request, error: KefuError, state: dict[str, Any]) -> str:
    """The refusal in the reader's words; the fields it names are marked in the form."""
    missing = (error.details or {}).get("missing", []) if isinstance(error.details, dict) else []
    marks = {forms.MISSING_FIELDS[m]: "" for m in missing if m in forms.MISSING_FIELDS}
    state["errors"] = {**marks, **state.get("errors", {})}
    if error.code == "bad_wait_until":
        state["errors"]["until"] = ""
    return error.message(i18n.language_of(request))
