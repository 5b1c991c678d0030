"""The answering bot's conversations (domain/bot.py) and the articles it offered in them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db.base import Base, BigId, JSONData, UTCDateTime, utcnow


class BotConversation(Base):
    """The bot's part of one case: its state, the last customer message it answered (a
    redelivered message is never answered twice), and how it ended: handed off (why) or solved
    by the bot with no agent (self-service)."""

    __tablename__ = "bot_conversations"
    __table_args__ = (Index("ix_bot_conversations_started", "started_at"),)

    ticket_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    channel: Mapped[str] = mapped_column(String(20))
    state: Mapped[dict[str, Any]] = mapped_column(JSONData, default=dict)
    last_message_id: Mapped[int] = mapped_column(BigId, default=0)
    handoff_reason: Mapped[str | None] = mapped_column(String(30))
    solved_by_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BotArticleOffer(Base):
    """An article the bot answered with, and the customer's verdict (solved | unsolved)."""

    __tablename__ = "bot_article_offers"
    __table_args__ = (Index("ix_bot_article_offers_offered", "offered_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    article_key: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str | None] = mapped_column(String(10))
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
