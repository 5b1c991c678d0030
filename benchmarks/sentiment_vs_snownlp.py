#!/usr/bin/env python3
"""Review polarity: kefu against SnowNLP on the same held-out rows, in one run.

The rows are the held-out parts that ``kefu train --holdout-dir`` keeps out of training
(20 % of each public review corpus, stratified, seed 13; for ChnSentiCorp its dev file;
rows whose normalized text also occurs in training removed). The model evaluated is the
one trained without them. If ``--work`` holds no such model yet, the script trains one.

kefu predicts positive when ``sentiment_score > 0`` (``analyze_batch``); SnowNLP when
``SnowNLP(text).sentiments > 0.5``, its documented reading. Both run single-threaded on
the same rows; messages per second are wall-clock over the whole part.

    .venv/bin/python benchmarks/sentiment_vs_snownlp.py [--data ../shared/data] [--limit 2000]

The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

from kefu.nlp.analysis import Analyzer
from kefu.nlp.classifiers import load
from kefu.nlp.data import REVIEW_CORPORA, read_csv

# What fine-tuned BERT-base reaches on each corpus's test part (issue #3).
BERT = {
    "waimai_10k": 0.92,
    "online_shopping_10_cats": 0.95,
    "chnsenticorp_htl": 0.93,
    "chnsenticorp": 0.95,
}


def snownlp_positive(texts: list[str]) -> list[bool]:
    from snownlp import SnowNLP

    out = []
    for text in texts:
        try:
            out.append(SnowNLP(text).sentiments > 0.5)
        except Exception:  # noqa: BLE001 - SnowNLP fails on some inputs (empty after its filters)
            out.append(False)
    return out


def timed(function, texts):
    started = time.perf_counter()
    result = function(texts)
    return result, len(texts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/kefu-holdout"))
    parser.add_argument(
        "--limit", type=int, default=0, help="at most this many rows per corpus (seeded sample)"
    )
    args = parser.parse_args()

    model = args.work / "model.npz"
    if not model.is_file():
        print(f"training a model without the held-out rows into {args.work} …", flush=True)
        subprocess.run(
            [
                str(Path(sys.executable).parent / "kefu"),
                "train",
                "--data",
                str(args.data),
                "--out",
                str(model),
                "--holdout-dir",
                str(args.work / "heldout"),
            ],
            check=True,
        )
    analyzer = Analyzer(load(model))
    results = {}
    print(
        f"{'corpus':26s} {'rows':>6s} {'kefu':>7s} {'SnowNLP':>8s} {'BERT-base':>10s} {'kefu msg/s':>11s} {'SnowNLP msg/s':>14s} {'speed ratio':>12s}"
    )
    for corpus in REVIEW_CORPORA:
        rows = read_csv(args.work / "heldout" / f"{corpus}.heldout.csv", "review", "label")
        if args.limit and len(rows) > args.limit:
            rows = random.Random(13).sample(rows, args.limit)  # noqa: S311 - a reproducible sample
        texts = [r.text for r in rows]
        gold = [r.label == "1" for r in rows]
        kefu, kefu_rate = timed(
            lambda t: [a.sentiment_score > 0 for a in analyzer.analyze_batch(t)], texts
        )
        snow, snow_rate = timed(snownlp_positive, texts)
        kefu_acc = sum(p == g for p, g in zip(kefu, gold, strict=True)) / len(rows)
        snow_acc = sum(p == g for p, g in zip(snow, gold, strict=True)) / len(rows)
        results[corpus] = {
            "n": len(rows),
            "kefu_accuracy": round(kefu_acc, 4),
            "snownlp_accuracy": round(snow_acc, 4),
            "bert_base": BERT[corpus],
            "kefu_msgs_per_s": round(kefu_rate, 1),
            "snownlp_msgs_per_s": round(snow_rate, 1),
        }
        print(
            f"{corpus:26s} {len(rows):6d} {kefu_acc:7.4f} {snow_acc:8.4f} {BERT[corpus]:10.2f} {kefu_rate:11,.0f} "
            f"{snow_rate:14,.0f} {kefu_rate / snow_rate:11.0f}x",
            flush=True,
        )
    print(
        json.dumps({"benchmark": "sentiment_vs_snownlp", "model": str(model), "corpora": results})
    )


if __name__ == "__main__":
    main()
