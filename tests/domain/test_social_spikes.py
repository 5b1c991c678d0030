"""The spike rule of social listening on synthetic series (domain/social_spikes.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from kefu.domain import social_spikes as rule
from kefu.domain.social_spikes import AlertKind, Baseline, WindowCount, assess, joins_alert

END = datetime(2026, 12, 9, 2, 0, tzinfo=UTC)


def steady(
    per_hour: int, negative: int = 0, hours: int = rule.BASELINE_WINDOWS
) -> list[WindowCount]:
    return [WindowCount(per_hour, negative) for _ in range(hours)]


def test_an_empty_stream_needs_the_minimum_count() -> None:
    assert assess(WindowCount(rule.MIN_SPIKE_COUNT - 1), []) is None
    spike = assess(WindowCount(rule.MIN_SPIKE_COUNT), [])
    assert spike is not None and spike.volume and not spike.negative


def test_two_mentions_in_a_quiet_hour_are_no_spike() -> None:
    assert assess(WindowCount(2, 2), steady(0)) is None
    assert assess(WindowCount(3, 3), steady(1)) is None


def test_a_busy_stream_alerts_only_well_above_its_norm() -> None:
    busy = steady(40)
    assert assess(WindowCount(55), busy) is None  # an ordinary swing
    spike = assess(WindowCount(80), busy)
    assert spike is not None and spike.volume


def test_a_noisy_baseline_raises_the_bar() -> None:
    calm = [WindowCount(10)] * 24
    noisy = [WindowCount(0), WindowCount(20)] * 12  # the same mean, a spread of 10
    assert assess(WindowCount(22), calm) is not None
    assert assess(WindowCount(22), noisy) is None
    assert assess(WindowCount(41), noisy) is not None


def test_the_share_of_negative_mentions_alerts_without_more_volume() -> None:
    usually_praised = steady(10, negative=1)
    spike = assess(WindowCount(10, 7), usually_praised)
    assert spike is not None and spike.negative and not spike.volume


def test_a_topic_always_criticised_does_not_alert_on_its_usual_share() -> None:
    always_bad = steady(10, negative=7)
    assert assess(WindowCount(10, 8), always_bad) is None


def test_a_high_share_of_very_few_mentions_is_no_spike() -> None:
    assert assess(WindowCount(3, 3), steady(1, 0)) is None


def test_the_baseline_spread_is_never_below_the_poisson_floor() -> None:
    assert Baseline.of(steady(16)).spread == 4.0
    assert Baseline.of(steady(0)).spread == 1.0
    assert Baseline.of([]).mean == 0.0


def test_the_windows_are_a_day_of_hours_before_the_current_one() -> None:
    edges = rule.window_edges(END)
    assert len(edges) == rule.BASELINE_WINDOWS + 2
    assert edges[-1] == END and edges[-2] == END - rule.WINDOW
    assert edges[0] == END - rule.WINDOW * (rule.BASELINE_WINDOWS + 1)
    assert all(b - a == rule.WINDOW for a, b in zip(edges, edges[1:], strict=False))
    counts = [WindowCount(n) for n in range(rule.BASELINE_WINDOWS + 1)]
    current, previous = rule.split(counts)
    assert current == WindowCount(rule.BASELINE_WINDOWS) and previous == counts[:-1]


def test_a_mention_joins_its_alert_within_the_cooldown_crises_within_their_span() -> None:
    last = END  # when the alert was raised
    assert joins_alert(AlertKind.SPIKE_TOPIC, last, last + rule.COOLDOWN)
    assert not joins_alert(AlertKind.SPIKE_TOPIC, last, last + rule.COOLDOWN + timedelta(seconds=1))
    assert joins_alert(AlertKind.CRISIS, last, last + rule.CRISIS_SPAN)
    assert not joins_alert(AlertKind.CRISIS, last, last + timedelta(hours=1))


def test_a_steady_stream_does_not_keep_an_alert_open_for_ever() -> None:
    raised = END
    # A mention every 30 minutes after the alert: the span counts from the alert's start.
    joined = [
        joins_alert(AlertKind.SPIKE_OVERALL, raised, raised + timedelta(minutes=30 * k))
        for k in range(1, 9)
    ]
    assert joined == [True, True, True, True, False, False, False, False]


def test_reasons_say_what_spiked() -> None:
    spike = assess(WindowCount(12, 12), steady(1))
    assert spike is not None
    said = rule.reasons(spike)
    assert len(said) == 2 and "12 条" in said[0] and "100%" in said[1]


@given(
    st.lists(st.integers(min_value=0, max_value=200), min_size=1, max_size=48),
    st.integers(min_value=0, max_value=400),
)
def test_more_mentions_never_turn_a_spike_off(baseline: list[int], count: int) -> None:
    previous = [WindowCount(c) for c in baseline]
    if assess(WindowCount(count), previous) is not None:
        assert assess(WindowCount(count + 1), previous) is not None


@given(st.lists(st.integers(min_value=0, max_value=200), min_size=1, max_size=48))
def test_a_window_like_its_baseline_mean_is_never_a_volume_spike(baseline: list[int]) -> None:
    previous = [WindowCount(c) for c in baseline]
    mean = round(sum(baseline) / len(baseline))
    spike = assess(WindowCount(mean), previous)
    assert spike is None or not spike.volume


def test_a_rise_made_by_one_topic_is_that_topics_not_the_streams() -> None:
    stream, stream_norm = WindowCount(7), Baseline.of(steady(2))
    quiet = Baseline.of(steady(0))
    one_topic = {"logistics": (WindowCount(4), quiet), "service": (WindowCount(2), quiet)}
    assert rule.topic_behind(stream, stream_norm, one_topic) == "logistics"
    spread = {
        "logistics": (WindowCount(2), quiet),
        "service": (WindowCount(2), quiet),
        "quality": (WindowCount(2), quiet),
        "other": (WindowCount(1), quiet),
    }
    assert rule.topic_behind(stream, stream_norm, spread) is None
    assert rule.topic_behind(WindowCount(1), stream_norm, one_topic) is None


def test_hours_before_listening_began_are_not_in_the_baseline() -> None:
    edges = rule.window_edges(END)
    counts = [WindowCount(0)] * 20 + [WindowCount(3)] * 4 + [WindowCount(6)]
    started = edges[20] + timedelta(minutes=5)  # the first mention came in window 20
    current, previous = rule.split(counts, edges, started)
    assert current == WindowCount(6) and previous == [WindowCount(3)] * 4
    assert assess(current, previous) is None  # 6 after hours of 3 is no spike
    assert assess(*rule.split(counts)) is not None  # against a day of zeros it would be
