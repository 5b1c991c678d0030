"""When a message whose analysis failed is tried again (services/intake/analysis_retry.py)."""

from __future__ import annotations

from datetime import timedelta

FIRST_DELAY = timedelta(minutes=1)
MAX_DELAY = timedelta(hours=6)


def delay_after(attempts: int) -> timedelta:
    """How long a message waits after its ``attempts``-th failed analysis: one minute,
    doubling with each failure, at most six hours, so a message the analyzer can never read
    is tried a few times a day, not in a tight loop."""
    doublings = min(max(attempts - 1, 0), 20)
    delay: timedelta = FIRST_DELAY * (2**doublings)
    return min(delay, MAX_DELAY)
