#!/usr/bin/env python3
"""The static security scan of ``make lint``: bandit over src/, every finding justified.

Bandit's checks are the same as ruff's flake8-bandit rules (``S``), which ``make lint`` enforces
line by line: a flagged line that is safe carries ``# noqa: S<n> - why``. Bandit does not read
those comments, so this script runs bandit and fails on any finding whose statement carries
neither a ``noqa: S…`` nor a ``nosec`` justification. Asserts (B101) are allowed everywhere:
kefu never runs with ``python -O`` and its asserts only narrow types after a real check (see
docs/security.md). Exit 1 lists the unjustified findings.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

JUSTIFIED = re.compile(r"#\s*(noqa:[^#\n]*\bS\d+|nosec\b)")
ALLOWED_EVERYWHERE = {"B101"}


def main() -> int:
    root = Path(__file__).resolve().parent.parent
    run = subprocess.run(  # noqa: S603 - a fixed command line
        [sys.executable, "-m", "bandit", "-q", "-r", "src", "-f", "json"],
        cwd=root, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if not run.stdout.strip():
        print(run.stderr, file=sys.stderr)
        return 2
    report = json.loads(run.stdout)
    if report.get("errors"):
        print("bandit could not read:", report["errors"], file=sys.stderr)
        return 2
    bad = []
    files: dict[str, list[str]] = {}
    for finding in report["results"]:
        if finding["test_id"] in ALLOWED_EVERYWHERE:
            continue
        path = finding["filename"]
        lines = files.setdefault(path, (root / path).read_text(encoding="utf-8").splitlines())
        span = finding.get("line_range") or [finding["line_number"]]
        first, last = min(span), max(span)
        statement = lines[first - 1 : last + 1]  # a closing line may carry the comment
        if not any(JUSTIFIED.search(line) for line in statement):
            bad.append(f"{path}:{first}: {finding['test_id']} {finding['issue_text']}")
    total = len(report["results"])
    if bad:
        print("\n".join(bad))
        print(f"{len(bad)} of {total} bandit findings are not justified (# noqa: S… - why)")
        return 1
    print(f"bandit: {total} findings, each justified (asserts, or # noqa: S… on the line)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
