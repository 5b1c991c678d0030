"""Delivery states, receipts out of order, and the retry back-off of the outbox relay."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from kefu.domain.delivery import (
    PENDING,
    DeliveryState,
    DeliveryTransitionNotAllowed,
    RetryPolicy,
    after_failure,
    after_receipt,
    check_transition,
)

D = DeliveryState
NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def test_the_one_list_of_states_every_channel_uses():
    assert [s.value for s in D] == ["queued", "sent", "delivered", "read", "failed", "dead"]
    assert PENDING == {D.QUEUED, D.FAILED}


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (D.QUEUED, D.SENT),
        (D.QUEUED, D.FAILED),
        (D.FAILED, D.FAILED),  # another failed attempt
        (D.FAILED, D.SENT),
        (D.FAILED, D.DEAD),
        (D.SENT, D.DELIVERED),
        (D.DELIVERED, D.READ),
        (D.DEAD, D.QUEUED),  # an admin's replay
    ],
)
def test_allowed_transitions(current, target):
    check_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (D.SENT, D.QUEUED),  # a sent message is never sent again
        (D.SENT, D.FAILED),
        (D.READ, D.DELIVERED),
        (D.DELIVERED, D.SENT),
        (D.DEAD, D.SENT),  # only a replay brings a dead message back
        (D.QUEUED, D.QUEUED),
    ],
)
def test_refused_transitions(current, target):
    with pytest.raises(DeliveryTransitionNotAllowed):
        check_transition(current, target)


def test_receipts_only_move_a_message_forward():
    assert after_receipt(D.SENT, D.READ) == D.READ
    assert after_receipt(D.READ, D.DELIVERED) == D.READ  # a late delivery receipt
    assert after_receipt(D.DELIVERED, D.SENT) == D.DELIVERED
    # The channel had it after all (our side timed out): the receipt counts.
    assert after_receipt(D.FAILED, D.DELIVERED) == D.DELIVERED
    assert after_receipt(D.QUEUED, D.SENT) == D.SENT
    assert after_receipt(D.DEAD, D.READ) == D.DEAD  # only a replay revives it
    with pytest.raises(ValueError, match="not a receipt"):
        after_receipt(D.SENT, D.FAILED)


def test_back_off_grows_to_its_cap_with_jitter_inside_the_bounds():
    policy = RetryPolicy(
        first_delay=timedelta(seconds=2), factor=2, max_delay=timedelta(seconds=60), max_attempts=10
    )
    assert [policy.ceiling(n).total_seconds() for n in range(1, 8)] == [2, 4, 8, 16, 32, 60, 60]
    rng = random.Random(7)
    for attempts in range(1, 10):
        waits = {
            (after_failure(attempts, NOW, policy, rng).retry_at - NOW).total_seconds()
            for _ in range(200)
        }
        assert min(waits) >= 2 and max(waits) <= policy.ceiling(attempts).total_seconds()
        if attempts >= 3:
            assert len(waits) > 100  # spread out, not one instant for every failed message


def test_a_message_that_keeps_failing_goes_dead():
    policy = RetryPolicy(max_attempts=3)
    assert after_failure(2, NOW, policy, random.Random(1)).state == D.FAILED
    dead = after_failure(3, NOW, policy, random.Random(1))
    assert dead.state == D.DEAD and dead.retry_at is None


def test_bad_policies_and_counts_are_refused():
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(first_delay=timedelta(minutes=5), max_delay=timedelta(minutes=1))
    with pytest.raises(ValueError):
        after_failure(0, NOW)
