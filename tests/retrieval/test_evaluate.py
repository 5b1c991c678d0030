"""The figures of kefu eval kb."""

from __future__ import annotations

import io

import pytest

from kefu.retrieval.engine import Hit, Result
from kefu.retrieval.evaluate import Question, read_questions, score


def _result(*ids: str, answered: bool = True) -> Result:
    return Result(tuple(Hit(i, 0.5) for i in ids), answered)


def test_no_answer_on_an_answerable_question_is_a_miss_even_if_ranked_first():
    pairs = [
        (Question("1", "a", "kb-1"), _result("kb-1", "kb-2")),
        (Question("2", "b", "kb-2"), _result("kb-3", "kb-2")),
        (Question("3", "c", "kb-3"), _result("kb-3", answered=False)),
        (Question("4", "d", None), _result("kb-1", answered=False)),
        (Question("5", "e", None), _result("kb-1")),
    ]
    report = score(pairs)
    assert report["n"] == 3
    assert report["top1"] == pytest.approx(1 / 3, abs=1e-4)
    assert report["top3"] == pytest.approx(2 / 3, abs=1e-4)
    assert report["no_answer"] == {"precision": 0.5, "recall": 0.5}


def test_question_rows_are_checked():
    rows = io.StringIO('{"id": "q1", "text": "运费多少", "article": null}\n\n{"id": "q2"}\n')
    with pytest.raises(ValueError, match="line 3"):
        list(read_questions(rows))
