"""Lifecycle automations: auto-close, nudges, admins' triggers, and the complaint-loop guard."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.domain.automations import (
    AddTag,
    After,
    Assign,
    Condition,
    Event,
    LifecycleFacts,
    LifecyclePolicy,
    LifecycleStep,
    Notify,
    Op,
    SendScript,
    SetField,
    TicketFacts,
    Trigger,
    check_trigger,
    close_resolved_due,
    close_unanswered_due,
    evaluate,
    guard,
    lifecycle_step,
    nudge_due,
)
from kefu.domain.case_loop import (
    Advance,
    Case,
    CasePath,
    Policy,
    Resume,
    Stage,
    StepRefused,
    Waiting,
    apply,
    status_actions,
)
from kefu.domain.tickets import Priority, TicketStatus

DONE = {Stage.FOLLOWING_UP.value, Stage.ARCHIVED.value}
T0 = datetime(2026, 3, 6, 10, 0, tzinfo=UTC)
H = timedelta(hours=1)
POLICY = LifecyclePolicy()

# The fixed rules ------------------------------------------------------------------------------


def test_a_resolved_short_case_closes_after_the_set_time() -> None:
    facts = LifecycleFacts(Case(CasePath.SHORT, Stage.RESOLVED, resolved_at=T0))
    assert close_resolved_due(facts, POLICY) == T0 + 72 * H
    assert lifecycle_step(facts, POLICY, T0 + 72 * H - timedelta(seconds=1)) is None
    step = lifecycle_step(facts, POLICY, T0 + 72 * H)
    assert step == (LifecycleStep.CLOSE_RESOLVED, (Advance(),))
    assert apply(facts.case, Advance(), T0 + 72 * H).case.stage == Stage.CLOSED
    off = LifecyclePolicy(close_resolved_after=None)
    assert close_resolved_due(facts, off) is None
    with pytest.raises(StepRefused):
        LifecyclePolicy(nudge_after=timedelta(0))


def test_a_complaint_never_closes_by_itself() -> None:
    at_follow_up = Case(CasePath.COMPLAINT, Stage.FOLLOWING_UP, resolved_at=T0)
    assert close_resolved_due(LifecycleFacts(at_follow_up), POLICY) is None
    waiting = Case(CasePath.COMPLAINT, Stage.RESOLVING, waiting=Waiting.CUSTOMER)
    nudged = LifecycleFacts(waiting, waiting_since=T0, nudged_at=T0 + 48 * H)
    assert close_unanswered_due(nudged, POLICY) is None
    assert lifecycle_step(nudged, POLICY, T0 + 1000 * H) is None
    # …but its customer is nudged like anyone's
    assert nudge_due(LifecycleFacts(waiting, waiting_since=T0), POLICY) == T0 + 48 * H


def test_a_waiting_case_is_nudged_once_then_closed_if_nothing_comes() -> None:
    case = Case(CasePath.SHORT, Stage.OPEN, waiting=Waiting.CUSTOMER)
    facts = LifecycleFacts(case, waiting_since=T0)
    assert nudge_due(facts, POLICY) == T0 + 48 * H
    assert lifecycle_step(facts, POLICY, T0 + 47 * H) is None
    assert lifecycle_step(facts, POLICY, T0 + 48 * H) == (LifecycleStep.NUDGE, ())
    nudged = replace(facts, nudged_at=T0 + 49 * H)
    assert nudge_due(nudged, POLICY) is None
    assert close_unanswered_due(nudged, POLICY) == T0 + 121 * H
    assert lifecycle_step(nudged, POLICY, T0 + 120 * H) is None
    step, actions = lifecycle_step(nudged, POLICY, T0 + 121 * H) or (None, ())
    assert step == LifecycleStep.CLOSE_UNANSWERED
    assert actions == (Resume(), Advance(), Advance())
    closed = case
    for action in actions:
        closed = apply(closed, action, T0 + 121 * H).case
    assert closed.stage == Stage.CLOSED


def test_no_nudge_when_waiting_on_a_third_party_or_not_waiting() -> None:
    third = Case(CasePath.SHORT, Stage.OPEN, waiting=Waiting.THIRD_PARTY)
    assert nudge_due(LifecycleFacts(third, waiting_since=T0), POLICY) is None
    working = Case(CasePath.SHORT, Stage.OPEN)
    assert nudge_due(LifecycleFacts(working, waiting_since=T0), POLICY) is None
    off = LifecyclePolicy(nudge_after=None, close_unanswered_after=None)
    waiting = LifecycleFacts(replace(working, waiting=Waiting.CUSTOMER), T0, T0 + H)
    assert nudge_due(waiting, off) is None and close_unanswered_due(waiting, off) is None


# Triggers -------------------------------------------------------------------------------------


def ticket(**kw: object) -> TicketFacts:
    base: dict[str, object] = {
        "path": CasePath.SHORT,
        "stage": Stage.OPEN,
        "status": TicketStatus.OPEN,
        "priority": Priority.P3,
        "channel": "email",
        "category": "logistics",
        "tags": frozenset({"line:外卖"}),
        "created_at": T0,
        "updated_at": T0,
    }
    return TicketFacts(**{**base, **kw})  # type: ignore[arg-type]


VIP_ANGRY = Trigger(
    "VIP 愤怒升级",
    Event.CUSTOMER_MESSAGE,
    (
        Condition("tags", Op.HAS_TAG, frozenset({"VIP"})),
        Condition("emotion", Op.IS, frozenset({"angry"})),
    ),
    actions=(SetField("priority", "P2"), Notify("supervisors", "VIP 客户情绪激动")),
)


def test_a_trigger_fires_on_its_event_when_every_condition_holds() -> None:
    facts = ticket(tags=frozenset({"VIP"}), emotion="angry")
    assert evaluate(VIP_ANGRY, facts, Event.CUSTOMER_MESSAGE, T0) == list(VIP_ANGRY.actions)
    assert evaluate(VIP_ANGRY, facts, Event.AGENT_REPLY, T0) == []
    assert evaluate(VIP_ANGRY, replace(facts, emotion="neutral"), Event.CUSTOMER_MESSAGE, T0) == []
    assert evaluate(VIP_ANGRY, replace(facts, tags=frozenset()), Event.CUSTOMER_MESSAGE, T0) == []
    inactive = replace(VIP_ANGRY, active=False)
    assert evaluate(inactive, facts, Event.CUSTOMER_MESSAGE, T0) == []


def test_condition_operators() -> None:
    facts = ticket(assignee_id=None)
    assert Condition("category", Op.IS_NOT, frozenset({"quality"})).holds(facts)
    assert not Condition("category", Op.IS_NOT, frozenset({"logistics"})).holds(facts)
    assert Condition("priority", Op.IS, frozenset({"P3", "P4"})).holds(facts)
    assert Condition("group", Op.IS_NOT, frozenset({"售后组"})).holds(facts)  # no group
    assert Condition("tags", Op.LACKS_TAG, frozenset({"VIP"})).holds(facts)
    assert not Condition("tags", Op.LACKS_TAG, frozenset({"line:外卖", "VIP"})).holds(facts)


STALE = Trigger(
    "三天未更新提醒",
    Event.TIME,
    (Condition("status", Op.IS, frozenset({"open"})),),
    After("updated_at", timedelta(days=3)),
    (Notify("owner", "工单三天未更新"), AddTag("stale")),
)


def test_a_time_trigger_fires_once_when_its_time_has_come() -> None:
    facts = ticket()
    assert evaluate(STALE, facts, Event.TIME, T0 + timedelta(days=3) - H) == []
    assert len(evaluate(STALE, facts, Event.TIME, T0 + timedelta(days=3))) == 2
    assert evaluate(STALE, facts, Event.CUSTOMER_MESSAGE, T0 + timedelta(days=4)) == []
    fired = replace(facts, fired=frozenset({STALE.name}))
    assert evaluate(STALE, fired, Event.TIME, T0 + timedelta(days=9)) == []
    no_fact = replace(
        STALE, after=After("last_customer_message_at", timedelta(hours=1))
    )  # the ticket has no customer message time: it never fires
    assert evaluate(no_fact, facts, Event.TIME, T0 + timedelta(days=9)) == []


def test_well_formed_triggers_pass_the_check() -> None:
    check_trigger(VIP_ANGRY)
    check_trigger(STALE)
    closes_short = Trigger(
        "咨询满意即关闭",
        Event.SURVEY_ANSWERED,
        (Condition("path", Op.IS, frozenset({"short"})),),
        actions=(SetField("status", "closed"), Assign(group="回访组"), SendScript("thanks")),
    )
    check_trigger(closes_short)
    check_trigger(
        replace(closes_short, conditions=(Condition("path", Op.IS_NOT, frozenset({"complaint"})),))
    )


@pytest.mark.parametrize(
    "trigger",
    [
        Trigger(" ", Event.CREATED, actions=(AddTag("x"),)),
        Trigger("空", Event.CREATED),
        Trigger("无时间", Event.TIME, actions=(AddTag("x"),)),
        Trigger("有时间", Event.CREATED, after=After("created_at", H), actions=(AddTag("x"),)),
        Trigger("倒退", Event.TIME, after=After("created_at", -H), actions=(AddTag("x"),)),
        Trigger("怪时间", Event.TIME, after=After("birthday", H), actions=(AddTag("x"),)),
        Trigger(
            "怪字段",
            Event.CREATED,
            (Condition("secret", Op.IS, frozenset({"x"})),),
            actions=(AddTag("x"),),
        ),
        Trigger(
            "标签用错",
            Event.CREATED,
            (Condition("tags", Op.IS, frozenset({"VIP"})),),
            actions=(AddTag("x"),),
        ),
        Trigger(
            "空条件",
            Event.CREATED,
            (Condition("channel", Op.IS, frozenset()),),
            actions=(AddTag("x"),),
        ),
        Trigger("设阶段", Event.CREATED, actions=(SetField("stage", "archived"),)),
        Trigger("怪优先级", Event.CREATED, actions=(SetField("priority", "P9"),)),
        Trigger("回到新建", Event.CREATED, actions=(SetField("status", "new"),)),
        Trigger("空分配", Event.CREATED, actions=(Assign(),)),
        Trigger("空标签", Event.CREATED, actions=(AddTag(" "),)),
        Trigger("通知谁", Event.CREATED, actions=(Notify("everyone", "hi"),)),
        Trigger("空话术", Event.CREATED, actions=(SendScript(""),)),
    ],
)
def test_broken_triggers_are_refused(trigger: Trigger) -> None:
    with pytest.raises(StepRefused) as refused:
        check_trigger(trigger)
    assert refused.value.code in ("bad_trigger", "bad_action")


@pytest.mark.parametrize("status", ["resolved", "closed"])
def test_a_trigger_that_could_close_a_complaint_is_refused_when_saved(status: str) -> None:
    trigger = Trigger(
        "满意就关",
        Event.SURVEY_ANSWERED,
        (Condition("category", Op.IS, frozenset({"logistics"})),),
        actions=(SetField("status", status),),
    )
    with pytest.raises(StepRefused) as refused:
        check_trigger(trigger)
    assert refused.value.code == "steps_required"


# The guard --------------------------------------------------------------------------------------


def test_the_guard_refuses_resolving_or_closing_a_complaint() -> None:
    complaint = ticket(path=CasePath.COMPLAINT, stage=Stage.RESOLVING)
    actions = [
        SetField("status", "resolved"),
        SetField("status", "closed"),
        SetField("status", "pending"),
        SetField("priority", "P1"),
        AddTag("escalated"),
    ]
    guarded = guard(actions, complaint)
    assert [code for _, code in guarded.refused] == ["steps_required", "steps_required"]
    assert guarded.allowed == (
        SetField("status", "pending"),
        SetField("priority", "P1"),
        AddTag("escalated"),
    )


def test_the_guard_lets_a_short_case_close_and_refuses_broken_actions() -> None:
    guarded = guard([SetField("status", "closed"), SetField("stage", "closed")], ticket())
    assert guarded.allowed == (SetField("status", "closed"),)
    assert guarded.refused == ((SetField("stage", "closed"), "bad_action"),)


COMPLAINT_STAGES = list(Stage)[:5]


@given(
    start=st.sampled_from(COMPLAINT_STAGES),
    statuses=st.lists(st.sampled_from([s.value for s in TicketStatus]), max_size=6),
)
def test_no_guarded_rule_moves_a_complaint_past_a_step(start: Stage, statuses: list[str]) -> None:
    """Whatever status changes rules ask for, what the guard lets through, applied through the
    case loop, never moves a complaint forward a stage."""
    case = Case(CasePath.COMPLAINT, start, resolved_at=T0 if start.value in DONE else None)
    for status in statuses:
        facts = ticket(path=case.path, stage=case.stage, status=case.status, waiting=case.waiting)
        for action in guard([SetField("status", status)], facts).allowed:
            assert isinstance(action, SetField)
            before = COMPLAINT_STAGES.index(case.stage)
            try:
                for step in status_actions(case, TicketStatus(action.value), Policy()):
                    case = apply(case, step, T0).case
            except StepRefused:
                continue  # the loop refuses it on its own (a resolved case does not wait)
            assert COMPLAINT_STAGES.index(case.stage) <= before
