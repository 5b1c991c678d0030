"""The supervisor board's figures on real rows: queues by group, the agents' load, crises and the
SLA lists; only supervisors and admins may read them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kefu.db.base import utcnow
from kefu.errors import PermissionDenied
from kefu.services.actors import SYSTEM
from kefu.services.staff import board
from kefu.services.staff.auth import actor_for as session_actor
from tests import factories
from tests.board_data import Board, arrange, opened_ago, sweep


def actor_for(user):
    return session_actor(user, via="session")


@pytest.fixture
def arranged(db, engine) -> Board:
    return arrange(db, engine)


def _queues(db, actor):
    return {q.group_id: q for q in board.team(db, actor, utcnow()).queues}


def test_the_queues_count_each_groups_open_work(db, arranged):
    b = arranged
    queues = _queues(db, actor_for(b.supervisor))
    assert queues[b.after_sales.id] == board.Queue(
        b.after_sales.id, "售后组", open=5, unassigned=3, waiting_chats=1, at_risk=1,
        breached=1, crises=1, online=1, handlers=2,
    )  # fmt: skip
    assert queues[b.complaints.id] == board.Queue(
        b.complaints.id, "投诉组", open=1, online=0, handlers=1
    )
    assert queues[None] == board.Queue(None, "", open=1, unassigned=1)  # routed soon, not staffed
    assert list(queues) == [None, b.after_sales.id, b.complaints.id]  # shared first


def test_a_group_without_open_work_still_has_its_card(db, arranged):
    quiet = factories.make_group(db, "售前组")
    queues = _queues(db, actor_for(arranged.supervisor))
    assert queues[quiet.id] == board.Queue(quiet.id, "售前组")


def test_the_team_carries_each_handlers_load_and_chats(db, arranged):
    b = arranged
    team = board.team(db, actor_for(b.supervisor), utcnow())
    agents = {a.id: a for a in team.handlers}
    assert b.supervisor.id not in agents  # supervisors watch, they take no cases
    assert (agents[b.agent.id].open_tickets, agents[b.agent.id].chats) == (2, 1)
    assert agents[b.agent.id].status == "online" and agents[b.agent.id].status_since is not None
    assert (agents[b.specialist.id].open_tickets, agents[b.specialist.id].chats) == (1, 0)
    assert agents[b.hostile.id].open_tickets == 0
    assert team.handlers[0].id == b.agent.id  # the online first
    assert [a.id for a in team.of_group(b.complaints.id)] == [b.specialist.id]
    assert {a.id for a in team.of_group(None)} == {b.agent.id, b.hostile.id, b.specialist.id}


def test_the_lists_hold_the_crises_and_the_sla_risks(db, arranged):
    b = arranged
    actor, now = actor_for(b.supervisor), utcnow()
    assert [t.id for t in board.crises(db, actor)] == [b.crisis.id]
    [risky] = board.sla_risks(db, actor, now, breached=False)
    assert (risky.id, risky.group_name, risky.assignee_name) == (b.at_risk.id, "售后组", None)
    assert risky.due_at == b.at_risk.first_response_due_at
    [late] = board.sla_risks(db, actor, now, breached=True)
    assert late.id == b.breached.id and late.priority == "P3"  # the breach raised it from P4
    assert late.due_at is not None and late.due_at < now
    crisis = board.crises(db, actor)[0]
    assert (crisis.assignee_name, crisis.group_name) == ("张伟", "售后组")
    assert board.sla_risks(db, actor, now, breached=False, group_id=b.complaints.id) == []


def test_the_breached_list_puts_the_most_urgent_first(db, engine, arranged):
    b = arranged
    now = utcnow()
    older = factories.make_ticket(db, group=b.complaints, channel="email")
    opened_ago(db, older, timedelta(hours=30), now)
    urgent = factories.make_ticket(db, group=b.complaints, channel="email", priority="P2")
    opened_ago(db, urgent, timedelta(hours=2), now)  # P2 by email: answered within the hour
    sweep(engine, now)
    order = [t.id for t in board.sla_risks(db, actor_for(b.supervisor), now, breached=True)]
    # P2 raised to P1 first; then the two P3s (raised from P4), the longest overdue first.
    assert order == [urgent.id, older.id, b.breached.id]


def test_the_board_is_for_supervisors_and_admins(db, arranged):
    agent = actor_for(arranged.agent)
    with pytest.raises(PermissionDenied):
        board.team(db, agent, utcnow())
    with pytest.raises(PermissionDenied):
        board.crises(db, agent)
    admin = factories.make_user(db, role="admin")
    assert board.crises(db, actor_for(admin)) and board.crises(db, SYSTEM)
