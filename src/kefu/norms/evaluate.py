"""Scoring the checker on a labelled file (spec/norms.md "Evaluation files")."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kefu.domain.matched_comparison import wilson
from kefu.norms.checker import check
from kefu.norms.model import RULES, ReplyContext

TARGETS = {"precision": 0.90, "recall": 0.85, "exact_set_accuracy": 0.80, "false_alarm_rate": 0.05}


@dataclass(frozen=True)
class Example:
    id: str
    reply: str
    context: ReplyContext
    violations: frozenset[str]


def read_examples(path: Path) -> list[Example]:
    examples = []
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            examples.append(example(row))
        except (ValueError, KeyError, TypeError) as e:
            raise ValueError(f"{path}:{number}: {e}") from e
    return examples


def example(row: Mapping[str, Any]) -> Example:
    return Example(
        id=str(row.get("id", "")),
        reply=str(row["reply"]),
        context=context_of(row),
        violations=frozenset(row.get("violations", [])),
    )


def context_of(row: Mapping[str, Any]) -> ReplyContext:
    """The context of a JSON row: ``context`` turns, ``first_reply``, ``closing`` and the
    optional ``channel`` and ``customer_emotion``."""
    turns = row.get("context") or []
    if not isinstance(turns, list) or not all(isinstance(t, dict) for t in turns):
        raise ValueError('"context" must be a list of {"role", "text"}')
    return ReplyContext.from_turns(
        turns,
        first_reply=bool(row.get("first_reply", False)),
        closing=bool(row.get("closing", False)),
        channel=str(row.get("channel") or "chat"),
        customer_emotion=row.get("customer_emotion"),
    )


def predict(examples: Iterable[Example]) -> list[frozenset[str]]:
    return [frozenset(f.rule for f in check(e.reply, e.context)) for e in examples]


@dataclass(frozen=True)
class Ratio:
    hits: int
    total: int

    @property
    def value(self) -> float:
        return self.hits / self.total if self.total else 1.0

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.hits, self.total)


def score(gold: Sequence[frozenset[str]], predicted: Sequence[frozenset[str]]) -> dict[str, Any]:
    """Per-rule precision and recall, exact-set accuracy and the false-alarm rate, each with
    its counts (``Ratio``)."""
    rules: dict[str, dict[str, Ratio]] = {}
    for rule in RULES:
        tp = sum(rule in g and rule in p for g, p in zip(gold, predicted, strict=True))
        raised = sum(rule in p for p in predicted)
        true = sum(rule in g for g in gold)
        rules[rule] = {"precision": Ratio(tp, raised), "recall": Ratio(tp, true)}
    clean = [p for g, p in zip(gold, predicted, strict=True) if not g]
    return {
        "n": len(gold),
        "rules": rules,
        "exact_set_accuracy": Ratio(
            sum(g == p for g, p in zip(gold, predicted, strict=True)), len(gold)
        ),
        "false_alarm_rate": Ratio(sum(bool(p) for p in clean), len(clean)),
    }


def summary(scores: Mapping[str, Any]) -> dict[str, Any]:
    """The last line of ``kefu eval norms``."""
    return {
        "n": scores["n"],
        "rules": {
            rule: {k: round(r.value, 4) for k, r in pair.items()}
            for rule, pair in scores["rules"].items()
        },
        "exact_set_accuracy": round(scores["exact_set_accuracy"].value, 4),
        "false_alarm_rate": round(scores["false_alarm_rate"].value, 4),
    }


def report_lines(scores: Mapping[str, Any]) -> list[str]:
    """Human-readable lines: each rule's P and R with Wilson intervals, targets beside."""

    def fmt(r: Ratio) -> str:
        low, high = r.interval
        return f"{r.value:.3f} [{low:.2f}-{high:.2f}] ({r.hits}/{r.total})"

    lines = [f"{'rule':<22}{'precision (target ≥0.90)':<34}recall (target ≥0.85)"]
    for rule, pair in scores["rules"].items():
        lines.append(f"{rule:<22}{fmt(pair['precision']):<34}{fmt(pair['recall'])}")
    lines.append(f"exact-set accuracy (target ≥0.80): {fmt(scores['exact_set_accuracy'])}")
    lines.append(f"false-alarm rate   (target ≤0.05): {fmt(scores['false_alarm_rate'])}")
    return lines
