"""The closed loop as a state machine: required data per step, approvals, waiting, reopening."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.domain import sla
from kefu.domain.business_calendar import china_mainland
from kefu.domain.case_file import case_file_of, case_of
from kefu.domain.case_loop import (
    Advance,
    Approve,
    Archive,
    AuthorityLimits,
    Case,
    CasePath,
    Compensation,
    CustomerWrote,
    Policy,
    ProposeSolution,
    RecordAnalysis,
    RecordFacts,
    RecordFeedback,
    Reject,
    Reopen,
    Resume,
    SendBack,
    Stage,
    StepRefused,
    Wait,
    Waiting,
    apply,
    open_case,
    path_for_intent,
    status_actions,
    with_intent,
)
from kefu.domain.roles import Role
from kefu.domain.tickets import TicketStatus

T0 = datetime(2026, 9, 29, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, a Tuesday


def run(case: Case, *actions, at: datetime = T0, policy: Policy | None = None) -> Case:
    for action in actions:
        case = apply(case, action, at, policy).case
    return case


def archived_complaint(**compensation) -> Case:
    comp = (
        Compensation("coupon", 30_00, Role.AGENT)
        if not compensation
        else Compensation(**compensation)
    )
    return run(
        open_case(CasePath.COMPLAINT, "订单SL2026 杯子到货破裂，客户要求换货"),
        Advance(),
        RecordAnalysis(
            "quality",
            five_whys=("为什么破？运输挤压", "为什么挤压？包装只有一层", "包装规格未区分易碎品"),
        ),
        Advance(),
        ProposeSolution("补发新杯子并送优惠券", comp),
        Advance(),
        RecordFeedback(confirmed=True, rating=5),
        Archive("易碎品改用双层包装"),
    )


def test_a_complaint_walks_the_five_steps():
    case = archived_complaint()
    assert case.stage == Stage.ARCHIVED and case.status == TicketStatus.CLOSED
    assert case.cause == "包装规格未区分易碎品" and case.rating == 5 and case.lesson


def test_each_step_refuses_to_move_on_without_its_data():
    case = open_case(CasePath.COMPLAINT)
    with pytest.raises(StepRefused) as refused:
        apply(case, Advance(), T0)
    assert refused.value.missing == ("facts",)
    case = run(case, RecordFacts("物流延误"), Advance())
    with pytest.raises(StepRefused) as refused:
        apply(case, Advance(), T0)
    assert refused.value.missing == ("category", "root_cause")
    case = run(case, RecordAnalysis("logistics", root_cause="中转站爆仓"), Advance())
    with pytest.raises(StepRefused) as refused:
        apply(case, Advance(), T0)
    assert refused.value.missing == ("solution",)
    case = run(case, ProposeSolution("加急转运"), Advance())
    with pytest.raises(StepRefused, match="lesson-learned"):
        apply(case, Advance(), T0)
    with pytest.raises(StepRefused) as refused:
        apply(case, Archive("提前预警爆仓"), T0)
    assert refused.value.missing == ("confirmation_or_rating",)
    case = run(case, RecordFeedback(confirmed=False, rating=3))
    with pytest.raises(StepRefused) as refused:
        apply(case, Archive("  "), T0)
    assert refused.value.missing == ("lesson",)


def test_compensation_above_the_agents_authority_needs_approval():
    limits = AuthorityLimits()
    assert (
        limits.approver_for(50_00) == Role.AGENT and limits.approver_for(50_01) == Role.SPECIALIST
    )
    assert (
        limits.approver_for(1_000_00) == Role.SUPERVISOR
        and limits.approver_for(1_000_01) == Role.ADMIN
    )
    case = run(
        open_case(CasePath.COMPLAINT, "耳机左耳无声"),
        Advance(),
        RecordAnalysis("quality", "批次故障"),
        Advance(),
        ProposeSolution("退款并补偿", Compensation("cash", 300_00, Role.AGENT)),
    )
    with pytest.raises(StepRefused) as refused:
        apply(case, Advance(), T0)
    assert refused.value.missing == ("approval",)
    with pytest.raises(StepRefused, match="supervisor"):
        apply(case, Approve(Role.SPECIALIST), T0)  # ¥300 is above a specialist's ¥200
    outcome = apply(case, Approve(Role.SUPERVISOR), T0)
    assert outcome.step == "approved:supervisor"
    assert apply(outcome.case, Advance(), T0).case.stage == Stage.FOLLOWING_UP
    # Configurable: a shop that lets agents grant ¥500 needs no approval for it.
    generous = Policy(limits=AuthorityLimits(agent=500_00))
    assert apply(case, Advance(), T0, generous).case.stage == Stage.FOLLOWING_UP


def test_changing_the_compensation_needs_a_new_approval():
    case = run(
        open_case(CasePath.COMPLAINT, "x"),
        Advance(),
        RecordAnalysis("quality", "y"),
        Advance(),
        ProposeSolution("z", Compensation("cash", 300_00, Role.AGENT)),
        Approve(Role.SUPERVISOR),
        ProposeSolution("z", Compensation("cash", 900_00, Role.AGENT)),
    )
    with pytest.raises(StepRefused):
        apply(case, Advance(), T0)


def _awaiting_approval() -> Case:
    return run(
        open_case(CasePath.COMPLAINT, "耳机左耳无声"),
        Advance(),
        RecordAnalysis("quality", "批次故障"),
        Advance(),
        ProposeSolution("退款并补偿", Compensation("cash", 300_00, Role.SPECIALIST)),
    )


def test_an_approver_rejects_a_compensation_with_a_reason_and_the_solution_must_be_revised():
    case = _awaiting_approval()
    assert case.compensation is not None and case.compensation.awaiting_approval(Policy().limits)
    with pytest.raises(StepRefused) as refused:
        apply(case, Reject(Role.SUPERVISOR, "  "), T0)
    assert (refused.value.code, refused.value.missing) == ("missing_data", ("comment",))
    with pytest.raises(StepRefused) as refused:
        apply(case, Reject(Role.SPECIALIST, "太多了"), T0)  # ¥300 is above her ¥200 too
    assert (refused.value.code, refused.value.needs) == ("above_authority", Role.SUPERVISOR)
    outcome = apply(case, Reject(Role.SUPERVISOR, " 先补发，不退款 "), T0)
    assert outcome.step == "rejected:supervisor"
    rejected = outcome.case
    assert rejected.compensation is not None
    assert (rejected.compensation.rejected_by, rejected.compensation.comment) == (
        Role.SUPERVISOR,
        "先补发，不退款",
    )
    assert not rejected.compensation.awaiting_approval(Policy().limits)
    with pytest.raises(StepRefused) as refused:
        apply(rejected, Advance(), T0)
    assert refused.value.missing == ("revised_solution",)
    with pytest.raises(StepRefused, match="awaiting approval"):
        apply(rejected, Reject(Role.SUPERVISOR, "again"), T0)
    # A revised proposal within her authority needs nobody; the supervisor may also still
    # approve the first one after all.
    revised = run(
        rejected, ProposeSolution("补发", Compensation("coupon", 100_00, Role.SPECIALIST))
    )
    assert apply(revised, Advance(), T0).case.stage == Stage.FOLLOWING_UP
    approved = run(rejected, Approve(Role.SUPERVISOR, "同意"))
    assert approved.compensation is not None and approved.compensation.rejected_by is None
    assert apply(approved, Advance(), T0).case.stage == Stage.FOLLOWING_UP
    # Nothing to reject: no compensation, or one within the proposer's authority.
    with pytest.raises(StepRefused, match="awaiting approval"):
        apply(revised, Reject(Role.SUPERVISOR, "不行"), T0)


def test_a_wait_may_have_a_due_time_in_the_future_that_ends_with_the_wait():
    due = T0 + timedelta(days=2)
    case = run(open_case(CasePath.COMPLAINT, "等快递公司回复"), Wait(Waiting.THIRD_PARTY, due))
    assert (case.waiting, case.waiting_until) == (Waiting.THIRD_PARTY, due)
    with pytest.raises(StepRefused) as refused:
        apply(case, Wait(Waiting.CUSTOMER, T0), T0)
    assert refused.value.code == "bad_wait_until"
    assert run(case, Resume()).waiting_until is None
    assert run(case, Wait(Waiting.CUSTOMER)).waiting_until is None  # a new wait, no time agreed


def test_the_case_file_keeps_a_decision_and_a_due_time():
    class Row:
        case_path, stage, category, resolved_at, reopen_count = (
            "complaint",
            "resolving",
            None,
            None,
            0,
        )

        def __init__(self, case: Case) -> None:
            self.case_file = case_file_of(case)
            self.waiting_on = case.waiting.value if case.waiting else None

    rejected = run(_awaiting_approval(), Reject(Role.ADMIN, "理由"))
    waiting = run(rejected, Wait(Waiting.CUSTOMER, T0 + timedelta(hours=3)))
    read = case_of(Row(waiting))
    assert read.compensation == waiting.compensation
    assert read.waiting_until == T0 + timedelta(hours=3)
    row = Row(waiting)
    row.waiting_on = None  # intake's batch ended the wait by its column alone
    assert case_of(row).waiting_until is None


def test_short_path_and_which_intents_take_it():
    assert path_for_intent("complaint") == CasePath.COMPLAINT
    assert {path_for_intent(i) for i in ("inquiry", "suggestion", "praise", "other", None)} == {
        CasePath.SHORT
    }
    case = run(open_case(CasePath.SHORT), Advance())
    assert (
        case.stage == Stage.RESOLVED
        and case.status == TicketStatus.RESOLVED
        and case.resolved_at == T0
    )
    assert run(case, Advance()).stage == Stage.CLOSED


def test_waiting_is_pending_and_a_customer_reply_ends_waiting_on_them():
    case = run(open_case(CasePath.SHORT), Wait(Waiting.THIRD_PARTY))
    assert case.status == TicketStatus.PENDING
    assert (
        apply(case, CustomerWrote(), T0).case.waiting == Waiting.THIRD_PARTY
    )  # still waiting on the courier
    case = run(case, Resume(), Wait(Waiting.CUSTOMER))
    assert apply(case, CustomerWrote(), T0).case.waiting is None
    with pytest.raises(StepRefused):
        apply(
            run(case, Resume(), Advance()), Wait(Waiting.CUSTOMER), T0
        )  # resolved cases do not wait


def test_reopen_within_the_window_and_a_linked_case_after_it():
    resolved = run(open_case(CasePath.SHORT), Advance())
    again = apply(resolved, CustomerWrote(), T0 + timedelta(days=6))
    assert (
        again.step == "reopened" and again.case.stage == Stage.OPEN and again.case.reopen_count == 1
    )
    late = apply(resolved, CustomerWrote(), T0 + timedelta(days=8))
    assert late.new_linked_case and late.case == resolved
    archived = archived_complaint()
    back = apply(archived, CustomerWrote(), T0 + timedelta(days=1))
    assert (
        back.case.stage == Stage.RESOLVING
        and back.case.reopen_count == 1
        and not back.case.customer_confirmed
    )
    short_window = Policy(reopen_window=timedelta(hours=1))
    assert apply(resolved, CustomerWrote(), T0 + timedelta(hours=2), short_window).new_linked_case


def test_an_unhappy_follow_up_goes_back_to_resolving():
    case = run(
        open_case(CasePath.COMPLAINT, "x"),
        Advance(),
        RecordAnalysis("service", "y"),
        Advance(),
        ProposeSolution("z"),
        Advance(),
        RecordFeedback(confirmed=False, rating=1),
        SendBack(),
    )
    assert case.stage == Stage.RESOLVING and case.rating is None and case.reopen_count == 0


def test_an_archived_case_takes_no_more_steps():
    with pytest.raises(StepRefused, match="archived"):
        apply(archived_complaint(), RecordFacts("改一下"), T0)


def test_bad_values_are_refused():
    case = run(
        open_case(CasePath.COMPLAINT, "x"), Advance(), RecordAnalysis("service", "y"), Advance()
    )
    with pytest.raises(StepRefused, match="negative"):
        apply(case, ProposeSolution("z", Compensation("cash", -1, Role.AGENT)), T0)
    case = run(case, ProposeSolution("z"), Advance())
    with pytest.raises(StepRefused, match="1 to 5"):
        apply(case, RecordFeedback(True, rating=9), T0)


def test_during_follow_up_a_customer_message_is_feedback_and_after_the_window_a_new_case():
    case = run(
        open_case(CasePath.COMPLAINT, "x"),
        Advance(),
        RecordAnalysis("service", "y"),
        Advance(),
        ProposeSolution("z"),
        Advance(),
    )
    assert apply(case, CustomerWrote(), T0 + timedelta(days=2)).step == "customer_feedback"
    assert (
        apply(case, CustomerWrote(), T0 + timedelta(days=2)).case == case
    )  # an agent reads it, nothing moves
    assert apply(case, CustomerWrote(), T0 + timedelta(days=9)).new_linked_case


def test_staff_reopen_resolved_and_closed_cases_and_it_is_counted():
    closed = run(open_case(CasePath.SHORT), Advance(), Advance())
    back = apply(closed, Reopen(), T0)
    assert (back.step, back.case.stage, back.case.reopen_count, back.case.resolved_at) == (
        "reopened",
        Stage.OPEN,
        1,
        None,
    )
    archived = apply(
        archived_complaint(), Reopen(), T0 + timedelta(days=30)
    ).case  # staff are not bound by the window
    assert archived.stage == Stage.RESOLVING and archived.rating is None and archived.lesson
    with pytest.raises(StepRefused) as refused:
        apply(open_case(CasePath.SHORT), Reopen(), T0)
    assert refused.value.code == "not_resolved"


def test_a_status_change_stands_for_the_actions_of_the_short_path():
    case = open_case(CasePath.SHORT)
    assert status_actions(case, TicketStatus.OPEN, Policy()) == ()
    assert status_actions(case, TicketStatus.PENDING, Policy()) == (Wait(Waiting.CUSTOMER),)
    assert status_actions(case, TicketStatus.RESOLVED, Policy()) == (Advance(),)
    assert status_actions(case, TicketStatus.CLOSED, Policy()) == (Advance(), Advance())
    waiting = run(case, Wait(Waiting.THIRD_PARTY))
    assert status_actions(waiting, TicketStatus.OPEN, Policy()) == (Resume(),)
    assert status_actions(waiting, TicketStatus.RESOLVED, Policy()) == (Resume(), Advance())
    resolved = run(case, Advance())
    assert status_actions(resolved, TicketStatus.CLOSED, Policy()) == (Advance(),)
    assert status_actions(resolved, TicketStatus.OPEN, Policy()) == (Reopen(),)
    for target in (
        TicketStatus.RESOLVED,
        TicketStatus.CLOSED,
        TicketStatus.OPEN,
        TicketStatus.PENDING,
    ):
        final = run(case, *status_actions(case, target, Policy()))
        assert final.status == target


def test_a_complaint_cannot_be_resolved_by_a_status_change():
    case = open_case(CasePath.COMPLAINT, "杯子碎了")
    for target in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        with pytest.raises(StepRefused) as refused:
            status_actions(case, target, Policy())
        assert refused.value.code == "steps_required" and refused.value.missing == ()
    assert status_actions(case, TicketStatus.PENDING, Policy()) == (Wait(Waiting.CUSTOMER),)
    with pytest.raises(StepRefused) as refused:
        status_actions(run(case, Advance()), TicketStatus.RESOLVED, Policy())
    assert refused.value.missing == ("category", "root_cause")


def test_a_status_change_judges_a_compensation_by_the_configured_authority():
    case = run(
        open_case(CasePath.COMPLAINT, "杯子碎了"),
        Advance(),
        RecordAnalysis("quality", "单层包装"),
        Advance(),
        ProposeSolution("补发并送券", Compensation("coupon", 80_00, Role.AGENT)),
    )
    # By default an agent grants ¥50 alone: ¥80 still needs an approval...
    with pytest.raises(StepRefused) as refused:
        status_actions(case, TicketStatus.RESOLVED, Policy())
    assert refused.value.missing == ("approval",)
    # ...but a team whose agents grant ¥100 has nothing missing, only the steps to take.
    configured = Policy(limits=AuthorityLimits(agent=100_00))
    with pytest.raises(StepRefused) as refused:
        status_actions(case, TicketStatus.RESOLVED, configured)
    assert (refused.value.code, refused.value.missing) == ("steps_required", ())


def test_a_case_at_its_first_stage_follows_its_intent():
    question = open_case(CasePath.SHORT)
    complaint = with_intent(question, "complaint")
    assert (complaint.path, complaint.stage) == (CasePath.COMPLAINT, Stage.REGISTERED)
    assert with_intent(complaint, "inquiry").path == CasePath.SHORT
    analyzing = run(open_case(CasePath.COMPLAINT, "x"), Advance())
    assert with_intent(analyzing, "inquiry") == analyzing  # once under way, the path stays
    assert with_intent(run(question, Advance()), "complaint").path == CasePath.SHORT


def test_no_stage_reads_as_new():
    """A ticket is "new" until someone works on it; no stage of a case reads as new."""
    assert {open_case(p).status for p in CasePath} == {TicketStatus.OPEN}


# Property tests -----------------------------------------------------------------------------

roles = st.sampled_from(list(Role))
actions = st.one_of(
    st.builds(RecordFacts, st.sampled_from(["", "  ", "客户说杯子碎了"])),
    st.builds(
        RecordAnalysis,
        st.sampled_from(["quality", "logistics"]),
        st.sampled_from(["", "包装太薄"]),
        st.sampled_from([(), ("为什么？", "包装规格")]),
    ),
    st.builds(
        ProposeSolution,
        st.sampled_from(["", "补发"]),
        st.none() | st.builds(Compensation, st.just("coupon"), st.integers(0, 2_000_00), roles),
    ),
    st.builds(Approve, roles),
    st.builds(Reject, roles, st.sampled_from(["", "金额过高"])),
    st.builds(RecordFeedback, st.booleans(), st.none() | st.integers(0, 6)),
    st.just(Advance()),
    st.just(SendBack()),
    st.just(Resume()),
    st.just(CustomerWrote()),
    st.just(Reopen()),
    st.builds(Archive, st.sampled_from(["", "改用双层包装"])),
    st.builds(Wait, st.sampled_from(list(Waiting)), st.none() | st.just(T0 + timedelta(days=30))),
)
# Random actions alone almost never get far down the complaint path, so each sequence is the
# happy path (once or twice, for a reopen), with steps dropped at random and random actions
# shuffled in: most runs reach 跟进反馈 or 总结归档 and many are reopened on the way.
HAPPY = {
    CasePath.COMPLAINT: [
        RecordFacts("客户说杯子碎了"),
        Advance(),
        RecordAnalysis("quality", "包装太薄"),
        Advance(),
        ProposeSolution("补发", Compensation("coupon", 300_00, Role.AGENT)),
        Approve(Role.SUPERVISOR),
        Advance(),
        RecordFeedback(True, 5),
        Archive("改用双层包装"),
        CustomerWrote(),
    ],
    CasePath.SHORT: [Advance(), CustomerWrote(), Advance(), Advance(), CustomerWrote()],
}
gaps = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3))


@st.composite
def sequences(draw):
    path = draw(st.sampled_from(list(CasePath)))
    planned = HAPPY[path] * draw(st.integers(1, 2))
    sequence = [a for a in planned if draw(st.integers(0, 9)) > 0]
    for noise in draw(st.lists(actions, max_size=15)):
        sequence.insert(draw(st.integers(0, len(sequence))), noise)
    return path, [(action, draw(gaps)) for action in sequence]


CHINA = china_mainland()


@settings(max_examples=400, deadline=None)
@given(sequences())
def test_no_sequence_of_actions_breaks_the_loop(drawn):
    path, sequence = drawn
    """Whatever is tried in whatever order: an archived case has every step's data, time spent
    waiting or resolved is never counted by the resolution clock, and the reopen count is the
    number of reopens."""
    policy = Policy()
    case, now = open_case(path), T0
    pauses: tuple[sla.Pause, ...] = ()
    paused_since, paused_total, reopens = None, timedelta(0), 0
    for action, gap in sequence:
        now += gap
        try:
            outcome = apply(case, action, now, policy)
        except StepRefused:
            continue
        reopens += outcome.step == "reopened"
        # Keep the pauses the way the service does, on every status change.
        pauses = sla.pauses_after(pauses, case.status, outcome.case.status, now)
        case = outcome.case
        off_the_clock = case.status in (
            TicketStatus.PENDING,
            TicketStatus.RESOLVED,
            TicketStatus.CLOSED,
        )
        if off_the_clock and paused_since is None:
            paused_since = now
        elif not off_the_clock and paused_since is not None:
            paused_total += CHINA.between(paused_since, now)
            paused_since = None
        if case.stage == Stage.ARCHIVED:
            assert case.facts and case.category and case.cause and case.solution and case.lesson
            assert case.compensation is None or case.compensation.settled(policy.limits)
            assert case.customer_confirmed or case.rating is not None
        if case.waiting is not None:
            assert case.stage not in (
                Stage.FOLLOWING_UP,
                Stage.ARCHIVED,
                Stage.RESOLVED,
                Stage.CLOSED,
            )
        assert case.reopen_count == reopens
    end = now + timedelta(hours=1)
    if paused_since is not None:
        paused_total += CHINA.between(paused_since, end)
    budget = CHINA.between(T0, end) + timedelta(
        hours=1
    )  # never runs out, so what is left shows what was counted
    facts = sla.SlaFacts(created_at=T0, pauses=pauses)
    (clock,) = sla.evaluate(facts, sla.Budgets(None, None, budget), CHINA, end).clocks
    assert budget - clock.left == CHINA.between(T0, end) - paused_total
