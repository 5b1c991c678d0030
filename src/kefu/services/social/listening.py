"""What the listening page (舆情) reads: mentions over time with their negative share, the topics
with most negative mentions, the latest mentions (filtered) and the alert history. Supervisors
and admins only (``require_listener``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.db.models import SocialAlert, SocialMention
from kefu.services.actors import Actor
from kefu.services.social import counts
from kefu.services.social.alerts import list_alerts, require_listener

# The periods the page offers: how far back, and the width of one point of the chart.
RANGES = {
    "24h": (timedelta(hours=24), timedelta(hours=1)),
    "7d": (timedelta(days=7), timedelta(days=1)),
    "30d": (timedelta(days=30), timedelta(days=1)),
}
DEFAULT_RANGE = "24h"
PAGE_SIZE = 50
TOP_TOPICS = 5


@dataclass(frozen=True)
class Filters:
    platform: str | None = None
    negative: bool | None = None
    topic: str | None = None
    before_id: int | None = None  # older than this mention (the next page)


@dataclass(frozen=True)
class Point:
    start: datetime
    count: int
    negative: int

    @property
    def negative_share(self) -> float:
        return self.negative / self.count if self.count else 0.0


@dataclass(frozen=True)
class Overview:
    range: str
    points: list[Point]
    total: int
    negative: int
    top_negative_topics: list[tuple[str, int]]
    mentions: list[SocialMention]
    more: bool
    alerts: list[SocialAlert]


def overview(
    session: Session, actor: Actor, *, now: datetime, range_key: str, filters: Filters
) -> Overview:
    require_listener(actor)
    range_key = range_key if range_key in RANGES else DEFAULT_RANGE
    span, step = RANGES[range_key]
    points = series(session, now - span, now, step)
    mentions = latest(session, filters)
    return Overview(
        range=range_key,
        points=points,
        total=sum(p.count for p in points),
        negative=sum(p.negative for p in points),
        top_negative_topics=top_negative_topics(session, now - span, now),
        mentions=mentions[:PAGE_SIZE],
        more=len(mentions) > PAGE_SIZE,
        alerts=list_alerts(session, actor),
    )


def series(session: Session, start: datetime, end: datetime, step: timedelta) -> list[Point]:
    """Mentions per ``step`` from ``start`` to ``end`` by the time they were posted (empty
    steps included, so the chart's axis is even)."""
    steps = max(1, int((end - start) / step))
    edges = [end - step * (steps - i) for i in range(steps + 1)]
    windows = counts.per_window(session, edges)
    return [Point(edges[i], w.count, w.negative) for i, w in enumerate(windows)]


def top_negative_topics(session: Session, start: datetime, end: datetime) -> list[tuple[str, int]]:
    number = func.count(SocialMention.id)
    rows = session.execute(
        select(SocialMention.category, number)
        .where(
            SocialMention.negative.is_(True),
            SocialMention.posted_at > start,
            SocialMention.posted_at <= end,
        )
        .group_by(SocialMention.category)
        .order_by(number.desc(), SocialMention.category)
        .limit(TOP_TOPICS)
    )
    return [(str(topic), int(n)) for topic, n in rows]


def latest(session: Session, filters: Filters) -> list[SocialMention]:
    """Newest first, one more than a page (so the page knows whether there is more)."""
    query = select(SocialMention)
    if filters.platform:
        query = query.where(SocialMention.platform == filters.platform)
    if filters.negative is not None:
        query = query.where(SocialMention.negative.is_(filters.negative))
    if filters.topic:
        query = query.where(SocialMention.category == filters.topic)
    if filters.before_id is not None:
        query = query.where(SocialMention.id < filters.before_id)
    return list(session.scalars(query.order_by(SocialMention.id.desc()).limit(PAGE_SIZE + 1)))
