"""Scoring an index on labelled questions (``kefu eval kb``).

A question file has one JSON object a line: ``{"id", "text", "article"}``, ``article`` the id
of the one best article or null when no article answers. Top-1 and top-3 count over the
answerable questions, and a "no answer" decision on one of them is a miss. "No answer"
precision and recall are those of the decision itself, over all questions.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from kefu.retrieval.engine import Index, Result


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    article: str | None


def read_questions(source: TextIO) -> Iterator[Question]:
    for number, line in enumerate(source, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            yield Question(str(row.get("id", number)), str(row["text"]), row.get("article"))
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"line {number}: not a question row ({error})") from error


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def score(pairs: Iterable[tuple[Question, Result]]) -> dict[str, Any]:
    n = top1 = top3 = 0
    said_none = right_none = truly_none = 0
    for question, result in pairs:
        ids = [h.id for h in result.hits[:3]] if result.answered else []
        if question.article is None:
            truly_none += 1
        else:
            n += 1
            top1 += bool(ids) and ids[0] == question.article
            top3 += question.article in ids
        if not result.answered:
            said_none += 1
            right_none += question.article is None
    return {
        "n": n,
        "top1": round(top1 / n, 4) if n else 0.0,
        "top3": round(top3 / n, 4) if n else 0.0,
        "no_answer": {
            "precision": round(right_none / said_none, 4) if said_none else 0.0,
            "recall": round(right_none / truly_none, 4) if truly_none else 0.0,
        },
    }


def evaluate(index: Index, questions: list[Question]) -> tuple[dict[str, Any], list[Result]]:
    results: list[Result] = []
    times: list[float] = []
    if questions:  # the first search loads what searching needs (segmenter, sounds, models)
        index.search(questions[0].text)
    for question in questions:
        started = time.perf_counter()
        results.append(index.search(question.text))
        times.append((time.perf_counter() - started) * 1000)
    report = score(zip(questions, results, strict=True))
    report["latency_ms"] = {
        "p50": round(percentile(times, 50), 3),
        "p99": round(percentile(times, 99), 3),
    }
    return report, results


def load_questions(path: Path) -> list[Question]:
    with path.open(encoding="utf-8") as source:
        return list(read_questions(source))
