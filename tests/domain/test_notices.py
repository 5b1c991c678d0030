"""Who is told of which event, and in what words (domain/notices.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from kefu.domain import events as ev
from kefu.domain.notices import Audience, Lookup, lookups_for, notices_for

DUE = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
TEAM = Audience(assignee_id=7, supervisors=(3, 2), group_supervisors=(3,), admins=(1,))


def test_a_warning_goes_to_the_assignee_or_else_the_supervisors():
    mine = notices_for(ev.SlaWarned(5, target="first_response", due_at=DUE, assignee_id=7), TEAM)
    assert [(n.user_id, n.kind) for n in mine] == [(7, "sla.warn")]
    assert "首次响应" in mine[0].body and "#5" in mine[0].body
    nobody = ev.SlaWarned(5, target="resolution", due_at=DUE, assignee_id=None)
    assert lookups_for(nobody) == {Lookup.SUPERVISORS}
    assert [n.user_id for n in notices_for(nobody, TEAM)] == [2, 3]
    assert lookups_for(ev.SlaWarned(5, target="resolution", assignee_id=7)) == frozenset()


def test_a_breach_tells_the_supervisors_and_whoever_had_the_case_once_each():
    breach = ev.SlaBreached(5, target="resolution", due_at=DUE, priority="P2", assignee_id=3)
    made = notices_for(breach, TEAM)
    assert [n.user_id for n in made] == [2, 3]  # 3 is a supervisor and the assignee: told once
    assert "已升级为 P2" in made[0].body and "2026-12-07 09:30" in made[0].body


def test_an_approval_goes_to_those_who_may_grant_it():
    asks = ev.ApprovalRequested(9, kind="退款", amount=150_000, needed_role="admin", group_id=4)
    assert lookups_for(asks) == {Lookup.ADMINS}
    [notice] = notices_for(asks, TEAM)
    assert notice.user_id == 1 and "¥1500.00" in notice.body and "管理员" in notice.body
    smaller = ev.ApprovalRequested(
        9, kind="补偿券", amount=8_000, needed_role="supervisor", group_id=4
    )
    assert [n.user_id for n in notices_for(smaller, TEAM)] == [2, 3]


def test_a_crisis_tells_only_the_groups_own_supervisors_and_feedback_only_the_assignee():
    crisis = ev.CrisisRouted(9, group_id=4, priority="P1", reason="规则「危机升级」→ 投诉处理组")
    assert lookups_for(crisis) == {Lookup.GROUP_SUPERVISORS}
    assert [n.user_id for n in notices_for(crisis, TEAM)] == [3]
    assert [n.user_id for n in notices_for(ev.CustomerFeedback(9, assignee_id=7), TEAM)] == [7]
    assert notices_for(ev.CustomerFeedback(9, assignee_id=None), TEAM) == []


def test_events_that_concern_no_one_in_particular_make_no_notice():
    for event in (ev.TicketOpened(1), ev.TicketChanged(1, fields=("status",)), ev.MessageAdded(1)):
        assert lookups_for(event) == frozenset()
        assert notices_for(event, TEAM) == []


def test_an_event_reads_as_json_with_its_name():
    data = ev.SlaBreached(5, target="resolution", due_at=DUE, priority="P2").to_json()
    assert (
        data["event"] == "sla.breach"
        and data["due_at"] == DUE.isoformat()
        and data["ticket_id"] == 5
    )
