"""Spike detection for social listening (舆情预警): when a topic, or the whole stream of public
mentions, rises so far above its recent norm that a supervisor must look now.

Pure arithmetic over counts the service reads (services/social/alerts.py); no SQL, no clock.

**Windows.** The current window is the last ``WINDOW`` (one hour) before the moment of the
check; the baseline is the ``BASELINE_WINDOWS`` windows of the same length before it (24 h).
An hour is short enough to catch a post going viral while the team can still answer within the
one-hour social SLA, and a day of hourly windows gives a baseline that already contains the
ordinary evening peak of the platforms.

**Volume.** The current count is a spike when it is at least ``MIN_SPIKE_COUNT``, at least
``VOLUME_RATIO`` times the baseline mean, and above the mean by ``VOLUME_SIGMAS`` spreads. The
spread is the baseline's standard deviation, but never less than the square root of the mean
(counts of independent posts are roughly Poisson: a quiet stream's spread of 0 would make any
extra post a spike) and never less than 1. The minimum count keeps two or three posts in a quiet
hour from waking anybody; the ratio keeps a busy, noisy stream from alerting on ordinary swings.

**Negative share.** The current window is a spike of bad news when at least
``MIN_NEGATIVE_COUNT`` of its mentions are negative, their share is at least
``NEGATIVE_SHARE_FLOOR`` and it is ``NEGATIVE_SHARE_RISE`` above the baseline's share (a brand
that is always criticised on one topic does not alert all day; a brand that usually gets praise
does when half its mentions turn negative).

Hours before the first mention kefu ever received are not part of the baseline (nobody was
listening then, ``split``).

**Crisis.** A mention carrying a crisis signal (media, a regulator such as 12315, a lawsuit,
safety, privacy, discrimination — ``domain/triage_labels.Risk``) alerts at once, without a
baseline.

**One alert per burst.** An alert stays the alert of its (kind, topic) for ``COOLDOWN`` after
it was raised (``CRISIS_SPAN`` for crisis alerts): a mention in that span joins it — its count
and mention list grow — instead of raising another (``joins_alert``). Supervisors are told once
per alert, not once per post. The span is counted from the alert's start, not from its latest
mention, so a steady stream never keeps one alert open for ever: a spike still going after two
hours is looked at afresh and, if the rule still says so, told again. An overall spike is looked
for in the mentions of topics without an alert of their own, and only when no single topic is
behind the rise (``topic_behind``: one topic's own excess over its norm makes at least
``DOMINANT_SHARE`` of the stream's excess): a burst on one topic raises its topic's alert, not
an overall one first and a topic one a few posts later.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

WINDOW = timedelta(hours=1)
BASELINE_WINDOWS = 24
MIN_SPIKE_COUNT = 5
VOLUME_RATIO = 2.0
VOLUME_SIGMAS = 3.0
MIN_NEGATIVE_COUNT = 4
NEGATIVE_SHARE_FLOOR = 0.5
NEGATIVE_SHARE_RISE = 0.25
COOLDOWN = timedelta(hours=2)
CRISIS_SPAN = timedelta(minutes=30)
DOMINANT_SHARE = 0.5


class AlertKind(StrEnum):
    SPIKE_TOPIC = "spike_topic"
    SPIKE_OVERALL = "spike_overall"
    CRISIS = "crisis"


@dataclass(frozen=True)
class WindowCount:
    """The mentions of one window: how many, and how many of them negative."""

    count: int = 0
    negative: int = 0

    @property
    def negative_share(self) -> float:
        return self.negative / self.count if self.count else 0.0


@dataclass(frozen=True)
class Baseline:
    mean: float
    spread: float  # the standard deviation, floored (see the module docstring)
    negative_share: float

    @classmethod
    def of(cls, windows: Sequence[WindowCount]) -> Baseline:
        """The norm of the previous windows (an empty stream: a mean of 0)."""
        if not windows:
            return cls(0.0, 1.0, 0.0)
        counts = [w.count for w in windows]
        mean = sum(counts) / len(counts)
        variance = sum((c - mean) ** 2 for c in counts) / len(counts)
        total = sum(counts)
        share = sum(w.negative for w in windows) / total if total else 0.0
        return cls(mean, max(math.sqrt(variance), math.sqrt(mean), 1.0), share)

    @property
    def volume_threshold(self) -> float:
        """The smallest count that is a volume spike against this baseline."""
        return max(
            float(MIN_SPIKE_COUNT),
            self.mean * VOLUME_RATIO,
            self.mean + VOLUME_SIGMAS * self.spread,
        )

    @property
    def negative_share_threshold(self) -> float:
        return max(NEGATIVE_SHARE_FLOOR, self.negative_share + NEGATIVE_SHARE_RISE)


@dataclass(frozen=True)
class Spike:
    """Why a window is a spike: by volume, by its share of negative mentions, or both."""

    volume: bool
    negative: bool
    current: WindowCount
    baseline: Baseline


def assess(current: WindowCount, previous: Sequence[WindowCount]) -> Spike | None:
    """The spike the current window makes against the previous ones, or None."""
    baseline = Baseline.of(previous)
    volume = current.count >= baseline.volume_threshold
    negative = (
        current.negative >= MIN_NEGATIVE_COUNT
        and current.negative_share >= baseline.negative_share_threshold
    )
    if not (volume or negative):
        return None
    return Spike(volume, negative, current, baseline)


def window_edges(end: datetime) -> list[datetime]:
    """The edges of the ``BASELINE_WINDOWS`` windows before ``end`` and the current one, oldest
    first: window i is ``(edges[i], edges[i + 1]]``, the last one ends at ``end``."""
    return [end - WINDOW * (BASELINE_WINDOWS + 1 - i) for i in range(BASELINE_WINDOWS + 2)]


def split(
    counts: Sequence[WindowCount],
    edges: Sequence[datetime] | None = None,
    listening_since: datetime | None = None,
) -> tuple[WindowCount, list[WindowCount]]:
    """The current window (the last) and the baseline windows before it. Windows that ended
    before ``listening_since`` (the first mention ever seen) are left out of the baseline: they
    are not quiet hours but hours nobody listened, and counting them as zeros would make a new
    installation's first ordinary afternoon look like a spike."""
    previous = list(counts[:-1])
    if edges is not None and listening_since is not None:
        previous = [w for w, end in zip(previous, edges[1:], strict=False) if end > listening_since]
    return counts[-1], previous


