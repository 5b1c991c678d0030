"""One synthetic ticket: its conversation planned like the demo's, then replayed into rows.

The conversation comes from the demo's planner (``demo/plan.build_ticket``: who answers, when,
claims and assignments, closing, all in the past), given the scenario with extra rounds in the
middle (``fillers.py``). The replay then walks the steps in time order through the same pure
rules the services use — ``domain/case_planner`` for statuses, SLA facts and triage,
``domain/case_loop`` for a complaint's steps (受理登记 → … → 总结归档) — so every column of the
ticket agrees with its messages and its trail as if an agent had done the work.

A ``TicketJob`` (what the history planner decided) becomes a ``TicketResult``: the ticket's row
and its events in time order (messages and audit events, without ids: ``rows.TicketSink``
writes them when the timeline reaches them). Jobs carry everything they need, so worker
processes can make tickets in parallel (``make_tickets``); the result is the same.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from kefu.demo import case_notes
from kefu.demo.content import Content, Scenario, Turn, load_content
from kefu.demo.people import CustomerProfile
from kefu.demo.plan import Step, TicketPlan, build_ticket
from kefu.demo.synthetic.analysis import read_message
from kefu.demo.synthetic.fillers import fillers
from kefu.demo.synthetic.rows import SYSTEM, TICKET_ROW, Actor, dumps
from kefu.demo.team import supervisor
from kefu.domain import case_loop as cw
from kefu.domain import case_planner as cp
from kefu.domain import sla
from kefu.domain.business_calendar import BusinessCalendar
from kefu.domain.case_file import case_file_of
from kefu.domain.repeat_complaints import EarlierCase
from kefu.domain.roles import Role
from kefu.domain.tickets import OPEN_STATUSES, TicketStatus
from kefu.sanitize import text_to_html
from kefu.services.cases.loop import step_data
from kefu.services.intake.inbound import SUBJECT_LENGTH
from kefu.services.intake.message_triage import case_changed
from kefu.services.sla.clocks import DUE_COLUMNS

POLICY = cw.Policy()
# How a reply reaches the customer on each channel, once history: (state, share) pairs.
DELIVERY = {
    "webchat": (("read", 0.85), ("delivered", 1.0)),
    "wechat": (("read", 0.7), ("delivered", 1.0)),
    "email": (("delivered", 0.9), ("sent", 1.0)),
}
NOT_SENT = frozenset({"phone", "web"})  # a call is answered on the line; staff-made cases too
STAGE_PHASES = {"registered": (), "analyzing": ("facts",), "resolving": ("facts", "analysis")}


@dataclass(frozen=True)
class Team:
    """The demo team and settings the tickets refer to."""

    user_ids: dict[str, int]  # by email
    roles: dict[str, Role]  # by email
    group_ids: dict[str, int]  # by name
    admin_id: int
    webchat_channel_id: int | None
    budgets: dict[tuple[str, str], sla.Budgets]  # SLA budgets by (channel, priority)
    calendars: dict[int, BusinessCalendar]  # by group id; others: the default calendar
    default_calendar: BusinessCalendar


@dataclass(frozen=True)
class Outcome:
    """Where a ticket stands now: its status and, while a complaint is worked on, its stage."""

    status: str
    stage: str | None = None  # registered | analyzing | resolving (open or pending complaints)
    waiting: str | None = None  # customer | third_party (pending)


@dataclass(frozen=True)
class TicketJob:
    """One ticket as the history planner decided it."""

    ticket_id: int
    seed: int  # of the ticket's own random.Random
    scenario: int  # index into the content's scenarios
    customer_id: int
    profile: CustomerProfile  # as it is now (the customer may later add channels)
    channel: str
    start: datetime
    outcome: Outcome
    rounds: int  # extra rounds of conversation
    earlier_complaints: tuple[EarlierCase, ...]  # the customer's, of the last 30 days


@dataclass
class TicketResult:
    row: tuple[Any, ...]  # the ticket's row (rows.TABLES["tickets"])
    tags: list[str]
    events: list[tuple[datetime, str, tuple[Any, ...]]]  # (at, TicketSink method, its arguments)
    messages: int


@dataclass
class _State:
    """The ticket as the replay goes: the planner's state and what the services keep beside it."""

    planner: cp.TicketState
    updated_at: datetime | None = None
    chat_accepted_at: datetime | None = None
    last_message_at: datetime | None = None  # the last message to or from the customer
    messages: int = 0


