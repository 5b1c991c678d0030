"""Precision and recall of the priority cues (kefu.nlp.cues) against the gold cue labels.

Usage: python benchmarks/priority_cues.py [--data DIR] [--show N] [--timing]

Reads triage-dev.jsonl and triage-dev-industries.jsonl with their .cues.jsonl labels from DIR
(default ../shared/data), normalizes each text as intake does, and prints P/R per cue per file
and per industry. --show N prints up to N misses and false alarms per cue (with the span that
fired); --timing prints the time of find_cue_spans per message.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

from kefu.nlp.cues import CUE_PATTERNS, find_cue_spans
from kefu.nlp.normalize import normalize

FILES = ("triage-dev", "triage-dev-industries")


def load(data: Path, name: str) -> list[tuple[str, str, dict[str, bool]]]:
    """(industry, normalized text, gold cues) per message of one file."""
    rows = {}
    with (data / f"{name}.jsonl").open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            rows[row["id"]] = row
    out = []
    with (data / f"{name}.cues.jsonl").open(encoding="utf-8") as f:
        for line in f:
            gold = json.loads(line)
            row = rows[gold["id"]]
            text = normalize(row["text"]).text
            out.append(
                (row.get("industry", "shop"), text, {cue: bool(gold[cue]) for cue in CUE_PATTERNS})
            )
    return out


def pr(counts: dict[str, int]) -> str:
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    p = tp / (tp + fp) if tp + fp else float("nan")
    r = tp / (tp + fn) if tp + fn else float("nan")
    return f"P {p:.2f} R {r:.2f} (n={tp + fn:3d}, fp={fp})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data"
    )
    parser.add_argument(
        "--show", type=int, default=0, help="misses and false alarms to print per cue"
    )
    parser.add_argument("--timing", action="store_true", help="time find_cue_spans per message")
    args = parser.parse_args()

    for name in FILES:
        messages = load(args.data, name)
        counts: dict[tuple[str, str], dict[str, int]] = defaultdict(
            lambda: {"tp": 0, "fp": 0, "fn": 0}
        )
        misses: dict[str, list[str]] = defaultdict(list)
        alarms: dict[str, list[str]] = defaultdict(list)
        for industry, text, gold in messages:
            spans = find_cue_spans(text)
            for cue in CUE_PATTERNS:
                found = cue in spans
                kind = "tp" if found and gold[cue] else "fp" if found else "fn" if gold[cue] else ""
                if not kind:
                    continue
                counts[(cue, "all")][kind] += 1
                counts[(cue, industry)][kind] += 1
                if kind == "fn":
                    misses[cue].append(text[:120])
                elif kind == "fp":
                    start, end = spans[cue]
                    alarms[cue].append(f"[{text[start:end]}] {text[:120]}")
        industries = sorted({industry for industry, _, _ in messages})
        print(f"== {name} ({len(messages)} messages)")
        for cue in CUE_PATTERNS:
            print(f"  {cue:15s} {pr(counts[(cue, 'all')])}")
            if len(industries) > 1:
                for industry in industries:
                    print(f"    {industry:13s} {pr(counts[(cue, industry)])}")
        if args.timing:
            texts = [text for _, text, _ in messages]
            rounds = []
            for _ in range(
                7
            ):  # the fastest round: the least disturbed by other work on the machine
                start_time = time.perf_counter()
                for text in texts:
                    find_cue_spans(text)
                rounds.append((time.perf_counter() - start_time) / len(texts))
            print(f"  find_cue_spans: {min(rounds) * 1e6:.1f} µs per message (best of 7 rounds)")
        for cue in CUE_PATTERNS:
            for label, items in (("miss", misses[cue]), ("false alarm", alarms[cue])):
                for item in items[: args.show]:
                    print(f"  {cue} {label}: {item}")


if __name__ == "__main__":
    main()
