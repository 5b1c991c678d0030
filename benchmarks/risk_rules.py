"""Rule-only precision and recall of the crisis signals (kefu.nlp.risks), per risk.

Reads labelled JSON Lines files (default: the two development files), runs
``find_risks(normalize(text).text)`` on each message and prints, per file and (where the
rows carry an ``industry``) per industry, precision / recall / support per risk.

    .venv/bin/python benchmarks/risk_rules.py [FILE ...] [--misses RISK]

``--misses RISK`` also prints the messages where that risk was missed or falsely raised
(for fixing generic handling after the lexicons are written, not for copying terms).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

from kefu.domain.triage_labels import Risk
from kefu.nlp.normalize import normalize
from kefu.nlp.risks import find_risks

DEFAULT_FILES = (
    Path("/work/shared/data/triage-dev.jsonl"),
    Path("/work/shared/data/triage-dev-industries.jsonl"),
)


class Counts:
    def __init__(self) -> None:
        self.tp: dict[str, int] = defaultdict(int)
        self.fp: dict[str, int] = defaultdict(int)
        self.fn: dict[str, int] = defaultdict(int)

    def add(self, gold: set[str], predicted: set[str]) -> None:
        for risk in gold | predicted:
            if risk in gold and risk in predicted:
                self.tp[risk] += 1
            elif risk in predicted:
                self.fp[risk] += 1
            else:
                self.fn[risk] += 1

    def row(self, risk: str) -> str:
        tp, fp, fn = self.tp[risk], self.fp[risk], self.fn[risk]
        p = tp / (tp + fp) if tp + fp else float("nan")
        r = tp / (tp + fn) if tp + fn else float("nan")
        return f"{p:5.2f}/{r:4.2f} ({tp + fn:>2})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="*", type=Path, default=list(DEFAULT_FILES))
    parser.add_argument("--misses", choices=[r.value for r in Risk])
    args = parser.parse_args()
    risks = [r.value for r in Risk]
    print("precision/recall (gold count) per risk")
    print(f"{'':24}" + "".join(f"{r:>19}" for r in risks))
    for path in args.files:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
        total, by_industry = Counts(), defaultdict(Counts)
        started = time.perf_counter()
        for row in rows:
            gold = set(row["risks"])
            predicted = {h.risk.value for h in find_risks(normalize(row["text"]).text)}
            total.add(gold, predicted)
            if "industry" in row:
                by_industry[row["industry"]].add(gold, predicted)
            if args.misses and (args.misses in gold) != (args.misses in predicted):
                kind = "MISS" if args.misses in gold else "FALSE"
                print(f"{kind} {row['id']}: {row['text']}")
        ms = (time.perf_counter() - started) * 1000 / max(len(rows), 1)
        print(
            f"{path.name:24}" + "".join(f"{total.row(r):>19}" for r in risks) + f"  {ms:.2f} ms/msg"
        )
        for industry in sorted(by_industry):
            counts = by_industry[industry]
            print(f"  {industry:22}" + "".join(f"{counts.row(r):>19}" for r in risks))


if __name__ == "__main__":
    main()
