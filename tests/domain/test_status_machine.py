import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.domain.status_machine import (
    STATUS_TRANSITIONS,
    TransitionNotAllowed,
    check_transition,
    counts_as_reopen,
    status_after_agent_reply,
    status_after_customer_message,
)
from kefu.domain.tickets import TicketStatus as S


def test_every_status_has_transitions():
    assert set(STATUS_TRANSITIONS) == set(S)


@pytest.mark.parametrize(
    ("current", "target"),
    [(S.CLOSED, S.RESOLVED), (S.CLOSED, S.PENDING), (S.RESOLVED, S.PENDING), (S.OPEN, S.NEW)],
)
def test_refused(current, target):
    with pytest.raises(TransitionNotAllowed):
        check_transition(current, target)


def test_reopen():
    assert counts_as_reopen(S.RESOLVED, S.OPEN) and counts_as_reopen(S.CLOSED, S.OPEN)
    assert not counts_as_reopen(S.PENDING, S.OPEN)


def test_automatic_moves():
    assert status_after_agent_reply(S.NEW) == S.OPEN
    assert status_after_agent_reply(S.PENDING) == S.PENDING
    assert status_after_customer_message(S.PENDING) == S.OPEN
    assert status_after_customer_message(S.RESOLVED) == S.RESOLVED


@given(st.lists(st.sampled_from(list(S)), max_size=30))
def test_no_way_back_to_new(targets):
    """Whatever a caller asks for, once a ticket has left NEW no allowed move takes it back."""
    status, left_new = S.NEW, False
    for target in targets:
        try:
            check_transition(status, target)
        except TransitionNotAllowed:
            assert target != status  # staying where one is never refused
            continue
        status = target
        left_new = left_new or status != S.NEW
        assert not (left_new and status == S.NEW)


@pytest.mark.parametrize("current", [s for s in S if s != S.NEW])
def test_every_other_status_refuses_new(current):
    with pytest.raises(TransitionNotAllowed):
        check_transition(current, S.NEW)
