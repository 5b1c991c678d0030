from __future__ import annotations

import pytest

from kefu.domain.qa.criteria import Criterion, CriterionResult, Verdict
from kefu.domain.qa.scorecard import DEFAULT, Scorecard, ScorecardRefused, Weighing, score


def _results(**verdicts: str) -> list[CriterionResult]:
    return [CriterionResult(Criterion(k), Verdict(v), "") for k, v in verdicts.items()]


def test_the_total_is_the_weighted_share_of_the_applicable_criteria_passed():
    # greeting 5 pass, response time 10 fail, jargon 5 pass, survey n/a: 10 of 20
    got = score(
        _results(greeting="pass", response_time="fail", jargon="pass", survey="na"), DEFAULT
    )
    assert got.total == 50.0 and not got.failed


def test_the_default_scorecard_only_advises_on_the_criteria_people_disagreed_with():
    advisory = {c for c, w in DEFAULT.weighings.items() if w.advisory}
    assert advisory == {Criterion.CLOSING, Criterion.EMPATHY, Criterion.COMMITMENTS}
    got = score(_results(greeting="pass", empathy="fail", closing="fail"), DEFAULT)
    assert got.total == 100.0


def test_a_failed_critical_criterion_fails_the_review_whatever_the_total():
    got = score(_results(greeting="pass", courtesy="fail", privacy="pass"), DEFAULT)
    assert got.failed_critical == (Criterion.COURTESY,)
    assert got.total == pytest.approx(100 * 15 / 30)


def test_advisory_criteria_are_shown_but_weigh_nothing_and_fail_nothing():
    card = Scorecard(1, {**DEFAULT.weighings, Criterion.COURTESY: Weighing(15, advisory=True)})
    got = score(_results(greeting="pass", courtesy="fail"), card)
    assert got.total == 100.0 and not got.failed


def test_nothing_applicable_is_no_total():
    assert score(_results(survey="na"), DEFAULT).total is None


def test_an_admins_scorecard_round_trips_and_bad_ones_are_refused_naming_the_field():
    data = DEFAULT.to_json()
    assert Scorecard.from_json(data, version=3) == Scorecard(3, DEFAULT.weighings)
    for change, field in (
        ({"greeting": {"weight": -1}}, "greeting"),
        ({"jargon": {"weight": "5"}}, "jargon"),
        ({"privacy": {"weight": 10, "critical": True, "advisory": True}}, "privacy"),
        ({"tone": {"weight": 5}}, "tone"),
    ):
        with pytest.raises(ScorecardRefused) as refused:
            Scorecard.from_json({**data, **change}, version=4)
        assert refused.value.field == field
    with pytest.raises(ScorecardRefused):
        Scorecard.from_json({c.value: {"weight": 0} for c in Criterion}, version=5)
    missing = dict(data)
    del missing["survey"]
    with pytest.raises(ScorecardRefused) as refused:
        Scorecard.from_json(missing, version=6)
    assert refused.value.field == "survey"
