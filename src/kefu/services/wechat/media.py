"""Pictures and voices of WeChat messages, fetched through the media API into attachments.

Never inside the callback's 5-second window: the callback queues a ``wechat_media`` row (before
intake stores the message) and this fetches it afterwards — right after the callback is
answered, and in the periodic sweep for whatever that missed. Each row is leased before the
download (``next_attempt_at`` moved on, committed), so several workers never fetch one twice at
once; a failure is tried again with a growing delay, up to ``MAX_ATTEMPTS`` (WeChat keeps
temporary media for three days).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.channels.wechat.adapter import WechatAccounts
from kefu.channels.wechat.client import Media, WechatApiError
from kefu.db.models import Message, WechatMedia
from kefu.domain.tickets import Channel
from kefu.errors import KefuError
from kefu.services.cases.tickets import store_attachments
from kefu.services.intake.attachments import AttachmentIn

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 8
BATCH = 20
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "audio/amr": ".amr"}


@dataclass(frozen=True)
class Storage:
    root: Path
    max_bytes: int


def fetch_due(
    sessions: Callable[[], Session],
    accounts: WechatAccounts,
    storage: Storage,
    now: Callable[[], datetime],
    *,
    external_id: str | None = None,
) -> dict[str, int]:
    """Fetch the media that are due (or only that of ``external_id``); counts for the log."""
    counts = {"fetched": 0, "failed": 0, "gave_up": 0}
    for row_id in _lease(sessions, now(), external_id):
        outcome = _fetch_one(sessions, accounts, storage, row_id, now)
        counts[outcome] += 1
    return counts


def _lease(sessions: Callable[[], Session], now: datetime, external_id: str | None) -> list[int]:
    with sessions() as session:
        query = select(WechatMedia).where(
            WechatMedia.fetched_at.is_(None),
            WechatMedia.gave_up_at.is_(None),
            WechatMedia.next_attempt_at <= now,
        )
        if external_id is not None:
            query = query.where(WechatMedia.external_id == external_id)
        rows = list(
            session.scalars(
                query.order_by(WechatMedia.id).limit(BATCH).with_for_update(skip_locked=True)
            )
        )
        for row in rows:
            row.next_attempt_at = now + LEASE
            row.attempts += 1
        session.commit()
        return [row.id for row in rows]


def _fetch_one(
    sessions: Callable[[], Session],
    accounts: WechatAccounts,
    storage: Storage,
    row_id: int,
    now: Callable[[], datetime],
) -> str:
    with sessions() as session:
        row = session.get(WechatMedia, row_id)
        if row is None:
            return "gave_up"
        account_id, media_id, kind, attempts = row.account_id, row.media_id, row.kind, row.attempts
    account = accounts.keys(account_id)
    media: Media | None = None
    error, final = "", False
    if account is None or not account.app_secret:
        error = "the account is gone or has no AppSecret"
    else:
        try:
            media = accounts.api(account).get_media(media_id, max_bytes=storage.max_bytes)
        except WechatApiError as e:
            error, final = e.reason, not e.temporary and e.errcode is None  # too large, refused
    with sessions() as session:
        row = session.get(WechatMedia, row_id, with_for_update=True)
        if row is None or row.fetched_at is not None:
            return "gave_up"
        message = session.scalar(
            select(Message).where(
                Message.channel == Channel.WECHAT.value, Message.external_id == row.external_id
            )
        )
        if media is not None and message is not None:
            try:
                store_attachments(
                    session, message, [_attachment(media, kind)],
                    root=storage.root, max_bytes=storage.max_bytes,
                )  # fmt: skip
            except KefuError as e:  # too large: kept as a reason, not tried again
                row.error, row.gave_up_at = e.code, now()
                session.commit()
                return "gave_up"
            row.fetched_at, row.error = now(), None
            session.commit()
            return "fetched"
        row.error = error or "the message is not stored (yet)"
        if attempts >= MAX_ATTEMPTS or final:
            row.gave_up_at = now()
            session.commit()
            log.warning("gave up fetching WeChat media %s: %s", row.id, row.error)
            return "gave_up"
        row.next_attempt_at = now() + timedelta(seconds=min(30 * 2**attempts, 3600))
        session.commit()
        return "failed"


def _attachment(media: Media, kind: str) -> AttachmentIn:
    name = media.filename
    if "." not in name:
        name += EXTENSIONS.get(media.content_type, ".jpg" if kind == "image" else ".amr")
    return AttachmentIn(name, media.content_type, base64.b64encode(media.content).decode("ascii"))
