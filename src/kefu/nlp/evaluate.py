"""Scoring predictions against labels: accuracy, macro-F1, confusion tables, risk precision/recall.

Pure functions over lists of labels, shared by ``kefu eval`` and the benchmarks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

RISKS = ("media", "regulator", "legal", "safety", "privacy", "discrimination")


def accuracy(gold: Sequence[str], predicted: Sequence[str]) -> float:
    if not gold:
        return 0.0
    return sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold)


def macro_f1(
    gold: Sequence[str], predicted: Sequence[str], classes: Iterable[str] | None = None
) -> float:
    """Mean F1 over the classes (by default those in the gold labels)."""
    labels = sorted(set(gold)) if classes is None else list(classes)
    if not labels:
        return 0.0
    scores = []
    for label in labels:
        tp = sum(g == label and p == label for g, p in zip(gold, predicted, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted, strict=True))
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return sum(scores) / len(scores)


def precision_recall(gold: Sequence[bool], predicted: Sequence[bool]) -> dict[str, float]:
    tp = sum(g and p for g, p in zip(gold, predicted, strict=True))
    fp = sum(p and not g for g, p in zip(gold, predicted, strict=True))
    fn = sum(g and not p for g, p in zip(gold, predicted, strict=True))
    return {
        "precision": round(tp / (tp + fp), 4) if tp + fp else 1.0,
        "recall": round(tp / (tp + fn), 4) if tp + fn else 1.0,
        "support": tp + fn,
        "raised": tp + fp,
    }


def confusion_table(gold: Sequence[str], predicted: Sequence[str], classes: Sequence[str]) -> str:
    """Rows are gold labels, columns predictions."""
    counts = Counter(zip(gold, predicted, strict=True))
    width = max([len(c) for c in classes] + [6])
    head = " " * (width + 2) + " ".join(c[:width].rjust(width) for c in classes)
    lines = [head]
    for g in classes:
        lines.append(
            f"{g[:width].ljust(width)}  "
            + " ".join(str(counts[(g, p)]).rjust(width) for p in classes)
        )
    return "\n".join(lines)


def score_triage(
    gold_rows: Sequence[dict[str, Any]],
    predicted_rows: Sequence[dict[str, Any]],
    classes: Mapping[str, Sequence[str]],
) -> dict[str, Any]:
    """The metrics of ``kefu eval triage`` for rows with the fields of docs/triage.md."""
    result: dict[str, Any] = {"n": len(gold_rows)}
    for name, names in classes.items():
        gold = [r[name] for r in gold_rows]
        pred = [r[name] for r in predicted_rows]
        result[name] = {
            "accuracy": round(accuracy(gold, pred), 4),
            "macro_f1": round(macro_f1(gold, pred, names), 4),
        }
    result["risks"] = {
        risk: precision_recall(
            [risk in r["risks"] for r in gold_rows], [risk in r["risks"] for r in predicted_rows]
        )
        for risk in RISKS
    }
    gold_p = [r["priority"] for r in gold_rows]
    pred_p = [r["priority"] for r in predicted_rows]
    p1 = precision_recall([p == "P1" for p in gold_p], [p == "P1" for p in pred_p])
    result["priority"] = {
        "accuracy": round(accuracy(gold_p, pred_p), 4),
        "p1_recall": p1["recall"],
        "p1_precision": p1["precision"],
    }
    return result


NO_INDUSTRY = "(none)"


def score_by_industry(
    gold_rows: Sequence[dict[str, Any]],
    predicted_rows: Sequence[dict[str, Any]],
    classes: Mapping[str, Sequence[str]],
) -> dict[str, dict[str, Any]]:
    """``score_triage`` for each value of the rows' ``industry`` field, by name."""
    groups: dict[str, list[int]] = {}
    for i, row in enumerate(gold_rows):
        groups.setdefault(str(row.get("industry") or NO_INDUSTRY), []).append(i)
    return {
        industry: score_triage(
            [gold_rows[i] for i in indices], [predicted_rows[i] for i in indices], classes
        )
        for industry, indices in sorted(groups.items())
    }


def industry_table(scores: Mapping[str, Mapping[str, Any]]) -> str:
    """One line per industry: its size, each head's macro-F1, priority accuracy and P1 recall."""
    heads = ("sentiment", "emotion", "intent", "category")
    header = f"{'industry':<22} {'n':>5} " + " ".join(f"{h[:9]:>9}" for h in heads)
    lines = [header + f" {'priority':>9} {'P1 recall':>9}"]
    for industry, score in scores.items():
        f1s = " ".join(f"{score[h]['macro_f1']:>9.3f}" for h in heads if h in score)
        priority = score["priority"]
        lines.append(
            f"{industry:<22} {score['n']:>5} {f1s} "
            f"{priority['accuracy']:>9.3f} {priority['p1_recall']:>9.3f}"
        )
    return "\n".join(lines)
