"""The inbox's cursors: what a page hands out comes back as the same sort key, and whatever else
arrives in the URL is a 400, never a crash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.errors import KefuError
from kefu.services.cases.inbox import NO_DEADLINE, Sort, decode_cursor, encode_cursor

moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC)
)
ids = st.integers(min_value=1, max_value=2**62)


@given(moments, ids)
def test_a_time_ordered_cursor_round_trips(moment: datetime, ticket_id: int) -> None:
    for sort in (Sort.SLA, Sort.NEWEST):
        assert decode_cursor(encode_cursor([moment, ticket_id], sort), sort) == [moment, ticket_id]


@given(st.sampled_from(["P1", "P2", "P3", "P4"]), moments, ids)
def test_a_priority_cursor_round_trips(priority: str, moment: datetime, ticket_id: int) -> None:
    key = [priority, moment, ticket_id]
    assert decode_cursor(encode_cursor(key, Sort.PRIORITY), Sort.PRIORITY) == key


def test_times_come_back_in_utc_whatever_zone_they_left_in() -> None:
    beijing = datetime(2026, 12, 7, 9, 30, tzinfo=UTC).astimezone()
    key = decode_cursor(encode_cursor([beijing, 5], Sort.SLA), Sort.SLA)
    assert key == [beijing, 5] and key is not None and key[0].utcoffset() == timedelta(0)
    assert decode_cursor(encode_cursor([NO_DEADLINE, 5], Sort.SLA), Sort.SLA) == [NO_DEADLINE, 5]


def test_a_cursor_of_another_order_is_refused() -> None:
    cursor = encode_cursor([NO_DEADLINE, 5], Sort.SLA)
    with pytest.raises(KefuError) as caught:
        decode_cursor(cursor, Sort.NEWEST)
    assert caught.value.code == "invalid_cursor" and caught.value.status_code == 400


@pytest.mark.parametrize(
    "key",
    [[NO_DEADLINE, 0], [NO_DEADLINE, 2**62 + 1], [NO_DEADLINE, True], ["P9", NO_DEADLINE, 1]],
)
def test_keys_outside_their_vocabulary_are_refused(key: list[object]) -> None:
    sort = Sort.PRIORITY if len(key) == 3 else Sort.SLA
    with pytest.raises(KefuError):
        decode_cursor(encode_cursor(key, sort), sort)


@given(st.text(max_size=80), st.sampled_from(list(Sort)))
def test_arbitrary_text_is_refused_or_read_never_crashes(text: str, sort: Sort) -> None:
    try:
        decode_cursor(text, sort)
    except KefuError as e:
        assert e.code == "invalid_cursor"
