"""Posts as webhooks send them, and the clock of a listening test."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from kefu.services.social.intake import receive_social_webhook

# A Wednesday, 10:00 in Beijing: inside the default working hours, so SLA deadlines are plain.
NOW = datetime(2026, 12, 9, 2, 0, tzinfo=UTC)
_ids = itertools.count(1)

NEGATIVE_LOGISTICS = [
    "你们的快递太慢了，一个星期还没到，差评！",
    "物流太慢了，气死我了，再也不买了",
    "快递一直不更新，等了十天还没收到，太失望了",
]
NEUTRAL_QUESTION = "请问这款面霜适合干皮吗"


def post(text: str, *, at: datetime, handle: str | None = None, **extra: Any) -> dict[str, Any]:
    n = next(_ids)
    return {
        "platform": extra.pop("platform", "weibo"),
        "id": extra.pop("id", f"p{n}"),
        "url": f"https://weibo.com/u/{n}",
        "author": {"handle": handle or f"fan{n}", "name": f"网友{n}"},
        "text": text,
        "posted_at": at.isoformat(),
        **extra,
    }


def send(db: Session, data: dict[str, Any], *, at: datetime, source_id: int = 1) -> int:
    """The post as the webhook receiver hands it over, committed. On SQLite the transaction
    takes the write lock from its start, as kefu's own write sessions do: one that read first
    and wrote after fails at once when the live server wrote in between (tests/factories.py)."""
    db.commit()
    if db.get_bind().dialect.name == "sqlite":
        db.connection(execution_options={"sqlite_immediate": True})
    mention_id = receive_social_webhook(
        db, source_id=source_id, event_id=f"evt_{data['id']}", data=data, received_at=at
    )
    db.commit()
    return mention_id


def quiet_day(db: Session, *, until: datetime, per_hour: int = 1) -> None:
    """A day of ordinary, mostly neutral mentions: the baseline."""
    for hour in range(24, 1, -1):
        for k in range(per_hour):
            at = until - timedelta(hours=hour, minutes=10 + k)
            send(db, post(NEUTRAL_QUESTION, at=at), at=at)
