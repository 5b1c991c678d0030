#!/usr/bin/env python3
"""Intake speed before and after a change, in one run: ``ingest.py`` on two versions of kefu.

The older version is checked out from git into a temporary folder and run with this
environment's packages (``PYTHONPATH`` puts its ``src`` first, so its ``kefu serve`` is the
old code); the two versions take turns, round after round, so a machine that gets busier or
quieter during the run affects both alike. Each version runs its own ``benchmarks/ingest.py``
(the older one sets itself up the way its code expects). The table gives the median of the
rounds per version and the ratio after / before; ``GET /healthz`` is the HTTP stack without the
database, a yardstick of how busy the machine was.

    .venv/bin/python benchmarks/ingest_compare.py --before 29ade21            # quick runs, 2 rounds
    .venv/bin/python benchmarks/ingest_compare.py --before v0.1 --rounds 3 --full

Only 127.0.0.1 is contacted (ingest.py's rules: its own PostgreSQL database, never ``test``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
METRICS = (  # (label, phase, field, higher is better)
    ("GET /healthz req/s", "baseline_healthz", "msgs_per_s", True),
    ("throughput msg/s", "throughput", "msgs_per_s", True),
    ("throughput p99 ms", "throughput", "p99_ms", False),
    ("offered load p50 ms", "latency", "p50_ms", False),
    ("offered load p99 ms", "latency", "p99_ms", False),
)


def checkout(ref: str, into: Path) -> str:
    sha = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", ref], check=True,
                         capture_output=True, text=True).stdout.strip()  # fmt: skip
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", sha], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return sha


def run_once(tree: Path, backend: str, extra: list[str]) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    command = [
        sys.executable,
        str(tree / "benchmarks" / "ingest.py"),
        "--backends",
        backend,
        *extra,
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=tree)
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    try:
        summary = json.loads(last)
    except json.JSONDecodeError as e:
        raise SystemExit(
            f"{tree.name}/{backend}: no summary (exit {done.returncode})\n{done.stderr[-2000:]}"
        ) from e
    result: dict[str, Any] = summary["results"][backend]
    if "error" in result:
        raise SystemExit(f"{tree.name}/{backend}: {result['error']}")
    return result


def median(results: list[dict[str, Any]], phase: str, field: str) -> float | None:
    values = [r[phase][field] for r in results if phase in r and field in r[phase]]
    return statistics.median(values) if values else None


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--before", required=True, help="git revision of the older version")
    p.add_argument(
        "--rounds", type=int, default=2, help="runs of each version per backend (default 2)"
    )
    p.add_argument("--backends", default="sqlite,postgres")
    p.add_argument("--full", action="store_true", help="ingest.py's full run instead of --quick")
    args = p.parse_args()
    extra = [] if args.full else ["--quick"]
    with tempfile.TemporaryDirectory(prefix="kefu-before-") as folder:
        before_tree = Path(folder)
        sha = checkout(args.before, before_tree)
        trees = {f"before ({sha})": before_tree, "after (this tree)": REPO}
        runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
            for round_ in range(args.rounds):
                order = list(trees.items()) if round_ % 2 == 0 else list(reversed(trees.items()))
                for name, tree in order:
                    print(f"round {round_ + 1}/{args.rounds} {backend}: {name}", flush=True)
                    runs.setdefault((backend, name), []).append(run_once(tree, backend, extra))
        shutil.rmtree(before_tree / "kefu-data", ignore_errors=True)
    names = list(trees)
    print(f"\nmedians of {args.rounds} rounds ({'full' if args.full else 'quick'} runs), "
          f"ratio = after / before\n")  # fmt: skip
    print(f"{'backend':<9} {'metric':<22} {names[0]:>20} {names[1]:>20} {'ratio':>7}")
    table: list[dict[str, Any]] = []
    for backend in dict.fromkeys(b for b, _ in runs):
        for label, phase, field, _higher in METRICS:
            before = median(runs[(backend, names[0])], phase, field)
            after = median(runs[(backend, names[1])], phase, field)
            if before is None or after is None:
                continue
            ratio = after / before if before else float("nan")
            print(f"{backend:<9} {label:<22} {before:>20.1f} {after:>20.1f} {ratio:>7.2f}")
            table.append({"backend": backend, "metric": label, "before": before, "after": after,
                          "ratio": round(ratio, 3)})  # fmt: skip
    print(
        json.dumps(
            {"benchmark": "ingest_compare", "before": sha, "rounds": args.rounds, "rows": table}
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
