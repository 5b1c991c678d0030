#!/usr/bin/env python3
"""The automatic quality review against the labelled conversations, and its speed.

Agreement: every conversation of ``benchmarks/qa/labelled.jsonl`` (labelled by reading
docs/qa.md before any scoring rule existed) is read as kefu reads a case — each customer turn's
emotion from the analysis engine, each reply's norms findings — and reviewed with the default
scorecard; per criterion the share of verdicts equal to the label and Cohen's κ (pass, fail and
n/a as three categories), with the confusion counts. Criteria below 0.8 are listed: the default
scorecard marks them advisory.

Speed: a 50-message conversation (25 customer turns with their stored emotions, 25 replies)
reviewed from its raw turns — the norms checker on each reply, then the review — ``--runs``
times: median and p99 in ms beside the baseline, the norms checker alone on the same replies.
Target (issue 24): p99 < 50 ms. The last line is one JSON object.

    .venv/bin/python benchmarks/qa_agreement.py
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

LABELLED = Path(__file__).parent / "qa" / "labelled.jsonl"
T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
TARGET_P99_MS = 50.0
STAGES = {"受理登记": "registered", "分析评估": "analyzing", "处理解决": "resolving",
          "跟进反馈": "following_up", "总结归档": "archived"}  # fmt: skip


def load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def conversation_of(item: dict[str, Any], emotions: dict[int, str] | None = None) -> Any:
    from kefu.domain.qa.conversation import Conversation, SurveyAnswer
    from kefu.services.qa.reading import RawTurn, read_turns

    raw = [
        RawTurn(
            t["role"],
            t["text"],
            T0 + timedelta(minutes=t["minute"]),
            emotion=(emotions or {}).get(i),
        )  # fmt: skip
        for i, t in enumerate(item["turns"])
    ]
    target = item.get("first_response_target_minutes")
    survey = item.get("survey")
    return Conversation(
        turns=read_turns(raw, channel=item.get("channel", "chat")),
        first_response_target=timedelta(minutes=target) if target is not None else None,
        complaint=item.get("case_path") == "complaint",
        loop_stages=tuple(STAGES.get(s, s) for s in item.get("loop_stages") or ()),
        survey=SurveyAnswer(survey.get("csat"), survey.get("nps")) if survey else None,
    )


def agreement_table(items: list[dict[str, Any]]) -> dict[str, Any]:
    from kefu.domain.qa.agreement import agreement
    from kefu.domain.qa.criteria import Criterion
    from kefu.domain.qa.review import review

    pairs: dict[str, list[tuple[str, str]]] = {c.value: [] for c in Criterion}
    for item in items:
        for result in review(conversation_of(item)):
            name = result.criterion.value
            pairs[name].append((result.verdict.value, item["labels"][name]))
    out = {}
    for name, listed in pairs.items():
        a = agreement(listed)
        out[name] = {
            "pairs": a.pairs,
            "agreement": a.agreement,
            "kappa": a.kappa,
            "trusted": a.trusted,
            "confusion": {f"{x}→{y}": n for (x, y), n in sorted(Counter(listed).items())},
        }
    return out


def long_conversation() -> tuple[list[dict[str, Any]], dict[int, str]]:
    """50 turns, alternating, from the labelled replies (emotions stored, as a case has them)."""
    customers = ["快递一周了还没到，到底怎么回事？", "我已经等了很久了，能不能快点！", "好的，那我再等等。",
                 "退款什么时候到账？", "谢谢你的帮助"]  # fmt: skip
    agents = ["您好，非常理解您的着急，我马上为您查询物流。", "已为您联系快递加急，预计明天18点前送达。",
              "退款会退回您付款的账户，预计1到3个工作日到账。", "我们会尽快处理。",
              "请问还有其他可以帮您的吗？"]  # fmt: skip
    turns, emotions = [], {}
    for i in range(50):
        if i % 2 == 0:
            turns.append({"role": "customer", "minute": i, "text": customers[(i // 2) % 5]})
            emotions[i] = "angry" if i < 10 else "neutral"
        else:
            turns.append({"role": "agent", "minute": i, "text": agents[(i // 2) % 5]})
    return turns, emotions


def speed(runs: int) -> dict[str, float]:
    from kefu.domain.qa.review import review
    from kefu.norms.checker import check
    from kefu.norms.model import ReplyContext

    turns, emotions = long_conversation()
    item = {"turns": turns, "case_path": "short", "first_response_target_minutes": 5}
    review(conversation_of(item, emotions))  # warm-up: lexicons, models
    whole, alone = [], []
    replies = [t["text"] for t in turns if t["role"] == "agent"]
    for _ in range(runs):
        started = time.perf_counter()
        review(conversation_of(item, emotions))
        whole.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        for reply in replies:
            check(reply, ReplyContext(customer_emotion="neutral"))
        alone.append((time.perf_counter() - started) * 1000)
    whole.sort()
    alone.sort()
    p99 = whole[min(len(whole) - 1, int(0.99 * len(whole)))]
    return {
        "median_ms": statistics.median(whole),
        "p99_ms": p99,
        "baseline_median_ms": statistics.median(alone),
        "baseline_p99_ms": alone[min(len(alone) - 1, int(0.99 * len(alone)))],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--labelled", type=Path, default=LABELLED)
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    items = load(args.labelled)
    table = agreement_table(items)
    print(f"{len(items)} labelled conversations ({args.labelled.name})\n")
    print(f"{'criterion':<15}{'pairs':>6}{'agreement':>11}{'kappa':>8}  confusion (auto→label)")
    for name, row in table.items():
        kappa = "—" if row["kappa"] is None else f"{row['kappa']:.2f}"
        flag = "" if row["trusted"] else "  ← advisory"
        print(f"{name:<15}{row['pairs']:>6}{row['agreement']:>11.2f}{kappa:>8}  "
              f"{', '.join(f'{k} {v}' for k, v in row['confusion'].items())}{flag}")  # fmt: skip
    figures = speed(args.runs)
    verdict = "PASS" if figures["p99_ms"] < TARGET_P99_MS else "FAIL"
    print(
        f"\n50-message conversation, {args.runs} runs: median {figures['median_ms']:.1f} ms, "
        f"p99 {figures['p99_ms']:.1f} ms (target < {TARGET_P99_MS:.0f}: {verdict}); baseline, "
        f"the norms checker alone on its 25 replies: median {figures['baseline_median_ms']:.1f} ms, "
        f"p99 {figures['baseline_p99_ms']:.1f} ms "
        f"({figures['median_ms'] / figures['baseline_median_ms']:.2f}× the baseline)"
    )
    advisory = [n for n, r in table.items() if not r["trusted"]]
    print(json.dumps({"agreement": table, "speed": figures, "advisory": advisory,
                      "pass": verdict == "PASS"}, ensure_ascii=False))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
