"""Retention periods: the defaults, what a period may be, and when a row's time is up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kefu.domain.retention import KIND_KEYS, KINDS, MAX_DAYS, RetentionPolicy, RetentionRefused

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_the_defaults_a_chinese_team_expects():
    days = RetentionPolicy.defaults().to_json()
    assert list(days) == list(KIND_KEYS) == [k.key for k in KINDS]
    assert (days["mail_raw"], days["case_bodies"], days["audit_events"]) == (180, 1095, 1095)
    assert days["login_sessions"] == 30 and all(d > 0 for d in days.values())


def test_a_period_counts_back_from_now_and_zero_or_empty_keeps_forever():
    policy = RetentionPolicy.from_json({"mail_raw": 10, "outbox": 0, "audit_events": None,
                                        "survey_comments": ""})  # fmt: skip
    assert policy.cutoff("mail_raw", NOW) == NOW - timedelta(days=10)
    for key in ("outbox", "audit_events", "survey_comments"):
        assert policy.cutoff(key, NOW) is None, key
    assert policy.days["case_bodies"] == 1095  # a kind not sent keeps its value


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"mail_raw": -1}, "mail_raw"),
        ({"outbox": MAX_DAYS + 1}, "outbox"),
        ({"audit_events": 1.5}, "audit_events"),
        ({"case_bodies": True}, "case_bodies"),
        ({"case_bodies": "30"}, "case_bodies"),
        ({"chat_transcripts": 30}, "chat_transcripts"),
    ],
)
def test_a_bad_period_is_refused_naming_its_kind(data, field):
    with pytest.raises(RetentionRefused) as refused:
        RetentionPolicy.from_json(data)
    assert refused.value.field == field
