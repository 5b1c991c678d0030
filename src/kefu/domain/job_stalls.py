"""When a periodic job counts as stalled, and what the admins are told (no I/O).

A job runs every ``every`` seconds; a round may be slow, and the jobs of one process run one
after another, so a single late round is no stall. A job is stalled when its last successful
round is older than ``factor`` times its interval, and never sooner than ``minimum`` seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

NOTICE_KIND = "job.stalled"


@dataclass(frozen=True)
class StallRule:
    factor: float = 10.0
    minimum_seconds: float = 300.0

    def threshold(self, every: float) -> timedelta:
        return timedelta(seconds=max(self.factor * every, self.minimum_seconds))

    def stalled(self, every: float, last_success: datetime, now: datetime) -> bool:
        return now - last_success > self.threshold(every)


def stall_notice_body(job: str, summary: str, last_success: datetime, now: datetime) -> str:
    minutes = max(1, int((now - last_success).total_seconds() // 60))
    what = f"（{summary}）" if summary else ""
    return (
        f"后台任务 {job}{what}已有 {minutes} 分钟没有成功完成一轮，"
        "请检查 kefu worker 是否在运行以及它的日志。"
    )[:500]


def stall_mail_subject(job: str) -> str:
    return f"【kefu 监控】后台任务 {job} 已停滞"
