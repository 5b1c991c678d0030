"""Compensations awaiting approval: who is asked, what they may see, and when a case leaves the list."""

from __future__ import annotations

from sqlalchemy.orm import Session

from kefu.db.models import Ticket
from kefu.domain import case_loop as cw
from kefu.domain.roles import Role
from kefu.services.actors import Actor
from kefu.services.cases import approvals, loop
from kefu.services.staff import auth
from tests import factories

POLICY = cw.Policy()


def _actor(user: object) -> Actor:
    return auth.actor_for(user, via="session")  # type: ignore[arg-type]


def _proposed(db: Session, by: object, yuan: int, **ticket: object) -> Ticket:
    """A complaint at 处理解决 whose solution carries ``yuan`` of compensation, proposed by ``by``."""
    made = factories.make_ticket(db, text="杯子碎了", intent="complaint", **ticket)
    row = db.get(Ticket, made.id)
    assert row is not None
    actor = _actor(by)
    for action in (
        cw.RecordFacts("杯子到货破裂"),
        cw.Advance(),
        cw.RecordAnalysis("quality", "包装太薄"),
        cw.Advance(),
        cw.ProposeSolution("补发并补偿", cw.Compensation("cash", yuan * 100, Role.AGENT)),
    ):
        loop.do_step(db, actor, row, action, POLICY)
    db.commit()
    return row


def test_each_approver_sees_what_is_above_the_proposer_and_within_her_own_authority(db: Session):
    group, other = factories.make_group(db), factories.make_group(db)
    agent = factories.make_user(db, role="agent", groups=[group])
    specialist = factories.make_user(db, role="specialist", groups=[group])
    supervisor = factories.make_user(db, role="supervisor", groups=[group])
    admin = factories.make_user(db, role="admin")
    within = _proposed(db, agent, 50, group=group)  # the agent's own ¥50
    small = _proposed(db, agent, 150, group=group)  # a specialist may approve
    middle = _proposed(db, specialist, 300, group=group)  # a supervisor's
    big = _proposed(db, specialist, 5000, group=group)  # only an admin's
    outsider = factories.make_user(db, role="specialist", groups=[other])
    elsewhere = _proposed(
        db, factories.make_user(db, role="agent", groups=[other]), 150, group=other
    )

    def ids(user: object) -> list[int]:
        return [p.ticket_id for p in approvals.awaiting(db, _actor(user), POLICY)]

    assert ids(agent) == []
    assert ids(specialist) == [small.id]  # not another group's case
    assert ids(outsider) == [elsewhere.id]
    assert ids(supervisor) == [small.id, middle.id, elsewhere.id]  # supervisors see every group
    assert ids(admin) == [small.id, middle.id, big.id, elsewhere.id]
    assert approvals.count_awaiting(db, _actor(supervisor), POLICY) == 3
    first = approvals.awaiting(db, _actor(supervisor), POLICY)[1]
    assert (first.kind, first.amount, first.proposed_by, first.needed_role, first.solution) == (
        "cash",
        300_00,
        Role.SPECIALIST,
        Role.SUPERVISOR,
        "补发并补偿",
    )
    assert approvals.pending_of(within, POLICY) is None
    assert approvals.pending_of(middle, POLICY) == first


def test_a_decision_or_a_new_proposal_takes_the_case_off_the_list(db: Session):
    group = factories.make_group(db)
    specialist = factories.make_user(db, role="specialist", groups=[group])
    supervisor = factories.make_user(db, role="supervisor", groups=[group])
    approved, rejected, revised = (_proposed(db, specialist, 300, group=group) for _ in range(3))
    boss = _actor(supervisor)
    loop.do_step(db, boss, approved, cw.Approve(Role.AGENT, "同意"), POLICY)
    loop.do_step(db, boss, rejected, cw.Reject(Role.AGENT, "金额过高"), POLICY)
    loop.do_step(
        db,
        _actor(specialist),
        revised,
        cw.ProposeSolution("补发", cw.Compensation("coupon", 100_00, Role.AGENT)),
        POLICY,
    )
    db.commit()
    assert approvals.awaiting(db, boss, POLICY) == []
    assert approvals.pending_of(rejected, POLICY) is None
    view = loop.view(rejected, POLICY)
    assert view["missing"] == ["revised_solution"]
    assert view["compensation"]["rejected_by"] == "supervisor"
    assert view["compensation"]["comment"] == "金额过高"
    assert view["compensation"]["approval_needed_by"] is None
    # Asking again (a new proposal above her authority) puts it back on the list.
    loop.do_step(
        db,
        _actor(specialist),
        rejected,
        cw.ProposeSolution("补发并补偿", cw.Compensation("cash", 250_00, Role.AGENT)),
        POLICY,
    )
    db.commit()
    assert [p.ticket_id for p in approvals.awaiting(db, boss, POLICY)] == [rejected.id]
