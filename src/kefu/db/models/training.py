"""The role-play trainer (模拟培训): a trainee's session with a scenario (assigned by a supervisor or
started by the trainee), where it stands (``progress``: the state machine's, domain/training/
machine.py), and its turns; the score card once it ends."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db.base import Base, BigId, JSONData, UTCDateTime, utcnow


class TrainingSession(Base):
    """``status``: assigned (not started), active, resolved or escalated (ended)."""

    __tablename__ = "training_sessions"
    __table_args__ = (Index("ix_training_sessions_trainee", "trainee_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    trainee_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    scenario_id: Mapped[str] = mapped_column(String(80))
    scenario_title: Mapped[str] = mapped_column(String(200))
    scenario_hash: Mapped[str] = mapped_column(String(64))  # the file as it was played
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default="assigned")
    progress: Mapped[dict[str, Any] | None] = mapped_column(JSONData)
    score: Mapped[float | None] = mapped_column(Float)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSONData)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TrainingTurn(Base):
    """One message of a session: the simulated customer's (``customer``) or the trainee's
    (``trainee``, with what the reading found and the reaction it drew)."""

    __tablename__ = "training_turns"
    __table_args__ = (Index("ix_training_turns_session", "session_id", "position"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_sessions.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text)
    state: Mapped[str | None] = mapped_column(String(80))  # the state the turn was said in
    emotion: Mapped[str | None] = mapped_column(String(20))  # the customer's, after the turn
    reaction: Mapped[str | None] = mapped_column(String(20))  # a trainee turn: what it drew
    signals: Mapped[list[str] | None] = mapped_column(JSONData)
    findings: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONData)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
