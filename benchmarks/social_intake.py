#!/usr/bin/env python3
"""Social listening intake: mentions per second through ``receive_post`` with a busy day behind.

Makes a SQLite database in a temporary directory, migrates it, and writes ``--history``
mentions spread over the last 24 hours (a busy brand: 5,000 a day). Then
it times ``--mentions`` new ones, each in its own transaction as a webhook delivers them: check,
analyse, store, link, and the alert check (two windowed counts over the last 25 hours, in SQL).

Beside it, the baseline: the analysis alone of the same texts (what no storage would cost).

    .venv/bin/python benchmarks/social_intake.py [--history 5000] [--mentions 500]

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

TEXTS = (
    "请问这款面霜适合干皮吗？",
    "包装很用心，好评",
    "快递一个星期还没到，物流信息也不更新，差评！",
    "客服态度太差了，爱理不理",
    "面霜用了一周就起球，质量太差",
    "回购第三次了，质量一直很稳定",
    "退款申请了半个月还没到账",
    "双十二有什么活动吗",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", type=int, default=5_000)
    parser.add_argument("--mentions", type=int, default=500)
    args = parser.parse_args()

    from sqlalchemy.orm import sessionmaker

    from kefu.db import migrate
    from kefu.db.base import utcnow
    from kefu.db.engine import make_engine
    from kefu.nlp.analysis import analyzer
    from kefu.services.social.intake import receive_post
    from kefu.services.social.posts import parse_post

    rng = random.Random(22)  # noqa: S311 - benchmark data
    folder = Path(tempfile.mkdtemp(prefix="kefu-bench-social-"))
    try:
        url = f"sqlite:///{folder / 'kefu.db'}"
        migrate.upgrade(url)
        sessions = sessionmaker(make_engine(url), expire_on_commit=False)
        now = utcnow()
        analyzer().analyze("预热")

        def post(n: int, at: object) -> object:
            return parse_post({
                "platform": rng.choice(("weibo", "douyin", "xiaohongshu")), "id": f"b{n}",
                "author": {"handle": f"fan{n % 5000}"}, "text": rng.choice(TEXTS),
                "posted_at": at.isoformat(),  # type: ignore[attr-defined]
            })  # fmt: skip

        started = time.perf_counter()
        with sessions() as session:
            for n in range(args.history):
                at = now - timedelta(seconds=rng.uniform(60, 24 * 3600))
                receive_post(session, post(n, at), source="bench", received_at=at, mail=False)
            session.commit()
        history_s = time.perf_counter() - started

        texts = [rng.choice(TEXTS) for _ in range(args.mentions)]
        started = time.perf_counter()
        for text in texts:
            analyzer().analyze(text)
        analysis_s = time.perf_counter() - started

        started = time.perf_counter()
        for k in range(args.mentions):
            at = now + timedelta(milliseconds=k)
            with sessions() as session:
                receive_post(
                    session, post(args.history + k, at), source="bench", received_at=at, mail=False
                )
                session.commit()
        intake_s = time.perf_counter() - started
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    figures = {
        "history": args.history,
        "history_write_s": round(history_s, 2),
        "mentions": args.mentions,
        "mentions_per_s": round(args.mentions / intake_s, 1),
        "ms_per_mention": round(1000 * intake_s / args.mentions, 2),
        "baseline_analysis_only_per_s": round(args.mentions / analysis_s, 1),
    }
    print(f"history: {args.history} mentions written in {history_s:.1f} s", file=sys.stderr)
    print(
        f"intake: {figures['mentions_per_s']} mentions/s ({figures['ms_per_mention']} ms each, "
        f"one transaction each) — baseline, analysis alone: "
        f"{figures['baseline_analysis_only_per_s']} /s",
        file=sys.stderr,
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
