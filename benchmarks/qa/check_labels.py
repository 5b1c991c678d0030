"""Check the labelled quality-review set and print its label counts.

    python benchmarks/qa/check_labels.py [path]

Each line must parse and follow the format in docs/qa.md: unique ids, turns with
non-decreasing minutes, all eleven criteria labelled. Exits non-zero when a line is
malformed or a criterion has fewer than MIN_EACH "pass" or "fail" labels.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

CRITERIA = (
    "greeting",
    "closing",
    "empathy",
    "courtesy",
    "jargon",
    "commitments",
    "privacy",
    "response_time",
    "emotion_trend",
    "loop_complete",
    "survey",
)
VERDICTS = ("pass", "fail", "na")
STAGES = ("受理登记", "分析评估", "处理解决", "跟进反馈", "总结归档")
CASE_PATHS = ("complaint", "short")
MIN_EACH = 10
DEFAULT_PATH = Path(__file__).with_name("labelled.jsonl")


def problems_in(record: dict[str, Any]) -> list[str]:
    """What is wrong with one conversation record (empty when it is well formed)."""
    found: list[str] = []
    if record.get("case_path") not in CASE_PATHS:
        found.append("case_path must be 'complaint' or 'short'")
    target = record.get("first_response_target_minutes", "missing")
    if target is not None and (not isinstance(target, int) or isinstance(target, bool)):
        found.append("first_response_target_minutes must be an integer or null")
    for key in ("industry", "channel", "notes"):
        if not isinstance(record.get(key), str) or not record[key]:
            found.append(f"{key} must be a non-empty string")
    stages = record.get("loop_stages")
    if record.get("case_path") == "complaint":
        if not isinstance(stages, list) or any(s not in STAGES for s in stages):
            found.append("loop_stages must list stages from " + "/".join(STAGES))
    elif stages is not None:
        found.append("loop_stages only belongs to complaints")
    survey = record.get("survey")
    if survey is not None and (not isinstance(survey, dict) or not survey):
        found.append("survey must be an object with csat and/or nps (omit it when unanswered)")
    elif survey is not None:
        csat, nps = survey.get("csat"), survey.get("nps")
        if set(survey) - {"csat", "nps"}:
            found.append("survey holds only csat and/or nps")
        if csat is not None and csat not in range(1, 6):
            found.append("csat must be 1-5")
        if nps is not None and nps not in range(0, 11):
            found.append("nps must be 0-10")
    turns = record.get("turns")
    if not isinstance(turns, list) or not turns:
        found.append("turns must be a non-empty list")
        turns = []
    last_minute = 0
    for number, turn in enumerate(turns, 1):
        if turn.get("role") not in ("customer", "agent"):
            found.append(f"turn {number}: role must be customer or agent")
        minute = turn.get("minute")
        if not isinstance(minute, int) or minute < last_minute:
            found.append(f"turn {number}: minute must be an integer, not before the last")
        else:
            last_minute = minute
        if not isinstance(turn.get("text"), str) or not turn["text"].strip():
            found.append(f"turn {number}: empty text")
    labels = record.get("labels")
    if not isinstance(labels, dict) or set(labels) != set(CRITERIA):
        found.append("labels must have exactly the eleven criteria")
    elif any(verdict not in VERDICTS for verdict in labels.values()):
        found.append("each label must be pass, fail or na")
    return found


def main(path: Path) -> int:
    counts: dict[str, Counter[str]] = {criterion: Counter() for criterion in CRITERIA}
    seen: set[str] = set()
    errors: list[str] = []
    total = 0
    for line_number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"line {line_number}: not JSON ({exc})")
            continue
        total += 1
        record_id = record.get("id")
        if not isinstance(record_id, str) or not record_id.startswith("qa-"):
            errors.append(f"line {line_number}: id must look like qa-001")
        elif record_id in seen:
            errors.append(f"line {line_number}: duplicate id {record_id}")
        seen.add(str(record_id))
        for problem in problems_in(record):
            errors.append(f"line {line_number} ({record_id}): {problem}")
        if isinstance(record.get("labels"), dict):
            for criterion in CRITERIA:
                counts[criterion][record["labels"].get(criterion)] += 1

    print(f"{total} conversations in {path}")
    print("| criterion | pass | fail | na |")
    print("|---|---:|---:|---:|")
    for criterion in CRITERIA:
        c = counts[criterion]
        print(f"| {criterion} | {c['pass']} | {c['fail']} | {c['na']} |")
        if c["pass"] < MIN_EACH or c["fail"] < MIN_EACH:
            errors.append(f"{criterion}: needs at least {MIN_EACH} pass and {MIN_EACH} fail")
    for error in errors:
        print("ERROR", error, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PATH))
