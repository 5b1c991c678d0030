"""Outbound delivery: the one list of delivery states, which may follow which, and when to retry.

Everything kefu sends (an agent's reply, a bot's answer, a survey, a callback to an
integration) goes through the outbox (DESIGN.md, principle 7); these are the rules its relay
and every channel adapter follow. Pure: no clock, no randomness of its own, no I/O.

- ``queued``: written with the message, in its transaction, waiting for the relay;
- ``sent``: the channel accepted it;
- ``delivered`` / ``read``: the channel said so (not every channel tells);
- ``failed``: the last attempt failed and another is due (``next_attempt_at``);
- ``dead``: it kept failing; an admin may replay it, which queues it again.

Receipts may arrive out of order (a read receipt before the delivery receipt): a receipt only
ever moves a message forward, so a late ``delivered`` never undoes ``read``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class DeliveryState(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    DEAD = "dead"


D = DeliveryState

# How far a message has got once the channel has it: receipts move it up this ladder only.
_PROGRESS = {D.SENT: 1, D.DELIVERED: 2, D.READ: 3}

TRANSITIONS: dict[DeliveryState, frozenset[DeliveryState]] = {
    D.QUEUED: frozenset({D.SENT, D.DELIVERED, D.READ, D.FAILED, D.DEAD}),
    D.FAILED: frozenset({D.SENT, D.DELIVERED, D.READ, D.FAILED, D.DEAD}),
    D.SENT: frozenset({D.DELIVERED, D.READ}),
    D.DELIVERED: frozenset({D.READ}),
    D.READ: frozenset(),
    D.DEAD: frozenset({D.QUEUED}),  # an admin's replay
}
# States the relay still has work for.
PENDING = frozenset({D.QUEUED, D.FAILED})


class DeliveryTransitionNotAllowed(ValueError):
    def __init__(self, current: DeliveryState, target: DeliveryState) -> None:
        super().__init__(f"delivery {current} → {target}")
        self.current = current
        self.target = target


def check_transition(current: DeliveryState, target: DeliveryState) -> None:
    """Raise ``DeliveryTransitionNotAllowed`` unless ``target`` may follow ``current``."""
    if target not in TRANSITIONS[current]:
        raise DeliveryTransitionNotAllowed(current, target)


def after_receipt(current: DeliveryState, receipt: DeliveryState) -> DeliveryState:
    """The state once the channel reports ``receipt`` (sent, delivered or read): forward only.

    A receipt for a message still queued or failed means the channel has it after all (an
    attempt that timed out on our side but reached the channel): it counts. A receipt never
    revives a dead message; only a replay does."""
    if receipt not in _PROGRESS:
        raise ValueError(f"not a receipt: {receipt}")
    if current == D.DEAD:
        return current
    if current in _PROGRESS and _PROGRESS[current] >= _PROGRESS[receipt]:
        return current
    return receipt


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential back-off with full jitter: attempt ``n`` (1-based) that failed waits a random
    time between ``first_delay`` and ``min(max_delay, first_delay · factor^(n-1))``; after
    ``max_attempts`` failed attempts the message is dead."""

    first_delay: timedelta = timedelta(seconds=2)
    factor: float = 2.0
    max_delay: timedelta = timedelta(minutes=30)
    max_attempts: int = 8

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.factor < 1 or self.first_delay <= timedelta(0) or self.max_delay < self.first_delay:
            raise ValueError("the delays must grow from a positive first delay to max_delay")

    def ceiling(self, attempts: int) -> timedelta:
        """The longest wait after the ``attempts``-th failed attempt."""
        growth = self.factor ** max(0, attempts - 1)
        seconds = min(self.max_delay.total_seconds(), self.first_delay.total_seconds() * growth)
        return timedelta(seconds=seconds)


@dataclass(frozen=True)
class Failure:
    """What the relay does after a failed attempt: try again at ``retry_at``, or give up."""

    state: DeliveryState  # FAILED (retry due at retry_at) or DEAD
    retry_at: datetime | None


def after_failure(
    attempts: int,
    now: datetime,
    policy: RetryPolicy = RetryPolicy(),
    rng: random.Random | None = None,
) -> Failure:
    """After the ``attempts``-th failed attempt (counting this one): the next try, or dead.

    Full jitter spreads the retries of many messages that failed together (a channel outage)
    so they do not all come back at once; ``rng`` makes it reproducible in tests."""
    if attempts < 1:
        raise ValueError("attempts counts the failed attempts, this one included")
    if attempts >= policy.max_attempts:
        return Failure(D.DEAD, None)
    first = policy.first_delay.total_seconds()
    ceiling = policy.ceiling(attempts).total_seconds()
    draw = (rng or random.SystemRandom()).uniform(first, ceiling)
    return Failure(D.FAILED, now + timedelta(seconds=draw))
