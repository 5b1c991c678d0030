"""Repeat complaints: same customer, same category, within the window; raised by the priority rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kefu.domain.repeat_complaints import EarlierCase, counts, earlier_of, raised
from kefu.domain.ticket_triage import TicketTriage

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def complaint(category="logistics", emotion="anxious", priority="P3", **extra) -> TicketTriage:
    return TicketTriage(
        priority=priority,
        intent="complaint",
        category=category,
        emotion=emotion,
        priority_reason=f"{priority}：一般投诉",
        **extra,
    )


def test_only_complaints_with_a_known_category_count():
    assert counts(complaint())
    assert not counts(complaint(category="other")) and not counts(complaint(category=None))
    assert not counts(TicketTriage(intent="inquiry", category="logistics"))


def test_the_same_category_within_the_window_repeats_and_nothing_else_does():
    earlier = [
        EarlierCase(1, "logistics", NOW - timedelta(days=40)),  # too old
        EarlierCase(2, "logistics", NOW - timedelta(days=29)),
        EarlierCase(3, "quality", NOW - timedelta(days=3)),  # another matter
        EarlierCase(4, "logistics", NOW - timedelta(days=2)),
        EarlierCase(5, "logistics", NOW + timedelta(minutes=1)),  # not before this one
    ]
    assert earlier_of(complaint(), NOW, earlier) == [2, 4]
    assert earlier_of(complaint(), NOW, earlier, window=timedelta(days=7)) == [4]
    assert earlier_of(TicketTriage(intent="inquiry", category="logistics"), NOW, earlier) == []


def test_an_angry_repeat_complaint_is_raised_to_p2_with_its_reason():
    after = raised(complaint(emotion="angry"), [2, 4])
    assert after.priority == "P2"
    assert after.priority_reason == "P2：30天内重复投诉（此前 #2、#4），客户愤怒且已多次联系"


def test_a_calm_repeat_complaint_keeps_its_grade_and_says_why_it_is_flagged():
    after = raised(complaint(emotion="neutral"), [7])
    assert (
        after.priority == "P3"
        and after.priority_reason == "P3：一般投诉；30天内重复投诉（此前 #7）"
    )


def test_priority_never_falls_and_nothing_changes_without_earlier_cases():
    crisis = complaint(priority="P1", risks=("media",), emotion="angry")
    assert raised(crisis, [1]).priority == "P1"
    assert raised(complaint(), []) == complaint()
    for emotion in ("angry", "anxious", "disappointed", "neutral", "satisfied", None, "???"):
        for priority in ("P1", "P2", "P3", "P4"):
            before = complaint(emotion=emotion, priority=priority)
            assert int(raised(before, [1]).priority[1]) <= int(priority[1])
