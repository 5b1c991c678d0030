"""Every KPI formula over the hand-computed fixture (hand_fixture.py), and the edge cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kefu.domain.kpi import metrics, slices
from kefu.domain.kpi.facts import CaseFacts, ReplyFacts, SurveyFacts, SurveyKind, business_line_of
from kefu.domain.kpi.metrics import Figure, Metric, Unit
from kefu.domain.kpi.slices import compute
from tests.domain.kpi.hand_fixture import CASES, COMPLAINT, REPLIES, SURVEYS

T0 = datetime(2026, 3, 2, 1, tzinfo=UTC)
M = Metric

# The whole fixture, worked out by hand: (value, numerator, denominator).
WHOLE: dict[Metric, tuple[float | None, float | None, int]] = {
    # first responses of cases 1–5, 7–11: 30 45 60 120 180 | 300 600 900 3600 7200 → (180+300)/2
    M.FIRST_RESPONSE_MEDIAN: (240, None, 10),
    # 30+45+60+120+180+300+600+900+3600+7200 = 13035; / 10
    M.FIRST_RESPONSE_MEAN: (1303.5, 13035, 10),
    # answered pairs 60 180 300 3600 7200 120 600 600 900 1200 300 = 15060; / 11 (two unanswered
    # and ticket 99 left out)
    M.AVERAGE_RESPONSE: (15060 / 11, 15060, 11),
    # resolved 1 2 3 4 7 8 9 10 11: 300+600+1800+0+900+1200+0+3000+600 = 8400; / 9
    M.AVERAGE_HANDLE: (8400 / 9, 8400, 9),
    # of the 9 resolved, one contact and never reopened: 1 3 4 8 9 11 → 6/9
    M.FIRST_CONTACT_RESOLUTION: (600 / 9, 6, 9),
    # 9 of 12 resolved now (5 reopened and open, 6 and 12 open)
    M.RESOLUTION_RATE: (75, 9, 12),
    # ever resolved: the 9 and case 5 = 10; reopened 5 and 7 → 2/10
    M.REOPEN_RATE: (20, 2, 10),
    # SLA clocks on all but 4 and 9 = 10; breached 2 5 10 → 7/10
    M.SLA_COMPLIANCE: (70, 7, 10),
    # escalated 3 5 10 → 3/12
    M.ESCALATION_RATE: (25, 3, 12),
    # transfers 1 (case 2) + 2 (5) + 1 (7) + 1 (10) = 5; / 12
    M.TRANSFERS_PER_CASE: (5 / 12, 5, 12),
    # of the 9 resolved, by the bot: 4 and 9 → 2/9
    M.SELF_SERVICE_RATE: (200 / 9, 2, 9),
    # answered CSAT 5 4 2 5 3 4 1 5 (8); 4–5: five → 5/8
    M.CSAT: (62.5, 5, 8),
    # answered NPS 10 8 3 9 0 7 (6); promoters 10 9, detractors 3 0 → (2−2)/6
    M.NPS: (0, 0, 6),
    # CES 7 2 6 1 = 16; / 4
    M.CES: (4, 16, 4),
    # asked 3+2+3+1+2+3+1+3+2 = 20 (ticket 99 left out); unanswered 7's NPS, 9's CSAT → 18/20
    M.SURVEY_RESPONSE_RATE: (90, 18, 20),
    # complaints 3 5 8 10; archived 3 8 → 2/4
    M.LOOP_COMPLETION: (50, 2, 4),
    # repeat complaints 5 10 → 2/4
    M.REPEAT_COMPLAINT_RATE: (50, 2, 4),
}

UNITS = {
    M.FIRST_RESPONSE_MEDIAN: Unit.SECONDS,
    M.FIRST_RESPONSE_MEAN: Unit.SECONDS,
    M.AVERAGE_RESPONSE: Unit.SECONDS,
    M.AVERAGE_HANDLE: Unit.SECONDS,
    M.TRANSFERS_PER_CASE: Unit.PER_CASE,
    M.NPS: Unit.NPS,
    M.CES: Unit.SCORE,
}


def close(figure: Figure, value: float | None, numerator: float | None, denominator: int) -> bool:
    if (figure.value is None) != (value is None) or figure.denominator != denominator:
        return False
    if figure.numerator != numerator:
        return False
    return value is None or figure.value == pytest.approx(value)


def test_the_whole_fixture_gives_every_figure_worked_out_by_hand() -> None:
    (whole,) = compute(CASES, REPLIES, SURVEYS).values()
    assert list(whole) == list(Metric)
    for metric, (value, numerator, denominator) in WHOLE.items():
        assert close(whole[metric], value, numerator, denominator), (metric, whole[metric])
        assert whole[metric].unit == UNITS.get(metric, Unit.PERCENT)


def test_each_metric_function_alone_matches_the_table() -> None:
    cases, replies = CASES, [r for r in REPLIES if r.ticket_id != 99]
    surveys = [s for s in SURVEYS if s.ticket_id != 99]
    assert close(metrics.first_response_median(cases), *WHOLE[M.FIRST_RESPONSE_MEDIAN])
    assert close(metrics.average_response(replies), *WHOLE[M.AVERAGE_RESPONSE])
    assert close(metrics.csat(surveys), *WHOLE[M.CSAT])
    assert close(metrics.nps(surveys), *WHOLE[M.NPS])
    assert close(metrics.ces(surveys), *WHOLE[M.CES])
    assert close(metrics.reopen_rate(cases), *WHOLE[M.REOPEN_RATE])


def test_no_facts_give_no_values_and_zero_samples() -> None:
    figures = metrics.all_figures([], [], [])
    assert all(f.value is None and f.denominator == 0 for f in figures.values())
    assert compute([], REPLIES, SURVEYS) == {}


def test_surveys_all_unanswered_give_no_scores_and_a_zero_response_rate() -> None:
    asked = [SurveyFacts(1, kind) for kind in SurveyKind]
    figures = metrics.all_figures([], [], asked)
    assert figures[M.CSAT].value is None and figures[M.NPS].value is None
    assert figures[M.CES].value is None
    assert close(figures[M.SURVEY_RESPONSE_RATE], 0, 0, 3)


def test_a_reopened_case_still_open_counts_as_reopened_not_as_resolved() -> None:
    reopened = CaseFacts(1, T0, "email", "P3", reopened=2, contacts=3)
    assert close(metrics.reopen_rate([reopened]), 100, 1, 1)
    assert close(metrics.resolution_rate([reopened]), 0, 0, 1)
    assert metrics.first_contact_resolution([reopened]).value is None  # not resolved: no sample


def test_a_reopened_and_resolved_again_case_is_not_a_first_contact_resolution() -> None:
    again = CaseFacts(1, T0, "email", "P3", resolved_at=T0, reopened=1, contacts=1)
    assert close(metrics.first_contact_resolution([again]), 0, 0, 1)


def test_cases_not_yet_resolved_stay_out_of_handle_time_and_self_service() -> None:
    open_case = CaseFacts(1, T0, "webchat", "P4", handle_seconds=5000, self_service=True)
    done = CaseFacts(2, T0, "webchat", "P4", resolved_at=T0, handle_seconds=100)
    assert close(metrics.average_handle([open_case, done]), 100, 100, 1)
    assert close(metrics.self_service_rate([open_case, done]), 0, 0, 1)


def test_a_case_without_sla_clocks_is_outside_sla_compliance() -> None:
    untimed = CaseFacts(1, T0, "webchat", "P4", resolution_breached=True)
    timed = CaseFacts(2, T0, "webchat", "P4", resolution_due_at=T0 + timedelta(hours=1))
    assert close(metrics.sla_compliance([untimed, timed]), 100, 1, 1)


def test_nps_of_detractors_only_is_minus_100_and_passives_only_zero() -> None:
    detractors = [SurveyFacts(i, SurveyKind.NPS, 6) for i in range(3)]
    passives = [SurveyFacts(i, SurveyKind.NPS, s) for i, s in enumerate((7, 8))]
    assert close(metrics.nps(detractors), -100, -3, 3)
    assert close(metrics.nps(passives), 0, 0, 2)


def test_complaint_rates_have_no_data_without_complaints() -> None:
    short = CaseFacts(1, T0, "webchat", "P4", repeat_complaint=True)
    assert metrics.loop_completion([short]).value is None
    assert metrics.repeat_complaint_rate([short]).value is None
    complaint = CaseFacts(2, T0, "email", "P2", path=COMPLAINT, loop_completed=True)
    assert close(metrics.loop_completion([short, complaint]), 100, 1, 1)


@pytest.mark.parametrize(("kind", "score"), [("csat", 0), ("csat", 6), ("nps", 11), ("ces", 0)])
def test_a_score_outside_its_scale_is_refused(kind: str, score: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        SurveyFacts(1, SurveyKind(kind), score)


def test_an_unanswered_customer_message_is_outside_the_average_response() -> None:
    waiting = ReplyFacts(1, T0)
    answered = ReplyFacts(1, T0, T0 + timedelta(minutes=5))
    assert close(metrics.average_response([waiting, answered]), 300, 300, 1)


def test_figures_of_parts_combine_into_the_figure_of_the_whole() -> None:
    by_agent = compute(CASES, REPLIES, SURVEYS, by=(slices.Dimension.AGENT,)).values()
    for metric in metrics.ADDITIVE:
        assert close(metrics.combine(f[metric] for f in by_agent), *WHOLE[metric]), metric


def test_a_median_or_mixed_units_cannot_be_combined() -> None:
    (whole,) = compute(CASES, REPLIES, SURVEYS).values()
    with pytest.raises(ValueError, match="median"):
        metrics.combine([whole[M.FIRST_RESPONSE_MEDIAN]] * 2)
    with pytest.raises(ValueError, match="combine"):
        metrics.combine([whole[M.CSAT], whole[M.CES]])
    with pytest.raises(ValueError, match="nothing"):
        metrics.combine([])


@pytest.mark.parametrize(
    ("tags", "line"),
    [
        (["vip", "line:外卖"], "外卖"),
        (["line:电商", "line:外卖"], "外卖"),  # several: the first in sorted order
        (["line:", "vip"], None),
        ([], None),
    ],
)
def test_the_business_line_comes_from_the_line_tag(tags: list[str], line: str | None) -> None:
    assert business_line_of(tags) == line
