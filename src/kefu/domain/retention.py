"""Retention periods (保留期限) per kind of personal data, and when a row's time is up (no I/O).

Each kind names what kefu stores that holds personal data and how long it is kept; 0 keeps it
forever. The defaults are what a Chinese support team usually writes in its privacy policy
under 个人信息保护法 (the shortest time the purpose needs): raw deliveries only as long as a
parse may be retried or a dispute looked into (180 days), a closed case's conversation for the
3 years of civil limitation (民法典 第一百八十八条), the audit trail as long as the cases it
explains, sign-in records 30 days. docs/privacy.md gives the reasons kind by kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kefu.domain.field_refusal import FieldRefused

# What a swept text becomes: the row stays (its counts, times and labels feed the KPIs).
SWEPT = "已按保留期限删除"
MAX_DAYS = 36_500  # a hundred years; more is "forever", which is 0


@dataclass(frozen=True)
class Kind:
    key: str
    name: str  # the admin page's label (Chinese; translated on the page)
    default_days: int
    counted_from: str  # what the period runs from, for the page and the docs


KINDS: tuple[Kind, ...] = (
    Kind("mail_raw", "原始邮件", 180, "收到邮件"),
    Kind("inbound_payloads", "原始推送（Webhook、微信、API）", 180, "收到推送"),
    Kind("case_bodies", "已关闭工单的消息正文与附件", 1095, "工单关闭"),
    Kind("survey_comments", "满意度调查留言", 1095, "客户作答"),
    Kind("social_mentions", "未转为工单的舆情帖子", 365, "帖子发布"),
    Kind("webchat_visitors", "没有工单的网页访客", 90, "最后更新"),
    Kind("outbox", "已送达的外发记录", 180, "最后更新"),
    Kind("login_sessions", "登录会话与验证码", 30, "过期或注销"),
    Kind("audit_events", "审计日志", 1095, "记录时间"),
)
KIND_KEYS = tuple(k.key for k in KINDS)


class RetentionRefused(FieldRefused):
    """A period out of range; ``field`` names the kind."""


@dataclass(frozen=True)
class RetentionPolicy:
    """Days kept per kind (``KIND_KEYS``); 0 keeps forever."""

    days: dict[str, int]

    def __post_init__(self) -> None:
        for key in KIND_KEYS:
            value = self.days.get(key)
            if isinstance(value, bool) or not isinstance(value, int):
                raise RetentionRefused(key, "a whole number of days")
            if not 0 <= value <= MAX_DAYS:
                raise RetentionRefused(key, f"between 0 and {MAX_DAYS}")

    @classmethod
    def defaults(cls) -> RetentionPolicy:
        return cls({k.key: k.default_days for k in KINDS})

    @classmethod
    def from_json(
        cls, data: dict[str, Any], base: RetentionPolicy | None = None
    ) -> RetentionPolicy:
        """``data`` over ``base`` (the defaults): a missing kind keeps its value, an unknown one
        is refused, ``None`` or ``""`` means 0 (keep forever)."""
        unknown = sorted(set(data) - set(KIND_KEYS))
        if unknown:
            raise RetentionRefused(unknown[0], "not a kind of data kefu keeps")
        values = dict((base or cls.defaults()).days)
        for key, value in data.items():
            values[key] = 0 if value is None or value == "" else value
        return cls(values)

    def to_json(self) -> dict[str, int]:
        return {key: self.days[key] for key in KIND_KEYS}

    def cutoff(self, key: str, now: datetime) -> datetime | None:
        """What is older than this goes; None: the kind is kept forever."""
        days = self.days[key]
        return now - timedelta(days=days) if days > 0 else None