@dataclass
class TicketMaker:
    """Makes tickets from jobs."""

    content: Content
    team: Team
    now: datetime

    def make(self, job: TicketJob) -> TicketResult:
        rng = random.Random(job.seed)  # noqa: S311 - demo content, not secrets
        scenario = self.content.scenarios[job.scenario]
        profile = job.profile
        extended = with_rounds(rng, scenario, job.rounds, profile.writes_traditional)
        plan = build_ticket(rng, job.ticket_id, extended, profile, job.channel, job.start,
                            job.outcome.status, self.now, self.content)  # fmt: skip
        steps = plan.steps
        if scenario.labels.intent == "complaint":
            steps = with_case_phases(rng, steps, job.outcome, plan.assignee)
        replay = _Replay(self, rng, plan, job, scenario)
        replay.run(steps)
        return TicketResult(TICKET_ROW(replay.ticket_fields()), plan.tags, replay.events,
                            replay.state.messages)  # fmt: skip


# One maker per worker process (``make_tickets``), set up by ``start_worker``.
_maker: TicketMaker | None = None


def start_worker(team: Team, now: datetime) -> None:
    """A worker process's set-up: the content (read again here) and the team."""
    global _maker
    _maker = TicketMaker(load_content(), team, now)


def make_tickets(jobs: list[TicketJob]) -> list[TicketResult]:
    """In a worker process: the tickets of these jobs, in order."""
    assert _maker is not None, "start_worker first"
    return [_maker.make(job) for job in jobs]


def with_rounds(rng: random.Random, scenario: Scenario, rounds: int, traditional: bool) -> Scenario:
    """The scenario with ``rounds`` more exchanges after the agent's first answer (and its notes).

    Short scenarios (a greeting, thanks) and the English ones stay as they are."""
    if rounds <= 0 or not extendable(scenario):
        return scenario
    turns = list(scenario.turns)
    at = next(i for i, t in enumerate(turns) if t.kind == "agent") + 1
    while at < len(turns) and turns[at].kind == "note":
        at += 1
    writer = fillers("hant" if traditional or scenario.script == "hant" else "hans")
    labels = scenario.labels
    extra: list[Turn] = []
    for _ in range(rounds):
        extra += writer.exchange(rng, labels.category, labels.emotion)
    return replace(scenario, turns=(*turns[:at], *extra, *turns[at:]))


def extendable(scenario: Scenario) -> bool:
    """Whether a scenario takes extra rounds: a conversation of four turns or more in Chinese,
    with an answer to put them after."""
    first = scenario.turns[0].variants[0]
    english = sum(c.isascii() for c in first) > 0.8 * len(first)
    has_answer = any(t.kind == "agent" for t in scenario.turns)
    return len(scenario.turns) >= 4 and has_answer and not english


