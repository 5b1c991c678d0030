"""The metrics of `kefu eval`."""

from __future__ import annotations

import pytest

from kefu.nlp.evaluate import accuracy, confusion_table, macro_f1, precision_recall, score_triage


def test_accuracy_and_macro_f1():
    gold = ["a", "a", "b", "c"]
    pred = ["a", "b", "b", "b"]
    assert accuracy(gold, pred) == 0.5
    # F1: a = 2/3, b = 2/4, c = 0 → mean 0.3889
    assert macro_f1(gold, pred) == pytest.approx((2 / 3 + 0.5 + 0) / 3)
    # a class never seen in gold nor predicted counts as 0 when listed
    assert macro_f1(gold, pred, ["a", "b", "c", "d"]) == pytest.approx((2 / 3 + 0.5) / 4)
    assert accuracy([], []) == 0.0


def test_precision_recall_with_nothing_raised_is_not_a_division_error():
    assert precision_recall([True, False], [False, False]) == {
        "precision": 1.0,
        "recall": 0.0,
        "support": 1,
        "raised": 0,
    }
    assert precision_recall([True, False, False], [True, True, False])["precision"] == 0.5


def test_confusion_table_rows_are_gold():
    table = confusion_table(["x", "x", "y"], ["x", "y", "y"], ["x", "y"]).splitlines()
    assert table[1].split() == ["x", "1", "1"]
    assert table[2].split() == ["y", "0", "1"]


def test_score_triage_shape():
    row = {
        "sentiment": "negative",
        "emotion": "angry",
        "intent": "complaint",
        "category": "quality",
        "risks": ["media"],
        "priority": "P1",
    }
    miss = {**row, "risks": [], "priority": "P2", "emotion": "neutral"}
    result = score_triage([row, row], [row, miss], {"emotion": ["angry", "neutral"]})
    assert result["n"] == 2
    assert result["emotion"]["accuracy"] == 0.5
    assert result["risks"]["media"] == {"precision": 1.0, "recall": 0.5, "support": 2, "raised": 1}
    assert result["priority"]["p1_recall"] == 0.5
