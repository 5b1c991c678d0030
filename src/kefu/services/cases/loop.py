"""The closed loop on tickets: each case's path, stage and recorded steps (domain/case_loop.py).

A ticket carries its case: ``case_path`` and ``stage``, what it waits on, and ``case_file``
(the data the steps recorded). ``do_step`` applies one action for a staff member, keeps the
ticket's status, timestamps and SLA facts in line with the stage, and audits the step as
``case.step`` (the ticket's timeline shows it). A plain status change (``PATCH status``) goes
through ``do_status_change``, which maps it onto the same actions, so a complaint cannot be
resolved around its steps. Compensation above the proposer's authority (分级授权) notifies the
supervisors; approving or rejecting it (with a comment) is a recorded step by someone whose
authority covers it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import Ticket, TicketLink
from kefu.domain import case_loop as cw
from kefu.domain import case_planner as planner
from kefu.domain import events as ev
from kefu.domain import repeat_complaints, status_machine
from kefu.domain.case_file import case_file_of, case_of
from kefu.domain.case_loop import Case, CasePath, Outcome, Policy
from kefu.domain.roles import Role
from kefu.domain.ticket_triage import TicketTriage
from kefu.domain.tickets import TicketStatus
from kefu.errors import MESSAGES, Conflict, KefuError
from kefu.services import audit
from kefu.services.actors import Actor
from kefu.services.automations import state as automation_state
from kefu.services.case_library import entries as case_entries
from kefu.services.events import unit_of_work as events
from kefu.services.fields import values as field_values
from kefu.services.intake.inbound import CaseRules
from kefu.services.qa import queue as qa_queue
from kefu.services.sla import clocks as sla
from kefu.services.surveys import schedule as surveys
from kefu.settings import Settings

STATUS_CODES = {
    "above_authority": 403,
    "bad_compensation": 422,
    "bad_rating": 422,
    "bad_wait_until": 422,
}
ROLE_NAMES_ZH = {
    Role.AGENT: "客服专员",
    Role.SPECIALIST: "客诉专员",
    Role.SUPERVISOR: "主管",
    Role.ADMIN: "管理员",
}
MISSING_NAMES_ZH = {
    "facts": "关键信息",
    "category": "确认的问题类别",
    "root_cause": "根本原因",
    "solution": "解决方案",
    "approval": "补偿审批",
    "revised_solution": "修改后的解决方案（补偿被驳回）",
    "comment": "驳回理由",
    "confirmation_or_rating": "客户确认或评分",
    "lesson": "经验总结",
}


class StepNotAllowed(KefuError):
    """A refused step as an API error: 409 (403 above one's authority), with what is missing."""

    def __init__(self, refused: cw.StepRefused, case: Case | None = None) -> None:
        code = refused.code if refused.code in MESSAGES else "invalid_step"
        stage = case.stage if case is not None else None
        role = refused.needs or Role.ADMIN
        super().__init__(
            code,
            status_code=STATUS_CODES.get(refused.code, 409),
            details={"missing": list(refused.missing), "reason": str(refused)},
            stage=cw.STAGE_NAMES_ZH[stage] if stage else "",
            stage_en=stage.value if stage else "",
            missing="、".join(MISSING_NAMES_ZH.get(m, m) for m in refused.missing),
            missing_en=", ".join(refused.missing),
            role=ROLE_NAMES_ZH[role],
            role_en=role.value,
        )


def intake_rules(settings: Settings) -> CaseRules:
    return CaseRules(
        reopen_window=timedelta(days=settings.case_reopen_days),
        repeat_window=timedelta(days=settings.repeat_complaint_days),
    )


def policy_of(settings: Settings) -> Policy:
    limits = cw.AuthorityLimits(
        agent=settings.authority_agent_yuan * 100,
        specialist=settings.authority_specialist_yuan * 100,
        supervisor=settings.authority_supervisor_yuan * 100,
    )
    return Policy(limits=limits, reopen_window=timedelta(days=settings.case_reopen_days))


# --- the case on the ticket ---------------------------------------------------------------------


def _write(ticket: Ticket, case: Case) -> None:
    """The case's own columns (status and timestamps move through ``move_status``)."""
    ticket.case_path = case.path.value
    ticket.stage = case.stage.value
    ticket.waiting_on = case.waiting.value if case.waiting else None
    ticket.case_file = case_file_of(case)
    if case.category is not None:
        ticket.category = case.category


def state_of(ticket: Ticket) -> planner.TicketState:
    """The ticket as the planner (domain/case_planner.py) sees it."""
    return planner.TicketState(
        ticket.id,
        ticket.customer_id,
        ticket.channel,
        status=TicketStatus(ticket.status),
        case=case_of(ticket),
        triage=TicketTriage.of(ticket),
        group_id=ticket.group_id,
        assignee_id=ticket.assignee_id,
        awaiting_reply_since=ticket.awaiting_reply_since,
        first_response_at=ticket.first_response_at,
        pauses=sla.decode_pauses(ticket.sla_pauses),
        closed_at=ticket.closed_at,
        last_message_at=ticket.last_message_at,
        repeat_complaint=ticket.repeat_complaint,
        route_again=ticket.route_again,
        merged_into_id=ticket.merged_into_id,
    )


def write_state(ticket: Ticket, state: planner.TicketState, now: datetime) -> None:
    """Write what the planner decided back onto the ticket; the SLA sweep looks again if a clock's
    facts changed."""
    clock_facts = (
        ticket.status,
        ticket.awaiting_reply_since,
        ticket.first_response_at,
        ticket.sla_pauses,
    )
    review_facts = qa_queue.before(ticket)
    ticket.status = state.status.value
    _write(ticket, state.case)
    ticket.resolved_at, ticket.closed_at = state.resolved_at, state.closed_at
    ticket.reopen_count = state.reopen_count
    ticket.awaiting_reply_since, ticket.first_response_at = (
        state.awaiting_reply_since,
        state.first_response_at,
    )
    ticket.sla_pauses = sla.encode_pauses(state.pauses)
    ticket.last_message_at = state.last_message_at
    ticket.route_again, ticket.repeat_complaint = state.route_again, state.repeat_complaint
    triage = state.triage
    if triage != TicketTriage.of(ticket):
        ticket.priority, ticket.risks, ticket.intent = (
            triage.priority,
            list(triage.risks),
            triage.intent,
        )
        ticket.category, ticket.emotion, ticket.sentiment = (
            triage.category,
            triage.emotion,
            triage.sentiment,
        )
        ticket.priority_reason = triage.priority_reason
        ticket.sla_check_at = now  # the budgets follow the priority
    if clock_facts != (
        ticket.status,
        ticket.awaiting_reply_since,
        ticket.first_response_at,
        ticket.sla_pauses,
    ):
        ticket.sla_check_at = now
    surveys.on_case_written(ticket, now)  # the survey or follow-up the case now owes
    automation_state.follow(ticket, now)  # the lifecycle rules' due times, in this transaction
    qa_queue.follow(ticket, review_facts, now)  # the quality review a resolution owes


def move_status(
    ticket: Ticket, target: TicketStatus, *, now: datetime, reopen: bool | None = None
) -> None:
    """Move the coarse status with its timestamps and SLA facts (domain/case_planner.py). ``reopen``:
    whether this counts as a reopen (default: any move from resolved or closed back to open)."""
    try:
        state = planner.move_status(state_of(ticket), target, now, reopen=reopen)
    except planner.StatusNotAllowed as e:
        raise Conflict("invalid_transition", current=e.current.value, target=e.target.value) from e
    write_state(ticket, state, now)


def _case_state(ticket: Ticket) -> dict[str, Any]:
    return {"stage": ticket.stage, "status": ticket.status, "waiting_on": ticket.waiting_on}


def apply_actions(
    ticket: Ticket,
    actions: tuple[cw.Action, ...],
    now: datetime,
    policy: Policy,
    *,
    check_status: Callable[[str], None] | None = None,
) -> list[Outcome]:
    """Apply actions in turn to the ticket's case and move its status along; nothing is written if
    any is refused (``StepNotAllowed``) or ``check_status`` refuses the status it would reach
    (a required field missing to resolve)."""
    if ticket.merged_into_id is not None:
        raise Conflict("ticket_merged", into=ticket.merged_into_id)
    case, outcomes = case_of(ticket), []
    try:
        for action in actions:
            outcome = cw.apply(case, action, now, policy)
            outcomes.append(outcome)
            case = outcome.case
    except cw.StepRefused as refused:
        raise StepNotAllowed(refused, case) from refused
    try:
        planned = planner.with_case(state_of(ticket), case, now)
    except planner.StatusNotAllowed as e:
        raise Conflict("invalid_transition", current=e.current.value, target=e.target.value) from e
    if check_status is not None:
        check_status(TicketStatus(planned.status).value)
    write_state(ticket, planned, now)
    return outcomes


def do_step(
    session: Session,
    actor: Actor,
    ticket: Ticket,
    action: cw.Action,
    policy: Policy,
    *,
    repeat_window: timedelta = repeat_complaints.WINDOW,
) -> Outcome:
    """One step on a ticket the caller has locked (``access_ticket(for_update=True)``)."""
    if isinstance(action, cw.ProposeSolution) and action.compensation is not None:
        action = replace(
            action,
            compensation=replace(
                action.compensation,
                proposed_by=actor.role,
                approved_by=None,
                rejected_by=None,
                comment="",
            ),
        )
    if isinstance(action, cw.Approve | cw.Reject):
        action = replace(action, by=actor.role)
    before = _case_state(ticket)
    now = utcnow()
    (outcome,) = apply_actions(
        ticket,
        (action,),
        now,
        policy,
        check_status=lambda target: field_values.check_target(session, ticket, target),
    )
    ticket.updated_at = now
    session.flush()
    audit.record(
        session,
        actor,
        "case.step",
        object_type="ticket",
        object_id=ticket.id,
        ticket_id=ticket.id,
        customer_id=ticket.customer_id,
        before=before,
        after={"step": outcome.step, **_case_state(ticket), **step_data(action)},
    )
    after = _case_state(ticket)
    told: list[ev.Event] = [ev.CaseStepTaken(ticket.id, step=outcome.step, stage=ticket.stage)]
    changed = tuple(k for k in after if after[k] != before[k])
    if changed:
        told.append(ev.TicketChanged(ticket.id, fields=changed))
    comp = outcome.case.compensation
    if (
        isinstance(action, cw.ProposeSolution)
        and comp is not None
        and not comp.settled(policy.limits)
    ):
        needed = policy.limits.approver_for(comp.amount)
        told.append(ev.ApprovalRequested(ticket.id, kind=comp.kind, amount=comp.amount,
                                         needed_role=needed.value, group_id=ticket.group_id))  # fmt: skip
    events.record(session, *told)
    if outcome.step == "stage:archived":  # the case library's entry (解决方案库)
        case_entries.do_record_archive(session, ticket, actor=actor)
    elif outcome.step == "reopened":
        case_entries.record_reopens(session.connection(), [ticket.id], now)
    if isinstance(
        action, cw.RecordAnalysis
    ):  # the confirmed category may make it a repeat complaint
        flag_repeat_complaint(session, actor, ticket, repeat_window, now)
    return outcome


def do_status_change(
    ticket: Ticket, target: TicketStatus, now: datetime, policy: Policy
) -> list[Outcome]:
    """A plain status change, as the case actions it stands for (domain ``status_actions``)."""
    current = TicketStatus(ticket.status)
    if target == current:
        return []
    try:
        status_machine.check_transition(current, target)
    except status_machine.TransitionNotAllowed as e:
        raise Conflict("invalid_transition", current=current.value, target=target.value) from e
    case = case_of(ticket)
    try:
        actions = cw.status_actions(case, target, policy)
    except cw.StepRefused as refused:
        raise StepNotAllowed(refused, case) from refused
    return apply_actions(ticket, actions, now, policy)  # no actions: a new case simply opens


def on_intent_changed(ticket: Ticket) -> None:
    """A case still at its first stage follows its intent onto the complaint or the short path."""
    case = case_of(ticket)
    moved = cw.with_intent(case, ticket.intent)
    if moved != case:
        _write(ticket, moved)


def path_and_stage(intent: str | None) -> dict[str, str]:
    """The case columns of a new ticket with this intent."""
    case = cw.open_case(cw.path_for_intent(intent))
    return {"case_path": case.path.value, "stage": case.stage.value}


def step_data(action: cw.Action) -> dict[str, Any]:
    """What a step recorded, as its audit event (``case.step``) shows it."""
    match action:
        case cw.RecordFacts(facts=facts):
            return {"facts": facts.strip()}
        case cw.RecordAnalysis(category=category, root_cause=root_cause, five_whys=whys):
            return {"category": category, "root_cause": root_cause.strip(), "five_whys": list(whys)}
        case cw.ProposeSolution(solution=solution, compensation=comp):
            data: dict[str, Any] = {"solution": solution.strip()}
            if comp is not None:
                data["compensation"] = {"kind": comp.kind, "amount": comp.amount}
            return data
        case cw.RecordFeedback(confirmed=confirmed, rating=rating):
            return {"confirmed": confirmed, "rating": rating}
        case cw.Archive(lesson=lesson):
            return {"lesson": lesson.strip()}
        case cw.Wait(on=on, until=until):
            return {"waiting_on": on.value, **({"until": until.isoformat()} if until else {})}
        case cw.Approve(comment=comment) | cw.Reject(comment=comment) if comment.strip():
            return {"comment": comment.strip()}
    return {}


def view(ticket: Ticket, policy: Policy) -> dict[str, Any]:
    """The case as the API shows it: where it stands and what it still needs to move on."""
    case = case_of(ticket)
    comp = case.compensation
    final = case.stage in cw.FINAL_STAGES or ticket.merged_into_id is not None
    needs_approval = comp is not None and comp.awaiting_approval(policy.limits)
    return {
        "path": case.path.value,
        "stage": case.stage.value,
        "stage_name": cw.STAGE_NAMES_ZH[case.stage],
        "stages": [
            s.value
            for s in (cw.COMPLAINT_STAGES if case.path == CasePath.COMPLAINT else cw.SHORT_STAGES)
        ],
        "status": ticket.status,
        "waiting_on": ticket.waiting_on,
        "waiting_until": case.waiting_until,
        "facts": case.facts,
        "category": case.category,
        "root_cause": case.cause,
        "five_whys": list(case.five_whys),
        "solution": case.solution,
        "compensation": None
        if comp is None
        else {
            "kind": comp.kind,
            "amount_yuan": f"{comp.amount / 100:.2f}",
            "proposed_by": comp.proposed_by.value,
            "approved_by": comp.approved_by.value if comp.approved_by else None,
            "rejected_by": comp.rejected_by.value if comp.rejected_by else None,
            "comment": comp.comment,
            "approval_needed_by": policy.limits.approver_for(comp.amount).value
            if needs_approval
            else None,
        },
        "customer_confirmed": case.customer_confirmed,
        "rating": case.rating,
        "lesson": case.lesson,
        "missing": [] if final else list(cw.missing_to_leave(case, policy)),
        "reopen_count": ticket.reopen_count,
        "repeat_complaint": ticket.repeat_complaint,
        "merged_into_id": ticket.merged_into_id,
    }


# --- repeat complaints (重复投诉) and the links they make -----------------------------------------


def add_link(
    session: Session, ticket_id: int, linked_ticket_id: int, kind: str, by: int | None = None
) -> bool:
    """Record a link unless it exists; True if this call made it."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(TicketLink)
        .values(
            ticket_id=ticket_id,
            linked_ticket_id=linked_ticket_id,
            kind=kind,
            created_by_id=by,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing()
        .returning(TicketLink.id)
    )
    return session.connection().execute(statement).scalar() is not None


def flag_repeat_complaint(
    session: Session, actor: Actor, ticket: Ticket, window: timedelta, now: datetime | None = None
) -> list[int]:
    """If the ticket is a complaint repeating one of the customer's earlier complaints of the
    window, flag and link it and raise its priority (audited); returns the earlier ids."""
    triage = TicketTriage.of(ticket)
    if ticket.repeat_complaint or not repeat_complaints.counts(triage):
        return []
    now = now or utcnow()
    rows = session.execute(
        select(Ticket.id, Ticket.category, Ticket.created_at).where(
            Ticket.customer_id == ticket.customer_id,
            Ticket.id < ticket.id,
            Ticket.intent == "complaint",
            Ticket.merged_into_id.is_(None),
            Ticket.created_at >= now - window,
        )
    )
    cases = [repeat_complaints.EarlierCase(r.id, r.category, r.created_at) for r in rows]
    flagged, earlier = planner.flag_repeat(state_of(ticket), cases, now, window)
    if not earlier:
        return []
    before = {"priority": ticket.priority, "repeat_complaint": False}
    write_state(ticket, flagged, now)
    session.flush()
    for earlier_id in earlier:
        add_link(session, ticket.id, earlier_id, "repeat_complaint", actor.user_id)
    audit.record(
        session,
        actor,
        "ticket.repeat_complaint",
        object_type="ticket",
        object_id=ticket.id,
        ticket_id=ticket.id,
        customer_id=ticket.customer_id,
        before=before,
        after={
            "priority": ticket.priority,
            "repeat_complaint": True,
            "earlier_ticket_ids": earlier,
            "reason": ticket.priority_reason,
        },
    )
    events.record(session, ev.TicketChanged(ticket.id, fields=("priority", "repeat_complaint")))
    return earlier
