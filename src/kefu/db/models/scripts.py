"""The reply-script library (话术库): scenarios, scripts with their versions, each use of a
script, macros, and the library's change stamp that in-memory indexes follow."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kefu.db.base import Base, BigId, JSONData, UTCDateTime, utcnow


class ScriptScenario(Base):
    """A scenario (场景) under a type (咨询 / 投诉 / 建议 / 表扬) for one industry."""

    __tablename__ = "script_scenarios"
    __table_args__ = (UniqueConstraint("type", "industry", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    type: Mapped[str] = mapped_column(String(20))  # inquiry | complaint | suggestion | praise
    name: Mapped[str] = mapped_column(String(100))
    industry: Mapped[str] = mapped_column(String(20), default="general")
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Script(Base):
    """One script: its current text is that of version ``current_version``."""

    __tablename__ = "scripts"
    __table_args__ = (Index("ix_scripts_status_role", "status", "role"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    scenario_id: Mapped[int] = mapped_column(
        ForeignKey("script_scenarios.id", ondelete="CASCADE"), index=True
    )
    # A stable name for scripts that came from a file (the starter library, an import): a later
    # load finds the script by it and never writes over a team's edits.
    key: Mapped[str | None] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(10), default="body")  # opener | body | closing
    conditions: Mapped[dict[str, Any]] = mapped_column(JSONData, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    proposed_from_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL")
    )
    review_note: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    scenario: Mapped[ScriptScenario] = relationship()


class ScriptVersion(Base):
    """A script's text as it was at one version, with who wrote it, when and why."""

    __tablename__ = "script_versions"
    __table_args__ = (UniqueConstraint("script_id", "number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    script_id: Mapped[int] = mapped_column(ForeignKey("scripts.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ScriptUse(Base):
    """A reply sent with a script (for its effectiveness against satisfaction, later)."""

    __tablename__ = "script_uses"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    script_id: Mapped[int] = mapped_column(ForeignKey("scripts.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    as_is: Mapped[bool] = mapped_column(Boolean)  # sent as the script read, or edited first
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Macro(Base):
    """A script plus ticket actions in one click (宏): status, tags, priority, group, case step."""

    __tablename__ = "macros"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    script_id: Mapped[int | None] = mapped_column(ForeignKey("scripts.id", ondelete="SET NULL"))
    actions: Mapped[dict[str, Any]] = mapped_column(JSONData, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ScriptLibraryStamp(Base):
    """One row: a new random stamp on every change of the library; a process's in-memory index
    of the library (services/scripts/index.py) is rebuilt when the stamp differs from its own."""

    __tablename__ = "script_library_stamp"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stamp: Mapped[str] = mapped_column(String(32))
