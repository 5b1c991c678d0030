#!/usr/bin/env python3
"""Knowledge-base search (issue #21): kefu's search beside a plain BM25, same questions, one run.

- **kefu**: ``kefu.retrieval`` — BM25 over title, body, sentences and sounds, the lexicon of
  colloquial forms, slips read by sound, the learned ranker over those and the word vectors
  and the question's topic, and the learned "no good answer" decision.
- **baseline**: jieba words + bm25s over title and body, nothing else; it answers "no good
  answer" below a score threshold, the one that best balances no-answer precision and recall
  on these very questions (in-sample: the most favourable threshold it could have).

Accuracy on ``../shared/data/kb-questions-dev.jsonl`` with ``../shared/data/kb`` (60 articles).
kefu's figures are out of fold (5-fold cross-validation: the ranker never saw the questions it
is scored on, nor their harder copies), by question and by article, trained as the shipped
model is (with harder copies of the training questions: traditional, voice input, stories); the
shipped model's in-sample figures are beside them, and the out-of-fold figures on the harder
copies of the held-out questions after them. Latency: every question searched against the 60 articles and against 10,000 generated
articles (the 60 recombined: each takes a title and sentences from two or three others, so
the vocabulary and lengths stay realistic), fastest of 3 runs per question, one core.
Target: top-1 >= 0.85, top-3 >= 0.95, no-answer precision and recall >= 0.80, p99 < 10 ms
with 10,000 articles.

    .venv/bin/python benchmarks/kb_vs_bm25.py [--data ../shared/data] [--articles 10000]

The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import time
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
import rjieba
from threadpoolctl import threadpool_limits

from kefu.nlp.normalize import simplify
from kefu.retrieval import train
from kefu.retrieval.engine import Doc, Hit, Index, Result, doc_of
from kefu.retrieval.evaluate import Question, load_questions, score
from kefu.retrieval.folder import read_folder


class Baseline:
    """jieba + bm25s over title and body; no synonyms, no re-ranking."""

    def __init__(self, docs: list[Doc]) -> None:
        self.ids = [d.id for d in docs]
        self.retriever = bm25s.BM25()
        self.retriever.index(
            [self._terms(f"{d.title} {d.body}") for d in docs], show_progress=False
        )
        self.threshold = 0.0

    @staticmethod
    def _terms(text: str) -> list[str]:
        return [w for w in rjieba.cut(simplify(text)) if re.search(r"\w", w)] or ["\u0000"]

    def search(self, question: str) -> Result:
        terms = self._terms(question)
        scores = self.retriever.get_scores(terms)
        top = np.argsort(-scores)[:5]
        hits = tuple(Hit(self.ids[i], float(scores[i])) for i in top)
        return Result(hits, float(scores[top[0]]) / len(terms) >= self.threshold)

    def calibrate(self, questions: list[Question]) -> None:
        per_term = [
            float(self.retriever.get_scores(self._terms(q.text)).max()) / len(self._terms(q.text))
            for q in questions
        ]
        best = -1.0
        for t in sorted(set(np.round(per_term, 3))):
            self.threshold = t
            report = score((q, self.search(q.text)) for q in questions)
            value = min(report["no_answer"]["precision"], report["no_answer"]["recall"])
            if value > best:
                best, chosen = value, t
        self.threshold = chosen


def generated(docs: list[Doc], count: int, seed: int = 21) -> list[Doc]:
    rng = random.Random(seed)
    sentences = [s for d in docs for s in re.split(r"(?<=[。！？])", d.body) if s.strip()]
    out = []
    for n in range(count):
        base = rng.choice(docs)
        body = "".join(rng.sample(sentences, rng.randint(3, 6)))
        out.append(Doc(f"gen-{n:05d}", f"{base.title}（{n}）", body, base.category, base.tags))
    return out


def latency(search: Any, questions: list[Question]) -> dict[str, float]:
    times = []
    for q in questions:
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            search(q.text)
            best = min(best, time.perf_counter() - started)
        times.append(best * 1000)
    times.sort()
    return {
        "p50": round(statistics.median(times), 3),
        "p99": round(times[min(len(times) - 1, round(0.99 * (len(times) - 1)))], 3),
    }


def flat(report: dict[str, Any]) -> dict[str, float]:
    return {
        "top1": report["top1"],
        "top3": report["top3"],
        "no_answer_precision": report["no_answer"]["precision"],
        "no_answer_recall": report["no_answer"]["recall"],
    }


def main() -> None:
    # One BLAS thread, as kefu's server runs (kefu/__init__.py sets it before NumPy loads; here
    # NumPy came first, so the limit is set now and held for the whole run).
    with threadpool_limits(1):
        run()


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--articles", type=int, default=10_000)
    args = parser.parse_args()
    docs = [doc_of(a) for a in read_folder(args.data / "kb")]
    questions = load_questions(args.data / "kb-questions-dev.jsonl")

    kefu = Index.build(docs)
    baseline = Baseline(docs)
    baseline.calibrate(questions)
    shipped = flat(score((q, kefu.search(q.text)) for q in questions))
    plain = flat(score((q, baseline.search(q.text)) for q in questions))

    untrained = Index.build(docs, model=train.learned.untrained())
    examples = train.examples(untrained, questions)
    harder = train.harder_examples(untrained, questions)  # trained on, as the shipped model is
    by_question = train.cross_validate(examples, train.folds_by_question(examples), harder=harder)
    by_article = train.cross_validate(examples, train.folds_by_article(examples), harder=harder)

    print(
        f"{len(questions)} questions ({shipped and sum(1 for q in questions if q.article)} answerable), {len(docs)} articles"
    )
    print(f"{'':34} {'top-1':>7} {'top-3':>7} {'none P':>7} {'none R':>7}")
    rows = [
        ("kefu, 5-fold CV by question", by_question),
        ("kefu, 5-fold CV by article", by_article),
        ("kefu, shipped model (in-sample)", shipped),
        ("baseline jieba + bm25s", plain),
    ]
    for kind in ("traditional", "voice", "story"):
        rows.append((f"kefu, CV by question, {kind}", by_question[kind]))
    for name, r in rows:
        print(
            f"{name:34} {r['top1']:7.3f} {r['top3']:7.3f} "
            f"{r['no_answer_precision']:7.3f} {r['no_answer_recall']:7.3f}"
        )

    speeds: dict[str, Any] = {}
    for size, pool in (
        (len(docs), docs),
        (args.articles, docs + generated(docs, args.articles - len(docs))),
    ):
        started = time.perf_counter()
        index = Index.build(pool)
        built = time.perf_counter() - started
        plain_index = Baseline(pool)
        speeds[str(size)] = {
            "build_s": round(built, 2),
            "kefu": latency(index.search, questions),
            "baseline": latency(plain_index.search, questions),
        }
        s = speeds[str(size)]
        print(
            f"{size:>6} articles: kefu p50 {s['kefu']['p50']:.2f} ms, p99 {s['kefu']['p99']:.2f} ms"
            f" (index built in {built:.1f} s); baseline p50 {s['baseline']['p50']:.2f} ms,"
            f" p99 {s['baseline']['p99']:.2f} ms"
        )
    print(json.dumps({"accuracy": dict(rows), "latency_ms": speeds}, ensure_ascii=False))


if __name__ == "__main__":
    main()
