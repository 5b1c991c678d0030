"""Lifecycle automations (自动化规则): what kefu does on its own, decided without I/O.

Two fixed rules every team has, with its own hours:

- a resolved short-path case closes by itself ``close_resolved_after`` its resolution;
- a case waiting on the customer gets one nudge ``nudge_after`` the wait began, and closes
  ``close_unanswered_after`` the nudge if the customer still has not written.

and the admins' own if/then triggers: a ``Trigger`` fires on an event (a customer message, a
status change, a survey answer, …) or on time (so long after a fact of the ticket, checked by
the sweep), when every condition on the ticket's fields holds; its actions set a field, assign,
tag, notify someone or send a script.

No automation may skip a step of the complaint loop: a status change is translated through
``case_loop.status_actions`` (the same rule an agent's status menu obeys), the stage is never a
field a rule sets, and a trigger that could resolve or close a complaint is refused when it is
saved (``check_trigger``) and again when it runs (``guard``). The service applies what is left
through the case loop and audits it as the system acting.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from kefu.domain import case_loop
from kefu.domain.case_loop import Case, CasePath, Stage, StepRefused, Waiting
from kefu.domain.tickets import Priority, TicketStatus

# The fixed rules ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LifecyclePolicy:
    """None switches a rule off."""

    close_resolved_after: timedelta | None = timedelta(hours=72)
    nudge_after: timedelta | None = timedelta(hours=48)
    close_unanswered_after: timedelta | None = timedelta(hours=72)  # after the nudge

    def __post_init__(self) -> None:
        delays = (self.close_resolved_after, self.nudge_after, self.close_unanswered_after)
        if any(d is not None and d <= timedelta(0) for d in delays):
            raise StepRefused("bad_policy", "an automation waits a positive time")


class LifecycleStep(StrEnum):
    CLOSE_RESOLVED = "auto:close_resolved"
    NUDGE = "auto:nudge"
    CLOSE_UNANSWERED = "auto:close_unanswered"


@dataclass(frozen=True)
class LifecycleFacts:
    case: Case
    waiting_since: datetime | None = None  # when the current wait began
    nudged_at: datetime | None = None  # the nudge of the current wait, if sent


def close_resolved_due(facts: LifecycleFacts, policy: LifecyclePolicy) -> datetime | None:
    """When a resolved short-path case closes by itself. A complaint never does: it is archived
    through its steps (a lesson-learned note), so None."""
    case = facts.case
    after = policy.close_resolved_after
    if after is None or case.path != CasePath.SHORT or case.stage != Stage.RESOLVED:
        return None
    return case.resolved_at + after if case.resolved_at is not None else None


def nudge_due(facts: LifecycleFacts, policy: LifecyclePolicy) -> datetime | None:
    """When the customer gets a reminder that the case waits on them (once per wait)."""
    if policy.nudge_after is None or not _waiting_on_customer(facts):
        return None
    if facts.nudged_at is not None or facts.waiting_since is None:
        return None
    return facts.waiting_since + policy.nudge_after


def close_unanswered_due(facts: LifecycleFacts, policy: LifecyclePolicy) -> datetime | None:
    """When a nudged short-path case closes for want of an answer. A complaint is not closed
    this way (its loop has no such step); its owner sees it waiting instead."""
    after = policy.close_unanswered_after
    if after is None or facts.nudged_at is None or not _waiting_on_customer(facts):
        return None
    if facts.case.path != CasePath.SHORT:
        return None
    return facts.nudged_at + after


def lifecycle_step(
    facts: LifecycleFacts, policy: LifecyclePolicy, now: datetime
) -> tuple[LifecycleStep, tuple[case_loop.Action, ...]] | None:
    """The automatic step due at ``now``, with the case-loop actions that make it (a nudge has
    none: the service sends a message), or None."""
    due = close_resolved_due(facts, policy)
    if due is not None and due <= now:
        return LifecycleStep.CLOSE_RESOLVED, _status_change(facts.case, TicketStatus.CLOSED)
    due = close_unanswered_due(facts, policy)
    if due is not None and due <= now:
        return LifecycleStep.CLOSE_UNANSWERED, _status_change(facts.case, TicketStatus.CLOSED)
    due = nudge_due(facts, policy)
    if due is not None and due <= now:
        return LifecycleStep.NUDGE, ()
    return None


def _waiting_on_customer(facts: LifecycleFacts) -> bool:
    return facts.case.waiting == Waiting.CUSTOMER and facts.case.stage not in case_loop.DONE_STAGES


def _status_change(case: Case, target: TicketStatus) -> tuple[case_loop.Action, ...]:
    return case_loop.status_actions(case, target, case_loop.Policy())


# Triggers -------------------------------------------------------------------------------------


class Event(StrEnum):
    CREATED = "created"
    CUSTOMER_MESSAGE = "customer_message"
    AGENT_REPLY = "agent_reply"
    STATUS_CHANGED = "status_changed"
    ASSIGNED = "assigned"
    SURVEY_ANSWERED = "survey_answered"
    SLA_WARNING = "sla_warning"
    SLA_BREACHED = "sla_breached"
    TIME = "time"  # the sweep: for triggers on time


@dataclass(frozen=True)
class TicketFacts:
    """What a trigger may look at."""

    path: CasePath
    stage: Stage
    status: TicketStatus
    priority: Priority
    channel: str
    category: str | None = None
    intent: str | None = None
    emotion: str | None = None
    group: str | None = None
    assignee_id: int | None = None
    tags: frozenset[str] = frozenset()  # the ticket's and its customer's, e.g. "VIP", "line:外卖"
    waiting: Waiting | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    resolved_at: datetime | None = None
    last_customer_message_at: datetime | None = None
    fired: frozenset[str] = frozenset()  # names of time triggers that already fired on it


class Op(StrEnum):
    IS = "is"  # the field's value is one of ``values``
    IS_NOT = "is_not"
    HAS_TAG = "has_tag"  # any of ``values`` among the tags
    LACKS_TAG = "lacks_tag"  # none of them


CONDITION_FIELDS = frozenset(
    {"path", "stage", "status", "priority", "channel", "category", "intent", "emotion", "group"}
)
TIME_FIELDS = frozenset({"created_at", "updated_at", "resolved_at", "last_customer_message_at"})


@dataclass(frozen=True)
class Condition:
    field: str  # one of CONDITION_FIELDS, or "tags" with HAS_TAG / LACKS_TAG
    op: Op
    values: frozenset[str]

    def holds(self, facts: TicketFacts) -> bool:
        if self.op in (Op.HAS_TAG, Op.LACKS_TAG):
            has = bool(self.values & facts.tags)
            return has if self.op == Op.HAS_TAG else not has
        value = getattr(facts, self.field)
        text = None if value is None else str(value)
        return (text in self.values) == (self.op == Op.IS)


@dataclass(frozen=True)
class After:
    """A time condition: at least ``delay`` since the ticket's ``since`` fact."""

    since: str  # one of TIME_FIELDS
    delay: timedelta


