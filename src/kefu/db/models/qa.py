"""The quality review (质检): the scorecards admins saved (each a version), the automatic review
of each resolved case, reviewers' confirmations and corrections per criterion, and agents'
disputes (docs/qa.md, domain/qa/)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db.base import Base, BigId, JSONData, UTCDateTime, utcnow


class QaScorecard(Base):
    """A saved scorecard (``domain.qa.scorecard.Scorecard.to_json``); the highest version is in
    force, a review names the version it used. Version 0, the default, is never stored."""

    __tablename__ = "qa_scorecards"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    config: Mapped[dict[str, Any]] = mapped_column(JSONData)
    saved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QaReview(Base):
    """The automatic review of one resolution of a case: every criterion's verdict, evidence and
    explanation (``results``), the total and the failed critical criteria under the scorecard
    ``scorecard_version``. ``status``: automatic, confirmed or corrected (by a reviewer),
    disputed (by the agent, until a reviewer answers). A case reviewed again after a reopen has
    a newer row; the newest is the case's review."""

    __tablename__ = "qa_reviews"
    __table_args__ = (
        Index("ix_qa_reviews_ticket", "ticket_id", "id"),
        Index("ix_qa_reviews_agent_created", "agent_id", "created_at"),
        Index("ix_qa_reviews_status_risk", "status", "risk", "id"),
        Index("ix_qa_reviews_resolved_at", "resolved_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"))
    scorecard_version: Mapped[int] = mapped_column(Integer)
    total: Mapped[float | None] = mapped_column(Float)
    failed_critical: Mapped[list[str]] = mapped_column(JSONData, default=list)
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSONData)
    risk: Mapped[int] = mapped_column(Integer, default=0)  # the reviewers' queue order, high first
    status: Mapped[str] = mapped_column(String(20), default="automatic")
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the resolution reviewed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QaCorrection(Base):
    """A reviewer's verdict on one criterion of a review: the same as the automatic one (a
    confirmation) or another (a correction), with a comment; the agreement figures read these."""

    __tablename__ = "qa_corrections"
    __table_args__ = (Index("ix_qa_corrections_criterion", "criterion", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    review_id: Mapped[int] = mapped_column(
        ForeignKey("qa_reviews.id", ondelete="CASCADE"), index=True
    )
    criterion: Mapped[str] = mapped_column(String(30))
    automatic: Mapped[str] = mapped_column(String(10))  # the review's verdict
    verdict: Mapped[str] = mapped_column(String(10))  # the reviewer's
    comment: Mapped[str] = mapped_column(Text, default="")
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QaDispute(Base):
    """An agent's dispute of their review (of one criterion, or the whole review), answered by a
    reviewer's correction or rejection."""

    __tablename__ = "qa_disputes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    review_id: Mapped[int] = mapped_column(
        ForeignKey("qa_reviews.id", ondelete="CASCADE"), index=True
    )
    criterion: Mapped[str | None] = mapped_column(String(30))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    comment: Mapped[str] = mapped_column(Text)
    open: Mapped[bool] = mapped_column(Boolean, default=True)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
