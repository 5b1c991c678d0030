"""Mentions counted per time window in the database: one aggregate row (or one per topic) with a
count and a negative count per window, so neither the alert check nor the chart reads the
mentions themselves. Plain conditional sums over the ``posted_at`` index: the same SQL on
SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from kefu.db.models import SocialMention
from kefu.domain.social_spikes import WindowCount


def _sums(edges: Sequence[datetime]) -> list[Any]:
    posted = SocialMention.posted_at
    columns: list[Any] = []
    for start, end in zip(edges, edges[1:], strict=False):
        inside = and_(posted > start, posted <= end)
        columns.append(func.sum(case((inside, 1), else_=0)))
        columns.append(func.sum(case((and_(inside, SocialMention.negative.is_(True)), 1), else_=0)))
    return columns


def _windows(values: Sequence[Any]) -> list[WindowCount]:
    numbers = [int(v or 0) for v in values]
    return [WindowCount(numbers[i], numbers[i + 1]) for i in range(0, len(numbers), 2)]


def per_window(
    session: Session, edges: Sequence[datetime], *where: ColumnElement[bool]
) -> list[WindowCount]:
    """The mentions in each window ``(edges[i], edges[i + 1]]``, oldest first."""
    query = select(*_sums(edges)).where(
        SocialMention.posted_at > edges[0], SocialMention.posted_at <= edges[-1], *where
    )
    row = session.execute(query).one()
    return _windows(tuple(row))


def per_window_by_topic(
    session: Session, edges: Sequence[datetime], *where: ColumnElement[bool]
) -> dict[str, list[WindowCount]]:
    """``per_window`` for each topic (category) that has mentions in the span."""
    query = (
        select(SocialMention.category, *_sums(edges))
        .where(SocialMention.posted_at > edges[0], SocialMention.posted_at <= edges[-1], *where)
        .group_by(SocialMention.category)
    )
    return {str(row[0]): _windows(tuple(row)[1:]) for row in session.execute(query)}