def topic_behind(
    overall: WindowCount,
    overall_baseline: Baseline,
    topics: Mapping[str, tuple[WindowCount, Baseline]],
) -> str | None:
    """The topic whose own rise makes most of the stream's rise, if one does (then the overall
    spike is that topic's, and its topic rule decides)."""
    excess = overall.count - overall_baseline.mean
    if excess <= 0:
        return None
    for topic, (current, baseline) in sorted(topics.items(), key=lambda t: -t[1][0].count):
        if current.count - baseline.mean >= DOMINANT_SHARE * excess:
            return topic
    return None


def joins_alert(kind: AlertKind, raised_at: datetime, now: datetime) -> bool:
    """Whether a mention at ``now`` joins the alert of its (kind, topic) raised at
    ``raised_at`` (see "One alert per burst")."""
    span = CRISIS_SPAN if kind == AlertKind.CRISIS else COOLDOWN
    return now - raised_at <= span  # a mention that arrived late joins too


def reasons(spike: Spike) -> list[str]:
    """The spike in words for the alert history and the notice (Chinese; the page translates
    the labels it shows itself)."""
    out = []
    if spike.volume:
        out.append(
            f"1 小时内 {spike.current.count} 条，近 24 小时平均每小时 {spike.baseline.mean:.1f} 条"
        )
    if spike.negative:
        out.append(
            f"负面占比 {spike.current.negative_share:.0%}，"
            f"此前为 {spike.baseline.negative_share:.0%}"
        )
    return out
