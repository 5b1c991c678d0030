"""Scoring the checker: per-rule precision and recall, exact sets, false alarms, Wilson."""

from __future__ import annotations

import pytest

from kefu.norms.evaluate import score, summary, wilson


def test_wilson_interval_of_known_proportions():
    low, high = wilson(12, 12)
    assert high == 1.0 and low == pytest.approx(0.7575, abs=1e-3)
    low, high = wilson(5, 10)
    assert (low, high) == (pytest.approx(0.2366, abs=1e-3), pytest.approx(0.7634, abs=1e-3))
    assert wilson(0, 0) == (0.0, 1.0)


def test_scores_count_each_rule_exact_sets_and_false_alarms_on_clean_replies():
    gold = [frozenset({"jargon"}), frozenset(), frozenset(), frozenset({"impolite", "jargon"})]
    predicted = [frozenset({"jargon"}), frozenset({"jargon"}), frozenset(), frozenset({"impolite"})]
    scores = score(gold, predicted)
    jargon = scores["rules"]["jargon"]
    assert (jargon["precision"].hits, jargon["precision"].total) == (1, 2)
    assert (jargon["recall"].hits, jargon["recall"].total) == (1, 2)
    assert scores["rules"]["impolite"]["precision"].value == 1.0
    assert scores["exact_set_accuracy"].value == 0.5
    assert scores["false_alarm_rate"].value == 0.5  # one of the two clean replies flagged
    line = summary(scores)
    assert line["n"] == 4 and set(line["rules"]) >= {"jargon", "impolite", "too_long"}
    assert line["rules"]["jargon"] == {"precision": 0.5, "recall": 0.5}