# Actions ------------------------------------------------------------------------------------


SETTABLE_FIELDS = frozenset({"status", "priority", "category"})


@dataclass(frozen=True)
class SetField:
    field: str  # one of SETTABLE_FIELDS; never the stage
    value: str


@dataclass(frozen=True)
class Assign:
    group: str | None = None
    agent_id: int | None = None


@dataclass(frozen=True)
class AddTag:
    tag: str


@dataclass(frozen=True)
class Notify:
    who: str  # "owner", "group", "supervisors"
    message: str


@dataclass(frozen=True)
class SendScript:
    script_key: str  # a script of the library, sent to the customer through the outbox


Action = SetField | Assign | AddTag | Notify | SendScript
NOTIFY_TARGETS = frozenset({"owner", "group", "supervisors"})


@dataclass(frozen=True)
class Trigger:
    name: str
    on: Event
    conditions: tuple[Condition, ...] = ()
    after: After | None = None  # only with Event.TIME
    actions: tuple[Action, ...] = ()
    active: bool = True


def check_trigger(trigger: Trigger) -> None:
    """Refuse a trigger that cannot work or could skip a complaint's steps (when it is saved)."""
    if not trigger.name.strip():
        raise StepRefused("bad_trigger", "a trigger has a name")
    if not trigger.actions:
        raise StepRefused("bad_trigger", "a trigger does something")
    if (trigger.on == Event.TIME) != (trigger.after is not None):
        raise StepRefused("bad_trigger", "a time trigger, and only it, says how long after what")
    if trigger.after is not None and (
        trigger.after.since not in TIME_FIELDS or trigger.after.delay <= timedelta(0)
    ):
        raise StepRefused("bad_trigger", "a time condition counts from a ticket time, forward")
    for condition in trigger.conditions:
        tag_op = condition.op in (Op.HAS_TAG, Op.LACKS_TAG)
        if (condition.field == "tags") != tag_op or (
            not tag_op and condition.field not in CONDITION_FIELDS
        ):
            raise StepRefused(
                "bad_trigger", f"no condition on {condition.field!r} with {condition.op}"
            )
        if not condition.values:
            raise StepRefused("bad_trigger", "a condition names at least one value")
    for action in trigger.actions:
        _check_action(action)
    if _closes(trigger.actions) and not _short_path_only(trigger.conditions):
        raise StepRefused(
            "steps_required",
            "a trigger that resolves or closes cases must be limited to the short path "
            "(a complaint is resolved and archived through its steps)",
        )


