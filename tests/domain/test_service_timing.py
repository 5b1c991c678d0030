"""The team's service timing: ranges, 0 switching a lifecycle rule off, the policies it yields."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kefu.domain.service_timing import ServiceTiming, TimingRefused


def test_the_defaults_are_the_reference_timing() -> None:
    timing = ServiceTiming()
    lifecycle, feedback = timing.lifecycle(), timing.feedback()
    assert lifecycle.close_resolved_after == timedelta(hours=72)
    assert lifecycle.nudge_after == timedelta(hours=48)
    assert feedback.follow_up_after == timedelta(days=3)
    assert feedback.vip_follow_up and feedback.vip_follow_up_after == timedelta(hours=24)


def test_zero_switches_a_lifecycle_rule_off_and_means_at_once_for_a_survey() -> None:
    timing = ServiceTiming(close_resolved_hours=0, nudge_hours=0, survey_after_hours=0)
    assert timing.lifecycle().close_resolved_after is None
    assert timing.lifecycle().nudge_after is None
    assert timing.feedback().survey_after == timedelta(0)


def test_stored_values_over_defaults_and_unknown_keys_ignored() -> None:
    base = ServiceTiming(close_resolved_hours=24)
    timing = ServiceTiming.from_json({"follow_up_days": 1.5, "colour": "red"}, base)
    assert timing.close_resolved_hours == 24 and timing.follow_up_days == 1.5
    assert ServiceTiming.from_json(timing.to_json()) == timing


@pytest.mark.parametrize(
    ("field", "value"),
    [("follow_up_days", 91), ("nudge_hours", -1), ("survey_after_hours", float("nan")),
     ("close_resolved_hours", "3"), ("vip_follow_up_hours", True), ("vip_follow_up", "yes")],
)  # fmt: skip
def test_a_value_out_of_range_or_of_the_wrong_type_names_its_field(
    field: str, value: object
) -> None:
    with pytest.raises(TimingRefused) as refused:
        ServiceTiming.from_json({field: value})
    assert refused.value.field == field
