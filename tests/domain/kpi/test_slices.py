"""Slicing the hand-computed fixture by every dimension and period, and a property test that the
slices' numerators and denominators add up to the whole."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.domain.case_loop import CasePath
from kefu.domain.kpi.facts import SCALES, CaseFacts, ReplyFacts, SurveyFacts, SurveyKind
from kefu.domain.kpi.metrics import ADDITIVE, Figure, Metric, combine
from kefu.domain.kpi.slices import Dimension, Period, SliceKey, compute, period_of
from tests.domain.kpi.hand_fixture import CASES, REPLIES, SURVEYS
from tests.domain.kpi.test_metrics import WHOLE

M = Metric
Row = dict[Metric, tuple[float | None, int]]  # (value, denominator)


def figures(
    by: tuple[Dimension, ...] = (), period: Period | None = None, tz: str = "Asia/Shanghai"
) -> dict[SliceKey, dict[Metric, Figure]]:
    return compute(CASES, REPLIES, SURVEYS, by=by, period=period, tz=ZoneInfo(tz))


def assert_rows(got: dict[SliceKey, dict[Metric, Figure]], expected: dict[SliceKey, Row]) -> None:
    assert list(got) == list(expected)
    for key, row in expected.items():
        for metric, (value, denominator) in row.items():
            figure = got[key][metric]
            assert figure.denominator == denominator, (key, metric, figure)
            if value is None:
                assert figure.value is None, (key, metric, figure)
            else:
                assert figure.value == pytest.approx(value), (key, metric, figure)


def test_by_agent_every_metric() -> None:
    agent_1: Row = {  # cases 1–6
        M.FIRST_RESPONSE_MEDIAN: (180, 5),  # 30 60 180 3600 7200
        M.FIRST_RESPONSE_MEAN: (2214, 5),  # 11070 / 5
        M.AVERAGE_RESPONSE: (2268, 5),  # 60+180+300+3600+7200 = 11340 / 5
        M.AVERAGE_HANDLE: (675, 4),  # resolved 1–4: 300+600+1800+0 = 2700 / 4
        M.FIRST_CONTACT_RESOLUTION: (75, 4),  # 1 3 4 of 1–4
        M.RESOLUTION_RATE: (400 / 6, 6),  # 4 of 6
        M.REOPEN_RATE: (20, 5),  # 5 of ever resolved 1–5
        M.SLA_COMPLIANCE: (60, 5),  # clocks on 1 2 3 5 6, breached 2 5 → 3/5
        M.ESCALATION_RATE: (200 / 6, 6),  # 3 5
        M.TRANSFERS_PER_CASE: (0.5, 6),  # 1 + 2 = 3 / 6
        M.SELF_SERVICE_RATE: (25, 4),  # 4 of 1–4
        M.CSAT: (75, 4),  # 5 4 2 5 → 3/4
        M.NPS: (0, 3),  # 10 8 3 → (1−1)/3
        M.CES: (4.5, 2),  # 7 2
        M.SURVEY_RESPONSE_RATE: (100, 9),  # 3+2+3+1 asked, all answered
        M.LOOP_COMPLETION: (50, 2),  # complaints 3 5; 3 archived
        M.REPEAT_COMPLAINT_RATE: (50, 2),  # 5
    }
    agent_2: Row = {  # cases 7–11
        M.FIRST_RESPONSE_MEDIAN: (300, 5),  # 45 120 300 600 900
        M.FIRST_RESPONSE_MEAN: (393, 5),  # 1965 / 5
        M.AVERAGE_RESPONSE: (620, 6),  # 120+600+600+900+1200+300 = 3720 / 6
        M.AVERAGE_HANDLE: (1140, 5),  # 900+1200+0+3000+600 = 5700 / 5
        M.FIRST_CONTACT_RESOLUTION: (60, 5),  # 8 9 11
        M.RESOLUTION_RATE: (100, 5),
        M.REOPEN_RATE: (20, 5),  # 7
        M.SLA_COMPLIANCE: (75, 4),  # clocks on 7 8 10 11, breached 10
        M.ESCALATION_RATE: (20, 5),  # 10
        M.TRANSFERS_PER_CASE: (0.4, 5),  # 7 and 10: 2 / 5
        M.SELF_SERVICE_RATE: (20, 5),  # 9
        M.CSAT: (50, 4),  # 3 4 1 5 → 2/4
        M.NPS: (0, 3),  # 9 0 7 → (1−1)/3
        M.CES: (3.5, 2),  # 6 1
        M.SURVEY_RESPONSE_RATE: (900 / 11, 11),  # 2+3+1+3+2 asked, 9 answered
        M.LOOP_COMPLETION: (50, 2),  # 8 10; 8 archived
        M.REPEAT_COMPLAINT_RATE: (50, 2),  # 10
    }
    unassigned: Row = {  # case 12 alone: open, unanswered, never surveyed
        M.FIRST_RESPONSE_MEDIAN: (None, 0),
        M.FIRST_RESPONSE_MEAN: (None, 0),
        M.AVERAGE_RESPONSE: (None, 0),
        M.AVERAGE_HANDLE: (None, 0),
        M.FIRST_CONTACT_RESOLUTION: (None, 0),
        M.RESOLUTION_RATE: (0, 1),
        M.REOPEN_RATE: (None, 0),
        M.SLA_COMPLIANCE: (100, 1),
        M.ESCALATION_RATE: (0, 1),
        M.TRANSFERS_PER_CASE: (0, 1),
        M.SELF_SERVICE_RATE: (None, 0),
        M.CSAT: (None, 0),
        M.NPS: (None, 0),
        M.CES: (None, 0),
        M.SURVEY_RESPONSE_RATE: (None, 0),
        M.LOOP_COMPLETION: (None, 0),
        M.REPEAT_COMPLAINT_RATE: (None, 0),
    }
    assert_rows(figures((Dimension.AGENT,)), {(None,): unassigned, (1,): agent_1, (2,): agent_2})


# Four figures for each other dimension: resolution rate, CSAT, average response, median first
# response — (value, denominator) each.
def four(resolution: Row, csat: Row, response: Row, first: Row) -> Row:
    return resolution | csat | response | first


def r(value: float | None, n: int) -> Row:
    return {M.RESOLUTION_RATE: (value, n)}


def c(value: float | None, n: int) -> Row:
    return {M.CSAT: (value, n)}


def a(value: float | None, n: int) -> Row:
    return {M.AVERAGE_RESPONSE: (value, n)}


def f(value: float | None, n: int) -> Row:
    return {M.FIRST_RESPONSE_MEDIAN: (value, n)}


def test_by_group() -> None:
    assert_rows(
        figures((Dimension.GROUP,)),
        {
            (None,): four(r(0, 1), c(None, 0), a(None, 0), f(None, 0)),  # 12
            # 1 2 3 7 8: all resolved; CSAT 5 4 2 3 4 → 3/5; replies 60 180 300 3600 120 600
            # 600 = 5460 / 7; first 60 120 180 600 3600
            (10,): four(r(100, 5), c(60, 5), a(780, 7), f(180, 5)),
            # 4 5 6 9 10 11: 4 9 10 11 resolved; CSAT 5 1 5; replies 7200 900 1200 300;
            # first 30 45 300 900 7200
            (20,): four(r(400 / 6, 6), c(200 / 3, 3), a(2400, 4), f(300, 5)),
        },
    )


def test_by_channel() -> None:
    assert_rows(
        figures((Dimension.CHANNEL,)),
        {
            # 3 5 8 10 11: 3 8 10 11 resolved; CSAT 2 4 1 5; replies 3600 7200 600 900 1200 300
            # = 13800 / 6; first 300 600 900 3600 7200
            ("email",): four(r(80, 5), c(50, 4), a(2300, 6), f(900, 5)),
            # 1 2 4 7 9 12: 5 resolved; CSAT 5 4 5 3; replies 60 180 300 120 600 = 1260 / 5;
            # first 30 45 60 120 180
            ("webchat",): four(r(500 / 6, 6), c(75, 4), a(252, 5), f(60, 5)),
            ("wechat",): four(r(0, 1), c(None, 0), a(None, 0), f(None, 0)),  # 6
        },
    )


def test_by_category() -> None:
    assert_rows(
        figures((Dimension.CATEGORY,)),
        {
            # 6 12: open; 12's one message unanswered
            (None,): four(r(0, 2), c(None, 0), a(None, 0), f(None, 0)),
            # 1 2 4 7 9 11: all resolved; CSAT 5 4 5 3 5 → 4/5; replies 60 180 300 120 600 300
            # = 1560 / 6; first 30 45 60 120 180 300 → (60+120)/2
            ("物流",): four(r(100, 6), c(80, 5), a(260, 6), f(90, 6)),
            # 3 5 8 10: 3 8 10 resolved; CSAT 2 4 1; replies 3600 7200 600 900 1200 = 13500 / 5;
            # first 600 900 3600 7200 → (900+3600)/2
            ("质量",): four(r(75, 4), c(100 / 3, 3), a(2700, 5), f(2250, 4)),
        },
    )


def test_by_priority() -> None:
    assert_rows(
        figures((Dimension.PRIORITY,)),
        {
            # 3 5 10: 3 10 resolved; CSAT 2 1; replies 3600 7200 900 1200; first 900 3600 7200
            ("P2",): four(r(200 / 3, 3), c(0, 2), a(3225, 4), f(3600, 3)),
            # 1 2 7 8 11: all resolved; CSAT 5 4 3 4 5; replies 60 180 300 120 600 600 300 =
            # 2160 / 7; first 60 120 180 300 600
            ("P3",): four(r(100, 5), c(80, 5), a(2160 / 7, 7), f(180, 5)),
            # 4 6 9 12: 4 9 resolved; CSAT 5 (9's unanswered); 12's message unanswered; first 30 45
            ("P4",): four(r(50, 4), c(100, 1), a(None, 0), f(37.5, 2)),
        },
    )


def test_by_business_line() -> None:
    assert_rows(
        figures((Dimension.BUSINESS_LINE,)),
        {
            # 2 3 5 6 8 10: 2 3 8 10 resolved; CSAT 4 2 4 1; replies 180 300 3600 7200 600 900
            # 1200 = 13980 / 7; first 180 600 900 3600 7200
            (None,): four(r(400 / 6, 6), c(50, 4), a(13980 / 7, 7), f(900, 5)),
            # 1 4 7 9 11 12: 1 4 7 9 11 resolved; CSAT 5 5 3 5; replies 60 120 600 300 = 1080 / 4;
            # first 30 45 60 120 300
            ("外卖",): four(r(500 / 6, 6), c(75, 4), a(270, 4), f(60, 5)),
        },
    )


def test_by_day_in_beijing_time_crosses_the_utc_date_line() -> None:
    # Local days: 03-01 {11}, 03-02 {1 2 3 4} (4 opened 03-01 16:30 UTC), 03-03 {5 6},
    # 03-08 {7} (23:59), 03-09 {8 9 10 12} (8 opened at local midnight).
    assert_rows(
        figures(period=Period.DAY),
        {
            ("2026-03-01",): r(100, 1) | c(100, 1),
            ("2026-03-02",): r(100, 4) | c(75, 4),  # CSAT 5 4 2 5
            ("2026-03-03",): r(0, 2) | c(None, 0),
            ("2026-03-08",): r(100, 1) | c(0, 1),  # CSAT 3
            ("2026-03-09",): r(75, 4) | c(50, 2),  # 8 9 10 resolved; CSAT 4 1
        },
    )


def test_by_day_in_utc_puts_the_late_cases_on_the_day_before() -> None:
    # UTC days: 02-28 {11}, 03-01 {4}, 03-02 {1 2 3}, 03-03 {5 6}, 03-08 {7 8}, 03-09 {9 10 12}
    got = figures(period=Period.DAY, tz="UTC")
    assert [k[0] for k in got] == [
        "2026-02-28",
        "2026-03-01",
        "2026-03-02",
        "2026-03-03",
        "2026-03-08",
        "2026-03-09",
    ]
    assert got[("2026-03-08",)][M.RESOLUTION_RATE].denominator == 2
    assert got[("2026-03-09",)][M.RESOLUTION_RATE].value == pytest.approx(
        200 / 3
    )  # 9 10 of 9 10 12


def test_by_iso_week() -> None:
    # W09 ends on Sunday 03-01 {11}; W10 is 03-02..03-08 {1–7}; W11 starts Monday 03-09 {8 9 10 12}
    assert_rows(
        figures(period=Period.WEEK),
        {
            ("2026-W09",): r(100, 1) | c(100, 1),
            ("2026-W10",): r(500 / 7, 7) | c(60, 5),  # 1 2 3 4 7 resolved; CSAT 5 4 2 5 3
            ("2026-W11",): r(75, 4) | c(50, 2),
        },
    )


def test_by_month_depends_on_the_time_zone() -> None:
    (march,) = figures(period=Period.MONTH)  # in Beijing time case 11 opened on 03-01
    assert march == ("2026-03",)
    in_utc = figures(period=Period.MONTH, tz="UTC")
    assert list(in_utc) == [("2026-02",), ("2026-03",)]
    assert in_utc[("2026-03",)][M.RESOLUTION_RATE].value == pytest.approx(800 / 11)  # 8 of 11


def test_by_month_in_beijing_time_is_the_whole() -> None:
    month = figures(period=Period.MONTH)[("2026-03",)]
    for metric, (value, numerator, denominator) in WHOLE.items():
        assert month[metric].denominator == denominator
        assert month[metric].numerator == numerator
        assert month[metric].value == pytest.approx(value)


def test_period_then_dimensions_make_the_key() -> None:
    got = figures(by=(Dimension.AGENT, Dimension.CHANNEL), period=Period.WEEK)
    assert list(got) == [
        ("2026-W09", 2, "email"),  # 11
        ("2026-W10", 1, "email"),  # 3 5
        ("2026-W10", 1, "webchat"),  # 1 2 4
        ("2026-W10", 1, "wechat"),  # 6
        ("2026-W10", 2, "webchat"),  # 7
        ("2026-W11", None, "webchat"),  # 12
        ("2026-W11", 2, "email"),  # 8 10
        ("2026-W11", 2, "webchat"),  # 9
    ]
    assert got[("2026-W10", 1, "webchat")][M.RESOLUTION_RATE].denominator == 3


@pytest.mark.parametrize(
    ("utc", "label"),
    [
        (datetime(2026, 12, 31, 15, 59, tzinfo=UTC), "2026-W53"),  # Thursday 23:59 local
        (datetime(2026, 12, 31, 16, 0, tzinfo=UTC), "2026-W53"),  # 2027-01-01 local, still W53
        (datetime(2025, 12, 28, 16, 0, tzinfo=UTC), "2026-W01"),  # Monday 2025-12-29 local
        (datetime(2025, 12, 28, 15, 59, tzinfo=UTC), "2025-W52"),  # Sunday 2025-12-28 local
    ],
)
def test_iso_weeks_at_the_year_edges(utc: datetime, label: str) -> None:
    assert period_of(utc, Period.WEEK) == label


def test_a_naive_datetime_has_no_period() -> None:
    with pytest.raises(ValueError, match="naive"):
        period_of(datetime(2026, 3, 1), Period.DAY)  # noqa: DTZ001


# -- property: slices add up to the whole -------------------------------------------------------

T0 = datetime(2026, 1, 1, tzinfo=UTC)
seconds = st.integers(min_value=0, max_value=90 * 86400)
maybe_seconds = st.none() | st.integers(min_value=0, max_value=86400)


@st.composite
def case_facts(draw: st.DrawFn, ticket_id: int) -> CaseFacts:
    opened = T0 + timedelta(seconds=draw(seconds))
    first = draw(maybe_seconds)
    resolved = draw(maybe_seconds)
    due = draw(st.none() | st.just(opened + timedelta(hours=1)))
    return CaseFacts(
        ticket_id=ticket_id,
        created_at=opened,
        channel=draw(st.sampled_from(["webchat", "email", "wechat"])),
        priority=draw(st.sampled_from(["P1", "P2", "P3", "P4"])),
        path=draw(st.sampled_from(list(CasePath))),
        first_response_at=opened + timedelta(seconds=first) if first is not None else None,
        resolved_at=opened + timedelta(seconds=resolved) if resolved is not None else None,
        reopened=draw(st.integers(0, 2)),
        agent_id=draw(st.none() | st.integers(1, 3)),
        group_id=draw(st.none() | st.integers(10, 11)),
        category=draw(st.none() | st.sampled_from(["物流", "质量"])),
        business_line=draw(st.none() | st.sampled_from(["外卖", "电商"])),
        loop_completed=draw(st.booleans()),
        repeat_complaint=draw(st.booleans()),
        escalated=draw(st.booleans()),
        transfers=draw(st.integers(0, 3)),
        self_service=draw(st.booleans()),
        resolution_due_at=due,
        resolution_breached=draw(st.booleans()),
        handle_seconds=float(draw(st.integers(0, 7200))),
        contacts=draw(st.integers(1, 3)),
    )


@st.composite
def fact_sets(draw: st.DrawFn) -> tuple[list[CaseFacts], list[ReplyFacts], list[SurveyFacts]]:
    n = draw(st.integers(0, 25))
    cases = [draw(case_facts(i)) for i in range(n)]
    ids = st.integers(0, n + 1)  # n and n + 1 are no case: ignored
    replies = [
        ReplyFacts(
            t, T0 + timedelta(seconds=at), None if w is None else T0 + timedelta(seconds=at + w)
        )
        for t, at, w in draw(st.lists(st.tuples(ids, seconds, maybe_seconds), max_size=40))
    ]
    surveys = []
    for t, kind, answered in draw(
        st.lists(st.tuples(ids, st.sampled_from(list(SurveyKind)), st.booleans()), max_size=40)
    ):
        low, high = SCALES[kind]
        score = draw(st.integers(low, high)) if answered else None
        surveys.append(SurveyFacts(t, kind, score, T0 if answered else None))
    return cases, replies, surveys


@settings(max_examples=100, deadline=None)
@given(
    facts=fact_sets(),
    by=st.lists(st.sampled_from(list(Dimension)), max_size=3, unique=True),
    period=st.none() | st.sampled_from(list(Period)),
    tz=st.sampled_from(["Asia/Shanghai", "UTC", "America/Los_Angeles"]),
)
def test_the_slices_numerators_and_denominators_add_up_to_the_whole(
    facts: tuple[list[CaseFacts], list[ReplyFacts], list[SurveyFacts]],
    by: list[Dimension],
    period: Period | None,
    tz: str,
) -> None:
    cases, replies, surveys = facts
    zone = ZoneInfo(tz)
    whole = compute(cases, replies, surveys, tz=zone)
    sliced = compute(cases, replies, surveys, by=by, period=period, tz=zone)
    if not cases:
        assert whole == sliced == {}
        return
    (total,) = whole.values()
    for metric in Metric:
        assert sum(s[metric].denominator for s in sliced.values()) == total[metric].denominator
        if metric in ADDITIVE:
            numerators = [s[metric].numerator or 0.0 for s in sliced.values()]
            assert sum(numerators) == pytest.approx(total[metric].numerator)
            combined = combine(s[metric] for s in sliced.values())
            assert combined.denominator == total[metric].denominator
            if total[metric].value is None:
                assert combined.value is None
            else:
                assert combined.value == pytest.approx(total[metric].value)
    assert sum(len(k) == len(by) + (period is not None) for k in sliced) == len(sliced)
