"""Live chat offers: who gets a waiting chat, when an offer passes on, what the visitor is told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kefu.domain.chat_offers import (
    OFFER_TIMEOUT,
    AgentSeat,
    AgentStatus,
    next_agent,
    offer_expired,
    queue_view,
)

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
A = AgentStatus


def seat(user_id, status=A.ONLINE, active=0, cap=3, last=None):
    return AgentSeat(user_id, status, active, cap, last)


def test_only_online_agents_with_room_get_offers():
    seats = [
        seat(1, A.BUSY),
        seat(2, A.BREAK),
        seat(3, A.OFFLINE),
        seat(4, active=3),  # at their cap
        seat(5, active=2),
    ]
    assert next_agent(seats).user_id == 5
    assert next_agent(seats[:4]) is None


def test_work_spreads_to_the_fewest_chats_then_the_longest_idle():
    seats = [
        seat(1, active=1, last=NOW - timedelta(minutes=1)),
        seat(2, active=1, last=NOW - timedelta(minutes=9)),
        seat(3, active=2, last=NOW - timedelta(hours=1)),
    ]
    assert next_agent(seats).user_id == 2
    assert next_agent([*seats, seat(4, active=1)]).user_id == 4  # no chat yet today


def test_an_agent_who_let_the_chat_pass_is_skipped():
    seats = [seat(1), seat(2, active=1)]
    assert next_agent(seats, passed={1}).user_id == 2
    assert next_agent(seats, passed={1, 2}) is None


def test_an_offer_passes_on_after_the_timeout():
    assert not offer_expired(NOW, NOW + OFFER_TIMEOUT - timedelta(seconds=1))
    assert offer_expired(NOW, NOW + OFFER_TIMEOUT)


def test_the_visitor_is_told_their_place_and_the_expected_wait():
    average = timedelta(minutes=6)
    two_free = [seat(1, active=2), seat(2, active=2)]  # one free seat each, 6 seats in all
    assert queue_view(1, two_free, average).expected_wait == timedelta(0)
    assert queue_view(2, two_free, average).expected_wait == timedelta(0)
    # Four ahead beyond the free seats, six seats freeing once per six minutes: four minutes.
    assert queue_view(6, two_free, average).expected_wait == timedelta(minutes=4)
    busy = [seat(1, active=3), seat(2, A.BREAK)]
    assert queue_view(3, busy, average).expected_wait == timedelta(minutes=6)
    nobody = queue_view(1, [seat(1, A.OFFLINE), seat(2, A.BUSY)], average)
    assert nobody.position == 1 and nobody.expected_wait is None  # offer the message form
    with pytest.raises(ValueError):
        queue_view(0, two_free, average)