def evaluate(trigger: Trigger, facts: TicketFacts, event: Event, now: datetime) -> list[Action]:
    """The actions ``trigger`` takes on ``event`` at ``now`` for this ticket: all of them when
    it fires, none otherwise. A time trigger fires once per ticket (``facts.fired``). The
    caller runs ``guard`` before applying them."""
    if not trigger.active or event != trigger.on:
        return []
    if trigger.after is not None:
        if trigger.name in facts.fired:
            return []
        start: datetime | None = getattr(facts, trigger.after.since)
        if start is None or now < start + trigger.after.delay:
            return []
    if not all(condition.holds(facts) for condition in trigger.conditions):
        return []
    return list(trigger.actions)


@dataclass(frozen=True)
class Guarded:
    allowed: tuple[Action, ...]
    refused: tuple[tuple[Action, str], ...]  # each with the case loop's refusal code


def guard(actions: Iterable[Action], facts: TicketFacts) -> Guarded:
    """Split ``actions`` into those that keep the complaint loop whole and those that would
    skip a step (a complaint resolved or closed by a rule). The loop's own rule decides."""
    case = Case(facts.path, facts.stage, waiting=facts.waiting)
    allowed: list[Action] = []
    refused: list[tuple[Action, str]] = []
    for action in actions:
        try:
            _check_action(action)
            if isinstance(action, SetField) and action.field == "status":
                case_loop.status_actions(case, TicketStatus(action.value), case_loop.Policy())
        except StepRefused as e:
            refused.append((action, e.code))
            continue
        allowed.append(action)
    return Guarded(tuple(allowed), tuple(refused))


def _check_action(action: Action) -> None:
    match action:
        case SetField(field=name, value=value):
            if name not in SETTABLE_FIELDS:
                raise StepRefused("bad_action", f"a trigger does not set {name!r}")
            try:
                if name == "status":
                    TicketStatus(value)
                elif name == "priority":
                    Priority(value)
            except ValueError as e:
                raise StepRefused("bad_action", f"{value!r} is not a {name}") from e
            if name == "status" and value == TicketStatus.NEW:
                raise StepRefused("bad_action", "no case goes back to new")
        case Assign(group=group, agent_id=agent):
            if group is None and agent is None:
                raise StepRefused("bad_action", "an assignment names a group or an agent")
        case AddTag(tag=tag):
            if not tag.strip():
                raise StepRefused("bad_action", "a tag has a name")
        case Notify(who=who):
            if who not in NOTIFY_TARGETS:
                raise StepRefused("bad_action", f"nobody called {who!r} to notify")
        case SendScript(script_key=key):
            if not key.strip():
                raise StepRefused("bad_action", "which script?")


def _closes(actions: Iterable[Action]) -> bool:
    return any(
        isinstance(a, SetField)
        and a.field == "status"
        and a.value in (TicketStatus.RESOLVED, TicketStatus.CLOSED)
        for a in actions
    )


def _short_path_only(conditions: Iterable[Condition]) -> bool:
    return any(
        c.field == "path"
        and (
            (c.op == Op.IS and c.values == {CasePath.SHORT.value})
            or (c.op == Op.IS_NOT and CasePath.COMPLAINT.value in c.values)
        )
        for c in conditions
    )
