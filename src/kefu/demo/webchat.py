"""The demo's web chat channel: the widget on /demo/shop (api/web_pages.py) talks through it.

Its key is fixed, so the shop page and the README can name it; its secret (for signed visitor
identities) is random like any channel's, and sealed like any channel's. ``kefu demo`` makes sure it exists on every start, so
a database that got the demo data before web chat existed gets the channel too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import Group, WebchatChannel
from kefu.demo.team import AFTERSALE
from kefu.services import audit
from kefu.services.actors import SYSTEM
from kefu.services.webchat import channels

DEMO_CHANNEL_KEY = "demo-shop"
DEMO_CHANNEL_NAME = "示例商城在线客服"
DEMO_GREETING = "您好，欢迎光临示例商城！物流、退换货、商品咨询都可以在这里问我们。"
DEMO_OFFLINE_MESSAGE = (
    "客服暂时不在线（服务时间：周一至周五 9:00–18:00）。"
    "请留下手机号或邮箱，我们上班后第一时间联系您。"
)


def demo_channel(session: Session) -> WebchatChannel | None:
    """The demo shop's channel, if it exists and is enabled."""
    return session.scalar(
        select(WebchatChannel).where(
            WebchatChannel.key == DEMO_CHANNEL_KEY, WebchatChannel.enabled.is_(True)
        )
    )


def ensure_demo_channel(
    session: Session, *, secret_key: str, origins: Sequence[str] = ()
) -> tuple[WebchatChannel, bool]:
    """The demo channel, created if missing (routed to 售后组 when the demo team exists), and
    whether it was created. With no allowed origins a channel serves pages of kefu's own host
    only, which is where the shop is, whatever address kefu is reached at; ``origins`` (other
    sites, e.g. in tests) are added to its allowed ones. Its secret is sealed under
    ``secret_key``. The caller commits."""
    channel = session.scalar(select(WebchatChannel).where(WebchatChannel.key == DEMO_CHANNEL_KEY))
    if channel is not None:
        missing = [o for o in origins if o not in channel.allowed_origins]
        if missing:
            before = channels.snapshot(channel)
            channel.allowed_origins = [*channel.allowed_origins, *missing]
            _changed(session, channel, "webchat_channel.update", before=before)
        return channel, False
    group_id = session.scalar(select(Group.id).where(Group.name == AFTERSALE))
    channel = WebchatChannel(
        key=DEMO_CHANNEL_KEY,
        name=DEMO_CHANNEL_NAME,
        secret_sealed=channels.fresh_secret(secret_key)[1],
        allowed_origins=list(origins),
        group_id=group_id,
        greeting=DEMO_GREETING,
        offline_message=DEMO_OFFLINE_MESSAGE,
        offline_form=True,
        language="zh-CN",
        enabled=True,
    )
    session.add(channel)
    session.flush()
    _changed(session, channel, "webchat_channel.create")
    return channel, True


def _changed(
    session: Session, channel: WebchatChannel, action: str, *, before: dict[str, Any] | None = None
) -> None:
    """Audited like an admin's change (by the system), and the channel caches of this process
    are told after the commit (services/webchat/channels.py), as the service does."""
    audit.record(
        session, SYSTEM, action, object_type="webchat_channel", object_id=channel.id,
        before=before, after=channels.snapshot(channel),
    )  # fmt: skip
    session.info[channels.CHANGED] = True
