"""Learning the ranker's weights from labelled questions (``python -m kefu.retrieval.train``).

Reads a knowledge-base folder and a question file (``kefu eval kb``'s format), prints the
out-of-fold figures of a k-fold cross-validation — by question, and by article (no question of a
held-out article is seen in training, the closest figure to a team's own knowledge base) — then
fits on everything and writes ``models/kb-ranker.json``. Training needs scikit-learn; searching
does not.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from kefu.retrieval import augment
from kefu.retrieval import ranker as learned
from kefu.retrieval.engine import Index, doc_of
from kefu.retrieval.evaluate import Question, load_questions
from kefu.retrieval.folder import read_folder

FOLDS = 5
SEED = 2026


@dataclass
class Example:
    question: Question
    ids: list[str]  # the candidates' article ids, first-stage order
    rows: np.ndarray
    question_row: np.ndarray
    kind: str = "plain"  # or the kind of harder copy (augment.KINDS)


def examples(index: Index, questions: list[Question], kind: str = "plain") -> list[Example]:
    out = []
    for question in questions:
        top, rows, asked = index.candidates(question.text)
        out.append(Example(question, [index.docs[i].id for i in top], rows, asked, kind))
    return out


def _standard(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    return mean, scale


def _logistic(x: np.ndarray, y: np.ndarray, c: float) -> tuple[np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
    model.fit(x, y)
    return model.coef_[0].astype(np.float64), float(model.intercept_[0])


def _threshold(confidence: np.ndarray, answerable: np.ndarray) -> float:
    """The decision threshold that best balances "no answer" precision and recall."""
    best, chosen = -1.0, 0.5
    for t in np.unique(np.round(confidence, 3)):
        said_none = confidence < t
        if not said_none.any():
            continue
        precision = (~answerable & said_none).sum() / said_none.sum()
        recall = (~answerable & said_none).sum() / max((~answerable).sum(), 1)
        value = min(precision, recall)
        if value > best:
            best, chosen = value, float(t)
    return chosen


def _listwise(groups: list[tuple[np.ndarray, int]], c: float) -> np.ndarray:
    """Weights of a conditional logit: the right candidate's softmax probability, maximised."""
    from scipy.optimize import minimize

    features = groups[0][0].shape[1]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, gradient = 0.5 / c * float(w @ w), w / c
        for x, gold in groups:
            z = x @ w
            z -= z.max()
            p = np.exp(z)
            p /= p.sum()
            total -= float(np.log(p[gold] + 1e-12))
            gradient = gradient - (x[gold] - p @ x)
        return total, gradient

    result = minimize(loss, np.zeros(features), jac=True, method="L-BFGS-B")
    return np.asarray(result.x, np.float64)


def fit(train: list[Example], c: float = 0.3) -> learned.Ranker:
    kept = [e for e in train if e.question.article is not None and e.question.article in e.ids]
    mean, scale = _standard(np.vstack([e.rows for e in kept]))
    groups = [((e.rows - mean) / scale, e.ids.index(str(e.question.article))) for e in kept]
    weights, bias = _listwise(groups, c), 0.0
    size = len(learned.ANSWER_FEATURE_NAMES) + len(learned.QUESTION_FEATURE_NAMES)
    partial = learned.Ranker(
        mean, scale, weights, bias, np.zeros(size), np.ones(size), np.zeros(size), 0.0, 0.5
    )
    answer_x = np.array([_answer_row(partial, e) for e in train])
    answer_y = np.array([e.question.article is not None for e in train], np.int64)
    a_mean, a_scale = _standard(answer_x)
    a_weights, a_bias = _logistic((answer_x - a_mean) / a_scale, answer_y, c)
    model = learned.Ranker(mean, scale, weights, bias, a_mean, a_scale, a_weights, a_bias, 0.5)
    # The threshold is set on the questions as written (their copies train the models only).
    plain = [e for e in train if e.kind == "plain"] or train
    confidence = np.array([_confidence(model, e) for e in plain])
    threshold = _threshold(confidence, np.array([e.question.article is not None for e in plain]))
    return learned.Ranker(mean, scale, weights, bias, a_mean, a_scale, a_weights, a_bias, threshold)


def _ordered(model: learned.Ranker, e: Example) -> tuple[np.ndarray, np.ndarray]:
    probability = model.rank(e.rows)
    order = np.argsort(-probability, kind="stable")
    return probability[order], order


def _answer_row(model: learned.Ranker, e: Example) -> np.ndarray:
    if len(e.ids) == 0:
        return np.zeros(len(learned.ANSWER_FEATURE_NAMES) + len(learned.QUESTION_FEATURE_NAMES))
    probability, order = _ordered(model, e)
    return learned.answer_features(probability, e.rows[order], e.question_row)


def _confidence(model: learned.Ranker, e: Example) -> float:
    if len(e.ids) == 0:
        return 0.0
    probability, order = _ordered(model, e)
    return model.answerable(probability, e.rows[order], e.question_row)