def with_case_phases(
    rng: random.Random, steps: list[Step], outcome: Outcome, assignee: str | None
) -> list[Step]:
    """A complaint's steps of the loop among its messages: facts soon after the first answer,
    the analysis later, the solution when it is resolved, the archive when it is closed.
    Status steps become ``case`` steps (their ``status`` names the phase)."""
    first_reply = next((s.at for s in steps if s.kind == "reply"), None)
    done = [s for s in steps if s.kind == "status" and s.status != "open"]
    out = [
        Step("case", s.at, s.actor, status=_PHASE_OF[s.status or ""]) if s.kind == "status" and s.status != "open" else s
        for s in steps
    ]  # fmt: skip
    if first_reply is None:
        return out
    phases = STAGE_PHASES.get(outcome.stage or "", ("facts", "analysis"))
    bound = done[0].at if done else steps[-1].at
    span = max(bound - first_reply, timedelta(0))
    shares = {"facts": rng.uniform(0.05, 0.3), "analysis": rng.uniform(0.35, 0.85)}
    for phase in phases:
        out.append(Step("case", first_reply + span * shares[phase], assignee, status=phase))
    out.sort(key=lambda s: s.at)  # stable: equal moments keep their order
    return out


_PHASE_OF = {"pending": "wait", "resolved": "resolve", "closed": "close"}


