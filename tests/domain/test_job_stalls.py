from datetime import UTC, datetime, timedelta

from kefu.domain.job_stalls import StallRule, stall_notice_body

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_a_job_stalls_after_its_factor_of_intervals_and_never_sooner_than_the_minimum():
    rule = StallRule(factor=10, minimum_seconds=300)
    assert rule.threshold(60) == timedelta(minutes=10)
    assert rule.threshold(2) == timedelta(minutes=5)  # 20 s would cry wolf at every slow round
    assert not rule.stalled(60, NOW - timedelta(minutes=10), NOW)
    assert rule.stalled(60, NOW - timedelta(minutes=10, seconds=1), NOW)


def test_the_notice_names_the_job_and_how_long():
    body = stall_notice_body("sla", "SLA 时钟", NOW - timedelta(minutes=42), NOW)
    assert "sla" in body and "42 分钟" in body and len(body) <= 500
