"""The team's service timing (服务时限): when resolved cases close by themselves, when a case
waiting on the customer is nudged and then closed, and when follow-ups (回访) and surveys fall
due. One record, edited by admins; the lifecycle automations and the surveys read it.

Hours and days are numbers people type; 0 switches a lifecycle rule off (auto-close, nudge,
close after the nudge) and means "at once" for a survey or follow-up delay.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import timedelta
from typing import Any

from kefu.domain.automations import LifecyclePolicy
from kefu.domain.field_refusal import FieldRefused
from kefu.domain.surveys import FeedbackPolicy

YEAR_HOURS = 24 * 365


class TimingRefused(FieldRefused):
    """A value out of its range; ``field`` names it."""


# field → (lowest, highest) accepted
LIMITS: dict[str, tuple[float, float]] = {
    "close_resolved_hours": (0, YEAR_HOURS),
    "nudge_hours": (0, YEAR_HOURS),
    "close_unanswered_hours": (0, YEAR_HOURS),
    "follow_up_days": (0, 90),
    "survey_after_hours": (0, 30 * 24),
    "vip_follow_up_hours": (0, 30 * 24),
}


@dataclass(frozen=True)
class ServiceTiming:
    close_resolved_hours: float = 72
    nudge_hours: float = 48
    close_unanswered_hours: float = 72  # after the nudge
    follow_up_days: float = 3  # a complaint's 回访, after the solution
    survey_after_hours: float = 0  # a short-path case's survey, after it is resolved
    vip_follow_up: bool = True  # a VIP customer's case of any kind is followed up too
    vip_follow_up_hours: float = 24

    def __post_init__(self) -> None:
        for name, (low, high) in LIMITS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TimingRefused(name, "a number")
            if value != value or not low <= value <= high:  # NaN is not in any range
                raise TimingRefused(name, f"between {low:g} and {high:g}")

    def lifecycle(self) -> LifecyclePolicy:
        def delay(hours: float) -> timedelta | None:
            return timedelta(hours=hours) if hours > 0 else None

        return LifecyclePolicy(
            close_resolved_after=delay(self.close_resolved_hours),
            nudge_after=delay(self.nudge_hours),
            close_unanswered_after=delay(self.close_unanswered_hours),
        )

    def feedback(self) -> FeedbackPolicy:
        return FeedbackPolicy(
            follow_up_after=timedelta(days=self.follow_up_days),
            survey_after=timedelta(hours=self.survey_after_hours),
            vip_follow_up=self.vip_follow_up,
            vip_follow_up_after=timedelta(hours=self.vip_follow_up_hours),
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(
        cls, data: dict[str, Any], defaults: ServiceTiming | None = None
    ) -> ServiceTiming:
        """The record from stored or posted values; a missing key keeps ``defaults``' value, an
        unknown key is ignored, a bad value raises ``TimingRefused``."""
        base = asdict(defaults or cls())
        known = {f.name for f in fields(cls)}
        values = {**base, **{k: v for k, v in data.items() if k in known}}
        if not isinstance(values["vip_follow_up"], bool):
            raise TimingRefused("vip_follow_up", "true or false")
        return cls(**values)