class _Replay:
    """Walks one ticket's steps in time order, keeping its state and writing its rows."""

    def __init__(
        self,
        maker: TicketMaker,
        rng: random.Random,
        plan: TicketPlan,
        job: TicketJob,
        scenario: Scenario,
    ) -> None:
        self.team = maker.team
        self.now = maker.now
        self.rng = rng
        self.plan = plan
        self.job = job
        self.ticket_id = job.ticket_id
        self.scenario = scenario  # without the extra rounds: its turns are not needed here
        self.customer_id = job.customer_id
        self.channel = plan.channel
        self.outcome = job.outcome
        self.subject = plan.subject
        self.start = plan.start
        self.traditional = job.profile.writes_traditional
        self.first_text = ""
        self.group_id: int | None = None
        self.assignee_id: int | None = None
        self.events: list[tuple[datetime, str, tuple[Any, ...]]] = []
        self.state: _State

    # --- the steps ------------------------------------------------------------------------------

    def run(self, steps: list[Step]) -> None:
        inbound = [i for i, s in enumerate(steps) if s.kind == "inbound"]
        solved = self.outcome.status in ("resolved", "closed")
        last_inbound = inbound[-1] if solved and len(inbound) > 1 else -1
        self._open(steps[0])
        for i, step in enumerate(steps[1:], start=1):
            if step.kind == "inbound":
                self._customer_wrote(step, thanks=i == last_inbound)
            elif step.kind == "triage":
                self._route(step)
            elif step.kind in ("claim", "assign"):
                self._assign(step)
            elif step.kind in ("reply", "note"):
                self._agent_wrote(step)
            elif step.kind == "status":
                self._status(step)
            elif step.kind == "case":
                self._case_phase(step)
            self.state.updated_at = step.at

    def _open(self, step: Step) -> None:
        labels = self.scenario.labels
        at, customer_id = step.at, self.customer_id
        self.first_text = step.text
        opened = cp.open_ticket(customer_id, self.channel, at, intent=labels.intent)
        reading = self._read(step.text, first=True, thanks=False)
        triaged = cp.apply_analysis(opened, reading.triage, reading.explanations, opens=True)
        self.state = _State(triaged.state, at, last_message_at=at)
        staff_made = self.channel == "web"
        creator = self._staff_creator() if staff_made else SYSTEM
        subject = self.subject or _subject(step.text)
        create_after = {"subject": subject, "status": "new", "channel": self.channel,
                        "customer_id": customer_id, **triaged.state.triage.to_json(),
                        "reasons": triaged.reasons}  # fmt: skip
        self.subject = subject
        self._audit(creator, "ticket.create", None, create_after, at)
        self._inbound_message(at, step.text, reading.analysis, audited=not staff_made)
        self._repeat_complaint(at, self.job.earlier_complaints)

    def _repeat_complaint(self, at: datetime, earlier: tuple[EarlierCase, ...]) -> None:
        """A complaint repeating one of the customer's last month: flagged, raised, linked."""
        if not earlier:
            return
        before = self.state.planner
        flagged, ids = cp.flag_repeat(replace(before, id=self.ticket_id), earlier, at)
        if not ids:
            return
        self.state.planner = flagged
        after = {"priority": flagged.triage.priority, "repeat_complaint": True,
                 "earlier_ticket_ids": ids, "reason": flagged.triage.priority_reason}  # fmt: skip
        for earlier_id in ids:
            self.events.append((at, "link", (earlier_id, "repeat_complaint")))
        self._audit(SYSTEM, "ticket.repeat_complaint",
                    {"priority": before.triage.priority, "repeat_complaint": False}, after, at)  # fmt: skip

    def _customer_wrote(self, step: Step, *, thanks: bool) -> None:
        at, state = step.at, self.state
        planned = cp.customer_wrote(state.planner, at, POLICY)
        if planned.state is not None:
            state.planner = planned.state
        reading = self._read(step.text, first=False, thanks=thanks)
        before = state.planner.triage
        triaged = cp.apply_analysis(state.planner, reading.triage, reading.explanations)
        state.planner = triaged.state
        state.last_message_at = at
        self._inbound_message(at, step.text, reading.analysis, audited=True)
        if planned.step is not None:  # resumed, reopened, or the customer's feedback
            p = state.planner
            after = {"step": planned.step, "stage": p.case.stage.value, "status": p.status.value}
            self.events.append((at, "message_step", (dumps(after)[:-1],)))  # before the id
        if case_changed(before, triaged.state.triage):  # as intake records it
            self._audit(SYSTEM, "ticket.triage", before.to_json(),
                        {**triaged.state.triage.to_json(), "reasons": triaged.reasons}, at)  # fmt: skip

    def _route(self, step: Step) -> None:
        plan_group, tags = self.plan.group, self.plan.tags
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        if plan_group is not None:
            self.group_id = self.team.group_ids[plan_group]
            before["group_id"], after["group_id"] = None, self.group_id
        if tags:
            before["tags"], after["tags"] = [], tags
        if after:
            self._audit(SYSTEM, "ticket.update", before, after, step.at)

    def _assign(self, step: Step) -> None:
        assignee = self.plan.assignee
        if assignee is None or self.assignee_id is not None:
            return
        self.assignee_id = self.team.user_ids[assignee]
        action = "ticket.claim" if step.kind == "claim" else "ticket.update"
        self._audit(self._actor(step.actor), action, {"assignee_id": None},
                    {"assignee_id": self.assignee_id}, step.at)  # fmt: skip

    def _agent_wrote(self, step: Step) -> None:
        at, state, actor = step.at, self.state, self._actor(step.actor)
        note = step.kind == "note"
        before = _case_fields(state.planner)
        if not note:
            state.planner = cp.agent_replied(state.planner, at)
            state.last_message_at = at
            if self.channel == "webchat" and state.chat_accepted_at is None:
                state.chat_accepted_at = at
        changed = _changed(before, _case_fields(state.planner))
        direction = "note" if note else "outbound"
        delivery = None if note else self._delivery()
        before_json = dumps(changed[0]) if changed[0] else None
        after_rest = dumps({"direction": direction, **changed[1]})[1:]  # after the message id
        self.events.append((at, "agent", (direction, actor, step.text, text_to_html(step.text),
                                          delivery, before_json, after_rest)))  # fmt: skip
        state.messages += 1

    def _status(self, step: Step) -> None:
        target = TicketStatus(step.status or "")
        case = self.state.planner.case
        if target == TicketStatus.PENDING:
            actions: tuple[cw.Action, ...] = (
                cw.Wait(cw.Waiting(self.outcome.waiting or "customer")),
            )
        else:
            actions = cw.status_actions(case, target, POLICY)
        before = _case_fields(self.state.planner)
        for action in actions:
            case = self._apply(case, action, step.at, None).case
        self.state.planner = cp.with_case(self.state.planner, case, step.at)
        old, new = _changed(before, _case_fields(self.state.planner))
        if new:
            self._audit(self._actor(step.actor), "ticket.update", old, new, step.at)

    def _case_phase(self, step: Step) -> None:
        """A complaint's steps of one phase, each audited as ``case.step`` like ``do_step``."""
        case = self.state.planner.case
        actions = self._phase_actions(case, step.status or "")
        if not actions:
            return
        actor = self._actor(step.actor)
        role = self.team.roles.get(step.actor or "", Role.ADMIN)
        before = _case_fields(self.state.planner)
        for action in actions:
            if isinstance(action, cw.ProposeSolution) and action.compensation is not None:
                action = replace(
                    action, compensation=replace(action.compensation, proposed_by=role)
                )
            outcome = self._apply(case, action, step.at, step.status)
            case = outcome.case
            after = _case_fields_of(case)  # the ticket's status follows its case (with_case)
            self._audit(actor, "case.step", before,
                        {"step": outcome.step, **after, **step_data(action)}, step.at)  # fmt: skip
            before = after
        self.state.planner = cp.with_case(self.state.planner, case, step.at)

    def _phase_actions(self, case: cw.Case, phase: str) -> list[cw.Action]:
        """The actions of a phase from where the case stands (none if it is past it): facts and
        analysis each record their data and advance; resolve and close are the demo's steps."""
        if phase == "wait":
            waiting = cw.Waiting(self.outcome.waiting or "customer")
            return [] if case.waiting is not None else [cw.Wait(waiting)]
        target = "closed" if phase == "close" else "resolved"
        planned = case_notes.steps_to(case, target, facts=self.first_text or "客户来电反映问题",
                                      category=self.scenario.labels.category, rng=self.rng)  # fmt: skip
        if phase in ("resolve", "close"):
            return planned
        at_stage = cw.Stage.REGISTERED if phase == "facts" else cw.Stage.ANALYSING
        worked: list[cw.Action] = [a for a in planned if not isinstance(a, cw.Resume)]
        return worked[:2] if case.stage == at_stage else []

    def _apply(
        self, case: cw.Case, action: cw.Action, at: datetime, phase: str | None
    ) -> cw.Outcome:
        try:
            return cw.apply(case, action, at, POLICY)
        except cw.StepRefused as refused:  # a bug in the plan, not bad data: say which
            raise RuntimeError(
                f"synthetic ticket {self.ticket_id} ({self.scenario.id}, {phase}): "
                f"{action!r} refused at {case.stage.value}: {refused}"
            ) from refused

    # --- writing ---------------------------------------------------------------------------------

    def _read(self, text: str, *, first: bool, thanks: bool) -> Any:
        s = self.scenario
        return read_message(self.rng, s.labels, s.flags, text, first=first, thanks=thanks,
                            traditional=self.traditional)  # fmt: skip

    def _inbound_message(
        self, at: datetime, text: str, analysis: dict[str, object], *, audited: bool
    ) -> None:
        self.events.append((at, "inbound", (text, text_to_html(text), dumps(analysis), audited)))
        self.state.messages += 1

    def _audit(
        self,
        actor: Actor,
        action: str,
        before: dict[str, Any] | None,
        after: dict[str, Any],
        at: datetime,
    ) -> None:
        """An event of the ticket's trail."""
        self.events.append(
            (at, "event", (actor, action, None if before is None else dumps(before), dumps(after)))
        )

    def _actor(self, email: str | None) -> Actor:
        return Actor.user(self.team.user_ids[email]) if email else SYSTEM

    def _staff_creator(self) -> Actor:
        return Actor.user(self.team.user_ids[self.plan.assignee or supervisor().email])

    def _delivery(self) -> str | None:
        if self.channel in NOT_SENT:
            return None
        roll = self.rng.random()
        states = DELIVERY.get(self.channel, (("delivered", 0.85), ("sent", 1.0)))
        return next(state for state, share in states if roll < share)

    # --- the ticket row --------------------------------------------------------------------------

    def ticket_fields(self) -> dict[str, Any]:
        p = self.state.planner
        triage = p.triage
        status = p.status.value
        due = self._sla_columns(p) if status in OPEN_STATUSES else {}
        return {
            "id": self.ticket_id, "subject": self.subject or "", "status": status,
            "channel": self.channel, "customer_id": self.customer_id,
            "assignee_id": self.assignee_id, "group_id": self.group_id,
            "intent": triage.intent, "category": triage.category, "priority": triage.priority,
            "risks": dumps(list(triage.risks)), "emotion": triage.emotion,
            "sentiment": triage.sentiment, "priority_reason": triage.priority_reason,
            "first_response_due_at": due.get("first_response_due_at"),
            "next_response_due_at": due.get("next_response_due_at"),
            "resolution_due_at": due.get("resolution_due_at"),
            "first_response_at": p.first_response_at,
            "resolved_at": p.resolved_at if p.status in cp.DONE else None,
            "closed_at": p.closed_at, "reopen_count": p.reopen_count,
            "last_message_at": self.state.last_message_at, "awaiting_reply_since": p.awaiting_reply_since,
            "sla_pauses": dumps([[s.isoformat(), e.isoformat() if e else None] for s, e in p.pauses]),
            "sla_check_at": due.get("sla_check_at"), "escalations": 0,
            "route_again": p.route_again, "case_path": p.case.path.value,
            "stage": p.case.stage.value,
            "waiting_on": p.case.waiting.value if p.case.waiting else None,
            "case_file": dumps(case_file_of(p.case)), "repeat_complaint": p.repeat_complaint,
            "chat_passed_by": "[]", "chat_accepted_at": self.state.chat_accepted_at,
            "webchat_channel_id": self.team.webchat_channel_id if self.channel == "webchat" else None,
            "created_at": self.start, "updated_at": self.state.updated_at,
        }  # fmt: skip

    def _sla_columns(self, p: cp.TicketState) -> dict[str, datetime | None]:
        """The deadlines of the clocks still running, as the sweep writes them; the sweep looks
        again at the first warning or breach not yet fired (it fires them) or at the next one."""
        team = self.team
        calendar = team.calendars.get(self.group_id or 0, team.default_calendar)
        facts = sla.SlaFacts(self.start, p.first_response_at, p.awaiting_reply_since,
                             None, p.pauses)  # fmt: skip
        budgets = team.budgets[(self.channel, p.triage.priority)]
        evaluation = sla.evaluate(facts, budgets, calendar, self.now)
        out: dict[str, datetime | None] = {}
        for target, column in DUE_COLUMNS.items():
            clock = next(
                (c for c in evaluation.clocks if c.target == target and c.stopped_at is None), None
            )
            out[column] = clock.due_at if clock else None
        pending = [e.at for e in evaluation.due if not e.after_stop]
        out["sla_check_at"] = min(pending) if pending else evaluation.next_check_at
        return out


# --- small helpers ---------------------------------------------------------------------------


def _subject(text: str) -> str:
    """The subject intake gives a message without one: its first line, shortened."""
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first_line[:SUBJECT_LENGTH]


def _case_fields(state: cp.TicketState) -> dict[str, Any]:
    """The case's fields the trail records (``stage``, ``status``, ``waiting_on``)."""
    case = state.case
    return {
        "stage": case.stage.value,
        "status": state.status.value,
        "waiting_on": case.waiting.value if case.waiting else None,
    }


def _case_fields_of(case: cw.Case) -> dict[str, Any]:
    """The same for a case the ticket is about to follow (its status is the case's)."""
    return {
        "stage": case.stage.value,
        "status": case.status.value,
        "waiting_on": case.waiting.value if case.waiting else None,
    }


def _changed(
    before: dict[str, Any], after: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}
