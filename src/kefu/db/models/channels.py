"""Customer channels with settings of their own: web chat widgets (one row per site or app) and
the identity claims their sites signed, and the time agents spend in each live-chat status
(domain/chat_offers.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kefu.db.base import Base, BigId, JSONData, UTCDateTime, utcnow
from kefu.db.models.staff import Group


class WebchatChannel(Base):
    """A chat widget: its public key (in the page's script tag), the secret sites sign their
    users' identities with (sealed: services/infra/secret_box.py), the origins it may be
    embedded on and the group it routes to."""

    __tablename__ = "webchat_channels"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    secret_sealed: Mapped[str] = mapped_column(Text)
    allowed_origins: Mapped[list[str]] = mapped_column(JSONData, default=list)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"))
    greeting: Mapped[str] = mapped_column(String(500), default="")
    offline_message: Mapped[str] = mapped_column(String(500), default="")
    offline_form: Mapped[bool] = mapped_column(Boolean, default=True)
    language: Mapped[str] = mapped_column(String(10), default="zh-CN")
    # The answering bot (domain/bot.py BotMode): off | first | outside_hours.
    bot_mode: Mapped[str] = mapped_column(String(15), default="off", server_default="off")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    group: Mapped[Group | None] = relationship()


class WebchatNonce(Base):
    """The nonce of a site's identity claim that was accepted, kept until the claim would have
    expired anyway: the same claim is never accepted twice (domain/visitor_identity.py)."""

    __tablename__ = "webchat_nonces"

    channel_id: Mapped[int] = mapped_column(
        BigId,
        ForeignKey("webchat_channels.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    )
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AgentStatusPeriod(Base):
    """One stretch of an agent in one status (在线 / 忙碌 / 小休 / 离线); ``ended_at`` None: now."""

    __tablename__ = "agent_status_periods"
    __table_args__ = (Index("ix_agent_status_periods_user_started", "user_id", "started_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
