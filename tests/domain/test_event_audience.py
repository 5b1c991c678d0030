"""Who hears of which event on the staff socket: the REST API's rules, and an explicit list of
kinds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.domain import events as ev
from kefu.domain.event_audience import (
    AGENT_EVENTS,
    INTERNAL_EVENTS,
    TicketPlace,
    Viewer,
    may_receive,
    needs_ticket,
)
from kefu.domain.roles import Role, can_see_ticket
from kefu.realtime.codec import kinds

AGENT = Viewer(1, Role.AGENT, frozenset({10}))
OTHER_GROUP = Viewer(2, Role.SPECIALIST, frozenset({20}))
SUPERVISOR = Viewer(3, Role.SUPERVISOR, frozenset())
IN_GROUP_10 = TicketPlace(group_id=10, assignee_id=None)


def test_every_event_kind_is_decided_sent_to_staff_or_kept_inside():
    assert set(AGENT_EVENTS) | INTERNAL_EVENTS == set(kinds())
    assert not set(AGENT_EVENTS) & INTERNAL_EVENTS


def test_what_the_web_chat_sends_visitors_and_access_signals_never_reach_staff():
    for event in (
        ev.VisitorMessage(5, customer_id=1, message_id=2, outbox_id=3),
        ev.AccessChanged(None, user_id=1, reason="signed_out"),
    ):
        assert not any(may_receive(v, event, IN_GROUP_10) for v in (AGENT, SUPERVISOR))


@pytest.mark.parametrize(
    "event",
    [
        ev.TicketOpened(5),
        ev.MessageAdded(5, message_id=9, direction="note"),
        ev.TicketChanged(5, fields=("status",)),
        ev.SlaWarned(5, target="resolution"),
        ev.DeliveryChanged(5, message_id=9, outbox_id=1, state="delivered"),
        ev.Typing(5, who="customer"),
        ev.Viewing(5, user_id=9, user_name="王磊"),
    ],
    ids=lambda e: e.name,
)
def test_a_ticket_event_reaches_its_groups_agents_and_supervisors_only(event):
    assert needs_ticket(event)
    assert may_receive(AGENT, event, IN_GROUP_10)
    assert not may_receive(OTHER_GROUP, event, IN_GROUP_10)
    assert may_receive(SUPERVISOR, event, IN_GROUP_10)
    assert not may_receive(AGENT, event, None)  # the ticket is gone
    assert may_receive(OTHER_GROUP, event, TicketPlace(group_id=10, assignee_id=2))  # theirs


@given(
    role=st.sampled_from(list(Role)),
    user_id=st.integers(1, 5),
    groups=st.frozensets(st.integers(1, 4), max_size=3),
    group_id=st.none() | st.integers(1, 4),
    assignee_id=st.none() | st.integers(1, 5),
)
def test_ticket_events_follow_the_rest_apis_rule_exactly(
    role, user_id, groups, group_id, assignee_id
):
    viewer = Viewer(user_id, role, groups)
    place = TicketPlace(group_id, assignee_id)
    expected = can_see_ticket(
        role,
        user_id=user_id,
        user_group_ids=groups,
        ticket_group_id=group_id,
        ticket_assignee_id=assignee_id,
    )
    assert may_receive(viewer, ev.MessageAdded(1, message_id=1), place) == expected


def test_a_notice_reaches_only_the_person_it_was_written_for():
    notice = ev.NoticeCreated(5, notification_id=1, user_id=AGENT.user_id, kind="sla.warn")
    assert not needs_ticket(notice)
    assert may_receive(AGENT, notice)
    assert not may_receive(SUPERVISOR, notice)  # not even one who sees every ticket


def test_presence_reaches_all_staff():
    presence = ev.PresenceChanged(None, user_id=9, status="online")
    assert all(may_receive(v, presence) for v in (AGENT, OTHER_GROUP, SUPERVISOR))


@pytest.mark.parametrize(
    "mine",
    [ev.Typing(5, who="agent", user_id=AGENT.user_id), ev.Viewing(5, user_id=AGENT.user_id)],
    ids=lambda e: e.name,
)
def test_ones_own_typing_and_viewing_are_not_echoed_back(mine):
    assert not may_receive(AGENT, mine, IN_GROUP_10)
    assert may_receive(Viewer(4, Role.AGENT, frozenset({10})), mine, IN_GROUP_10)


def test_whoever_had_a_case_hears_that_it_was_taken_from_them():
    moved = ev.TicketAssigned(
        5, assignee_id=7, previous_assignee_id=OTHER_GROUP.user_id, group_id=10
    )
    assert may_receive(OTHER_GROUP, moved, IN_GROUP_10)
    other = ev.TicketAssigned(5, assignee_id=7, previous_assignee_id=99, group_id=10)
    assert not may_receive(OTHER_GROUP, other, IN_GROUP_10)
