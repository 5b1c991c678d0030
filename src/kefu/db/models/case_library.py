"""The case library (解决方案库): one anonymised entry per archived complaint — the problem, its
root cause, the solution and compensation, how it turned out, and the lesson."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db.base import Base, BigId, JSONData, UTCDateTime, utcnow


class CaseEntry(Base):
    """An archived complaint as the library keeps it: written once at 总结归档 and rewritten when
    the same case is archived again after a reopen; personal data never enters it. The link to
    the original ticket is shown only to those who may open that ticket."""

    __tablename__ = "case_entries"
    __table_args__ = (Index("ix_case_entries_category", "category"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # The original case; SET NULL if it is ever deleted (the anonymised entry stays useful).
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), unique=True
    )
    title: Mapped[str] = mapped_column(String(100))
    problem: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(30))
    industry: Mapped[str] = mapped_column(String(20), default="general")
    tags: Mapped[list[str]] = mapped_column(JSONData, default=list)
    root_cause: Mapped[str] = mapped_column(Text, default="")
    solution: Mapped[str] = mapped_column(Text, default="")
    compensation_kind: Mapped[str | None] = mapped_column(String(20))
    compensation_amount: Mapped[int | None] = mapped_column(Integer)  # fen
    lesson: Mapped[str] = mapped_column(Text, default="")
    # The outcome: sent back or reopened before it held? how often reopened? the customer's
    # rating (1-5) when there is one (the follow-up's, later the survey's).
    first_time: Mapped[bool] = mapped_column(Boolean, default=True)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    rating: Mapped[int | None] = mapped_column(Integer)
    archived_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
