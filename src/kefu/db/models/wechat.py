"""WeChat Official Accounts (公众号): the accounts kefu answers for, the access token they share
across processes, their followers (who subscribed, when they last wrote), and the media of
customer messages still to be fetched."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kefu.db.base import Base, BigId, UTCDateTime, utcnow
from kefu.db.models.staff import Group


class WechatAccount(Base):
    """One 公众号: the public key in its callback URL, its AppID and the secrets it shares with
    WeChat (sealed with the secret key: services/infra/secret_box.py), the message mode, where its
    API is (tests point it at a fake), the group its cases go to and the bot's mode."""

    __tablename__ = "wechat_accounts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    app_id: Mapped[str] = mapped_column(String(40))
    app_secret_sealed: Mapped[str] = mapped_column(Text, default="")
    token_sealed: Mapped[str] = mapped_column(Text, default="")
    encoding_aes_key_sealed: Mapped[str] = mapped_column(Text, default="")
    # plaintext | safe | compatible (明文 / 安全 / 兼容模式)
    message_mode: Mapped[str] = mapped_column(String(12), default="safe")
    api_base_url: Mapped[str] = mapped_column(String(300), default="https://api.weixin.qq.com")
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"))
    bot_mode: Mapped[str] = mapped_column(String(15), default="off")  # domain/bot.py BotMode
    greeting: Mapped[str] = mapped_column(String(500), default="")  # the answer to a subscribe
    template_id: Mapped[str] = mapped_column(String(100), default="")  # past the 48-hour window
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    group: Mapped[Group | None] = relationship()


class WechatAccessToken(Base):
    """The account's access token, one row shared by every kefu process (services/wechat/
    tokens.py refreshes it under the row's lock, once for all)."""

    __tablename__ = "wechat_access_tokens"

    account_id: Mapped[int] = mapped_column(
        BigId,
        ForeignKey("wechat_accounts.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    )
    token: Mapped[str] = mapped_column(Text, default="")  # sealed, like the other secrets
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refreshes: Mapped[int] = mapped_column(Integer, default=0)


class WechatFollower(Base):
    """An openid of one account: subscribed or not, when they last wrote (the 48-hour window is
    counted from the customer's messages), and the customer, once known."""

    __tablename__ = "wechat_followers"
    __table_args__ = (
        UniqueConstraint("account_id", "openid"),
        Index("ix_wechat_followers_openid", "openid"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("wechat_accounts.id", ondelete="CASCADE"))
    openid: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    subscribed: Mapped[bool | None] = mapped_column(Boolean)  # None: never said either way
    subscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WechatMedia(Base):
    """A picture or voice of a customer message, fetched through the media API after the
    callback was answered (never inside WeChat's 5-second window), into an attachment of the
    message. Keyed by the message's external id: written before intake stores the message."""

    __tablename__ = "wechat_media"
    __table_args__ = (Index("ix_wechat_media_due", "fetched_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("wechat_accounts.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(200), unique=True)
    media_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))  # image | voice
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    gave_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
