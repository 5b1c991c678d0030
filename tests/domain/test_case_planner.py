"""The planner of case changes (domain/case_planner.py): the one copy of the rules for statuses,
reopening, a customer's message, the analysis and repeat complaints."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.domain import case_loop as cw
from kefu.domain import case_planner as planner
from kefu.domain.repeat_complaints import EarlierCase
from kefu.domain.ticket_triage import TicketTriage
from kefu.domain.tickets import TicketStatus as S

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
POLICY = cw.Policy(reopen_window=timedelta(days=7))


def ticket(**overrides) -> planner.TicketState:
    return replace(planner.open_ticket(1, "web", T0), id=10, **overrides)


def complaint_at(stage: cw.Stage, **case) -> planner.TicketState:
    state = ticket(case=replace(cw.open_case(cw.CasePath.COMPLAINT), stage=stage, **case))
    return replace(state, status=state.case.status)


# --- status ---------------------------------------------------------------------------------------


def test_resolving_and_closing_keep_their_times_and_pause_the_clocks():
    resolved = planner.move_status(ticket(status=S.OPEN), S.RESOLVED, T0 + timedelta(hours=1))
    assert resolved.resolved_at == T0 + timedelta(hours=1) and resolved.pauses == (
        (T0 + timedelta(hours=1), None),
    )
    closed = planner.move_status(resolved, S.CLOSED, T0 + timedelta(hours=2))
    assert closed.closed_at == T0 + timedelta(hours=2)
    assert closed.resolved_at == T0 + timedelta(hours=1)  # when it was solved, not when closed
    assert closed.pauses == resolved.pauses  # still paused
    reopened = planner.move_status(closed, S.OPEN, T0 + timedelta(hours=3))
    assert (reopened.resolved_at, reopened.closed_at, reopened.reopen_count) == (None, None, 1)
    assert reopened.pauses == ((T0 + timedelta(hours=1), T0 + timedelta(hours=3)),)


def test_a_move_the_state_machine_forbids_is_refused():
    with pytest.raises(planner.StatusNotAllowed):
        planner.move_status(ticket(status=S.CLOSED), S.PENDING, T0)
    same = ticket(status=S.OPEN)
    assert planner.move_status(same, S.OPEN, T0) is same


def test_a_step_of_the_loop_moves_the_status_and_counts_a_reopen_once():
    state = ticket(status=S.OPEN)
    done = cw.apply(state.case, cw.Advance(), T0).case  # the short path: open → resolved
    resolved = planner.with_case(state, done, T0)
    assert (resolved.status, resolved.resolved_at) == (S.RESOLVED, T0)
    again = cw.apply(resolved.case, cw.Reopen(), T0 + timedelta(hours=1)).case
    reopened = planner.with_case(resolved, again, T0 + timedelta(hours=1))
    assert (reopened.status, reopened.reopen_count, reopened.resolved_at) == (S.OPEN, 1, None)


def test_the_category_confirmed_in_the_analysis_replaces_the_one_analysis_guessed():
    """Regression: the ticket's guessed category was written back over the confirmed one, so
    a complaint whose analysis named another category could never leave 分析评估."""
    state = complaint_at(cw.Stage.ANALYSING, facts="杯子碎了")
    state = replace(state, triage=replace(state.triage, category="logistics"))
    analysed = cw.apply(state.case, cw.RecordAnalysis("quality", "包装太薄"), T0).case
    after = planner.with_case(state, analysed, T0)
    assert (after.triage.category, after.case.category) == ("quality", "quality")


def test_a_reply_is_the_first_response_once_and_stops_the_customer_waiting():
    replied = planner.agent_replied(ticket(), T0 + timedelta(minutes=3))
    assert (replied.status, replied.first_response_at, replied.awaiting_reply_since) == (
        S.OPEN,
        T0 + timedelta(minutes=3),
        None,
    )
    again = planner.agent_replied(
        replace(replied, awaiting_reply_since=T0 + timedelta(hours=1)), T0 + timedelta(hours=2)
    )
    assert (
        again.first_response_at == T0 + timedelta(minutes=3) and again.awaiting_reply_since is None
    )
    pending = planner.agent_replied(ticket(status=S.PENDING), T0)
    assert pending.status == S.PENDING  # a reply leaves a chosen status as it is


# --- a customer's message -------------------------------------------------------------------------


def test_a_customer_answering_a_case_that_waits_on_them_puts_it_back_to_work():
    waiting = ticket(status=S.PENDING, case=replace(cw.open_case(cw.CasePath.SHORT), waiting=cw.Waiting.CUSTOMER),
                     pauses=((T0, None),), awaiting_reply_since=None)  # fmt: skip
    plan = planner.customer_wrote(waiting, T0 + timedelta(minutes=5), POLICY)
    assert plan.step == "resume" and plan.state is not None
    assert (plan.state.status, plan.state.case.waiting) == (S.OPEN, None)
    assert plan.state.pauses == ((T0, T0 + timedelta(minutes=5)),)
    assert plan.state.awaiting_reply_since == T0 + timedelta(minutes=5)  # now they wait for us


def test_a_case_waiting_on_a_third_party_keeps_waiting():
    state = ticket(
        status=S.PENDING,
        case=replace(cw.open_case(cw.CasePath.SHORT), waiting=cw.Waiting.THIRD_PARTY),
    )
    plan = planner.customer_wrote(state, T0, POLICY)
    assert plan.step is None and plan.state is not None and plan.state.status == S.PENDING


def test_writing_within_the_window_reopens_a_resolved_complaint_counted_and_unconfirmed():
    resolved = complaint_at(
        cw.Stage.FOLLOWING_UP, resolved_at=T0, customer_confirmed=True, rating=4
    )
    assert (
        planner.customer_wrote(resolved, T0 + timedelta(days=1), POLICY).step == "customer_feedback"
    )
    archived = complaint_at(cw.Stage.ARCHIVED, resolved_at=T0, customer_confirmed=True, rating=4)
    plan = planner.customer_wrote(archived, T0 + timedelta(days=2), POLICY)
    assert plan.step == "reopened" and plan.state is not None
    state = plan.state
    assert (state.status, state.case.stage, state.reopen_count) == (S.OPEN, cw.Stage.RESOLVING, 1)
    assert (
        state.resolved_at,
        state.closed_at,
        state.case.customer_confirmed,
        state.case.rating,
    ) == (None, None, False, None)


def test_writing_after_the_window_asks_for_a_new_case_linked_to_the_old_one():
    old = complaint_at(cw.Stage.ARCHIVED, resolved_at=T0)
    plan = planner.customer_wrote(old, T0 + timedelta(days=8), POLICY)
    assert (plan.state, plan.follow_up_of) == (None, 10)


# --- analysis -------------------------------------------------------------------------------------

THREAT = TicketTriage(
    "P1", ("media",), "complaint", "return_refund", "angry", "negative", "P1：媒体曝光"
)


def test_a_threat_raises_the_ticket_with_its_reasons_and_sends_a_routed_case_to_routing_again():
    routed = ticket(
        status=S.OPEN, group_id=3, triage=TicketTriage("P3", (), "inquiry", "logistics")
    )
    plan = planner.apply_analysis(
        routed, THREAT, {"risks.media": "媒体曝光：「发微博」", "priority": "P1"}
    )
    assert plan.state.triage.priority == "P1" and plan.state.triage.risks == ("media",)
    assert plan.reasons == {"media": "媒体曝光：「发微博」", "priority": "P1：媒体曝光"}
    assert plan.state.route_again and plan.case_moved
    assert (
        plan.state.case.path == cw.CasePath.COMPLAINT
    )  # a question turned complaint at its first stage
    calm = planner.apply_analysis(
        plan.state, TicketTriage("P4", (), "other", None, "neutral", "neutral")
    )
    assert calm.state.triage.priority == "P1" and calm.reasons == {}  # priority never falls


def test_an_unrouted_case_is_not_routed_again_and_a_later_stage_keeps_its_path():
    queued = ticket(status=S.OPEN)
    assert not planner.apply_analysis(queued, THREAT, opens=True).state.route_again
    later = replace(
        ticket(status=S.OPEN),
        case=replace(cw.open_case(cw.CasePath.SHORT), stage=cw.Stage.RESOLVED),
    )
    assert planner.apply_analysis(later, THREAT).state.case.path == cw.CasePath.SHORT


def test_reasons_keep_the_first_words_of_a_risk_and_the_latest_priority():
    merged = planner.merge_reasons(
        {"media": "a", "priority": "P2"}, {"media": "b", "priority": "P1", "regulator": "c"}
    )
    assert merged == {"media": "a", "priority": "P1", "regulator": "c"}


@given(st.lists(st.sampled_from(["P1", "P2", "P3", "P4"]), min_size=1, max_size=8))
def test_analysis_never_lowers_a_ticket(priorities):
    state = ticket(status=S.OPEN)
    for p in priorities:
        before = state.triage.priority
        state = planner.apply_analysis(state, TicketTriage(p, (), "inquiry", "logistics")).state
        assert int(state.triage.priority[1]) <= int(before[1])
    assert state.triage.priority == min(priorities + ["P4"], key=lambda p: int(p[1]))


# --- repeat complaints ----------------------------------------------------------------------------


def test_a_repeat_complaint_is_flagged_raised_and_linked_once():
    angry = TicketTriage("P3", (), "complaint", "quality", "angry", "negative", "P3")
    state = ticket(status=S.OPEN, triage=angry)
    earlier = [EarlierCase(4, "quality", T0 - timedelta(days=3)), EarlierCase(5, "logistics", T0 - timedelta(days=2)),
               EarlierCase(11, "quality", T0 - timedelta(days=1))]  # fmt: skip
    flagged, ids = planner.flag_repeat(state, earlier, T0)
    assert ids == [4]  # 11 is a later case; 5 is another category
    assert flagged.repeat_complaint and flagged.triage.priority == "P2"
    assert "重复投诉" in (flagged.triage.priority_reason or "")
    assert planner.flag_repeat(flagged, earlier, T0) == (flagged, [])
