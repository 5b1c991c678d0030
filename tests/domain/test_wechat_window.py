"""WeChat's 48-hour rule, pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from kefu.domain.wechat_window import FREE_REPLY, reply_window

LAST = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)


def test_free_replies_until_48_hours_after_the_customers_last_message():
    window = reply_window(LAST, LAST + timedelta(hours=16, minutes=54, seconds=59))
    assert window.open and window.closes_at == LAST + timedelta(hours=48)
    assert window.remaining_hours_minutes == (31, 5)
    assert not reply_window(LAST, LAST + timedelta(hours=48)).open  # the instant it closes
    closed = reply_window(LAST, LAST + timedelta(days=3))
    assert (
        not closed.open
        and closed.remaining == timedelta(0)
        and closed.remaining_hours_minutes == (0, 0)
    )


def test_a_customer_who_never_wrote_gets_no_free_reply():
    window = reply_window(None, LAST)
    assert not window.open and window.closes_at is None


@given(st.integers(min_value=-(10**6), max_value=10**6))
def test_open_exactly_while_less_than_48_hours_have_passed(seconds):
    now = LAST + timedelta(seconds=seconds)
    window = reply_window(LAST, now)
    assert window.open == (now - LAST < FREE_REPLY)
    assert window.remaining == max(LAST + FREE_REPLY - now, timedelta(0))
