"""Satisfaction surveys and follow-ups (满意度调查与回访): one survey per case, its due time (a
column the survey sweep reads: the database is the clock), how it went out and the answer; and
each channel's survey setting as an admin left it (domain/surveys.py ``ChannelSurveys``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db.base import Base, BigId, JSONData, UTCDateTime, utcnow


class Survey(Base):
    """A case's one survey (``ticket_id`` unique: one response per case). ``purpose`` is
    ``survey`` (a short-path case resolved) or ``follow_up`` (a complaint's 回访, a VIP case);
    a follow-up also asks whether the problem is solved. ``due_at`` is cleared once it is sent
    (or found unsendable: ``skipped``)."""

    __tablename__ = "surveys"
    __table_args__ = (
        Index(
            "ix_surveys_due",
            "due_at",
            sqlite_where=text("due_at IS NOT NULL"),
            postgresql_where=text("due_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), unique=True
    )
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(String(20), default="survey")
    kinds: Mapped[list[str]] = mapped_column(JSONData, default=list)
    via: Mapped[str | None] = mapped_column(String(20))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    skipped: Mapped[str | None] = mapped_column(String(40))  # why it could not go out
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    answered_via: Mapped[str | None] = mapped_column(String(20))
    csat: Mapped[int | None] = mapped_column(SmallInteger)
    nps: Mapped[int | None] = mapped_column(SmallInteger)
    ces: Mapped[int | None] = mapped_column(SmallInteger)
    solved: Mapped[bool | None] = mapped_column(Boolean)
    comment: Mapped[str] = mapped_column(Text, default="")
    comment_sentiment: Mapped[str | None] = mapped_column(String(20))
    flag: Mapped[str | None] = mapped_column(String(40))  # domain CommentFlag
    outcome: Mapped[str | None] = mapped_column(String(20))  # domain FeedbackOutcome
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id", ondelete="SET NULL"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def flagged(self) -> bool:
        return self.flag is not None

    def score_of(self, kind: str) -> int | None:
        value: Any = getattr(self, kind, None)
        return value if isinstance(value, int) else None


class SurveySetting(Base):
    """One channel's survey setting (``ChannelSurveys.to_json``); channels without a row use
    the default (CSAT by the channel's default way)."""

    __tablename__ = "survey_settings"

    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSONData)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
