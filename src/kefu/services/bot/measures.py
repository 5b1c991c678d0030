"""The bot's figures over a period (reference 002's self-service measures), for supervisors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.db.models import BotArticleOffer, BotConversation
from kefu.domain import bot
from kefu.services.actors import Actor
from kefu.services.staff.board import require_supervisor


def check_bot_measures(
    session: Session, actor: Actor, start: datetime, end: datetime
) -> dict[str, Any]:
    require_supervisor(actor)
    return bot_measures(session, start, end)


def bot_measures(session: Session, start: datetime, end: datetime) -> dict[str, Any]:
    """Conversations the bot took in [start, end): how many it solved alone (self-service), how
    many it handed off and why, and each article it offered with its 解决了 / 没解决 counts."""
    in_period = (BotConversation.started_at >= start, BotConversation.started_at < end)
    total, solved, handed = session.execute(
        select(
            func.count(),
            func.count().filter(BotConversation.solved_by_bot.is_(True)),
            func.count().filter(BotConversation.handoff_reason.is_not(None)),
        ).where(*in_period)
    ).one()
    reasons = {
        str(reason): n
        for reason, n in session.execute(
            select(BotConversation.handoff_reason, func.count())
            .where(*in_period, BotConversation.handoff_reason.is_not(None))
            .group_by(BotConversation.handoff_reason)
        )
    }
    figures = bot.Measures(total, solved, handed, reasons)
    articles: dict[str, dict[str, int]] = {}
    for key, outcome, n in session.execute(
        select(BotArticleOffer.article_key, BotArticleOffer.outcome, func.count())
        .where(BotArticleOffer.offered_at >= start, BotArticleOffer.offered_at < end)
        .group_by(BotArticleOffer.article_key, BotArticleOffer.outcome)
    ):
        row = articles.setdefault(key, {"offered": 0, "solved": 0, "unsolved": 0})
        row["offered"] += n
        if outcome in ("solved", "unsolved"):
            row[outcome] += n
    return {
        "conversations": figures.conversations,
        "solved_by_bot": figures.solved_by_bot,
        "self_service_rate": figures.self_service_rate,
        "handed_off": figures.handed_off,
        "handoff_rate": figures.handoff_rate,
        "handoffs_by_reason": {r.value: reasons.get(r.value, 0) for r in bot.HandoffReason},
        "articles": articles,
    }