def predict(model: learned.Ranker, e: Example) -> tuple[list[str], bool]:
    if len(e.ids) == 0:
        return [], False
    _, order = _ordered(model, e)
    return [e.ids[i] for i in order], _confidence(model, e) >= model.threshold


def score(predictions: list[tuple[Example, list[str], bool]]) -> dict[str, Any]:
    n = top1 = top3 = said_none = right_none = truly_none = rank1 = rank3 = 0
    for e, ids, answered in predictions:
        gold = e.question.article
        rank1 += bool(ids) and ids[0] == gold
        rank3 += gold in ids[:3]
        shown = ids[:3] if answered else []
        if gold is None:
            truly_none += 1
        else:
            n += 1
            top1 += bool(shown) and shown[0] == gold
            top3 += gold in shown
        if not answered:
            said_none += 1
            right_none += gold is None
    return {
        "n": n,
        "top1": round(top1 / n, 4),
        "top3": round(top3 / n, 4),
        "ranked_top1": round(rank1 / n, 4),
        "ranked_top3": round(rank3 / n, 4),
        "no_answer_precision": round(right_none / max(said_none, 1), 4),
        "no_answer_recall": round(right_none / max(truly_none, 1), 4),
    }


def cross_validate(
    data: list[Example],
    folds: list[int],
    c: float = 0.3,
    harder: dict[str, list[Example]] | None = None,
) -> dict[str, Any]:
    """Out-of-fold figures on the questions, and on each kind of harder copy of them
    (``harder[kind][i]`` is a copy of ``data[i]``; it trains and is scored with its fold)."""
    harder = harder or {}
    predictions: dict[str, list[tuple[Example, list[str], bool]]] = {"plain": []}
    predictions.update({kind: [] for kind in harder})
    for fold in sorted(set(folds)):
        train = [e for e, f in zip(data, folds, strict=True) if f != fold]
        for copies in harder.values():
            train += [e for e, f in zip(copies, folds, strict=True) if f != fold]
        model = fit(train, c)
        for i, f in enumerate(folds):
            if f == fold:
                predictions["plain"].append((data[i], *predict(model, data[i])))
                for kind, copies in harder.items():
                    predictions[kind].append((copies[i], *predict(model, copies[i])))
    report: dict[str, Any] = score(predictions["plain"])
    for kind in harder:
        report[kind] = score(predictions[kind])
    return report


def folds_by_question(data: list[Example]) -> list[int]:
    rng = np.random.default_rng(SEED)
    return list(rng.permutation(len(data)) % FOLDS)


def folds_by_article(data: list[Example]) -> list[int]:
    """Questions of one article share a fold; unanswerable questions are spread evenly."""
    articles = sorted({e.question.article for e in data if e.question.article})
    rng = np.random.default_rng(SEED)
    fold_of = {
        a: int(f) for a, f in zip(articles, rng.permutation(len(articles)) % FOLDS, strict=True)
    }
    spread = iter(rng.permutation(len(data)) % FOLDS)
    return [fold_of[e.question.article] if e.question.article else int(next(spread)) for e in data]


def harder_examples(index: Index, questions: list[Question]) -> dict[str, list[Example]]:
    """Each kind of harder copy of the questions (augment.py), as candidates of ``index``."""
    copies = [augment.variants(q.text, seed=SEED + n) for n, q in enumerate(questions)]
    return {
        kind: examples(
            index, [replace(q, text=c[kind]) for q, c in zip(questions, copies, strict=True)], kind
        )
        for kind in augment.KINDS
    }


def _say(*parts: object) -> None:
    sys.stdout.write(" ".join(str(p) for p in parts) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--c", type=float, default=0.3, help="Inverse regularisation.")
    parser.add_argument("--dry-run", action="store_true", help="Cross-validate only.")
    args = parser.parse_args(argv)
    articles = read_folder(args.data / "kb")
    index = Index.build((doc_of(a) for a in articles), model=learned.untrained())
    questions = load_questions(args.data / "kb-questions-dev.jsonl")
    data = examples(index, questions)
    harder = harder_examples(index, questions)
    recall = sum(e.question.article in e.ids for e in data if e.question.article)
    answerable = sum(1 for e in data if e.question.article)
    _say(
        f"first stage: the right article among {len(data[0].rows)} candidates "
        f"for {recall}/{answerable} answerable questions"
    )
    for name, folds in (
        ("by question", folds_by_question(data)),
        ("by article", folds_by_article(data)),
    ):
        _say(f"{FOLDS}-fold, {name}:", json.dumps(cross_validate(data, folds, args.c, harder)))
    if not args.dry_run:
        model = fit(data + [e for copies in harder.values() for e in copies], args.c)
        learned.MODEL.parent.mkdir(exist_ok=True)
        learned.MODEL.write_text(json.dumps(model.to_json(), indent=1) + "\n", "utf-8")
        _say(f"wrote {learned.MODEL}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
