"""WeChat's server callback: proving a request is WeChat's, opening it, and taking what it says.

Every request is checked before anything is stored: the signature over the token, timestamp
and nonce (and, in safe mode, the encrypted text: ``msg_signature``), and a timestamp within
``MAX_SKEW_SECONDS`` of now. A forged, missing or stale signature is refused (401) and leaves
nothing behind; a message the account's mode does not allow (plaintext on a safe-mode account)
likewise.

What a verified message does (``take_message``):

- a customer message (text, image, voice, location) goes through intake like any other: raw
  first, deduped on its MsgId, the sender's openid as their identity on ``wechat``, the case in
  the account's group; a picture or voice is queued for fetching (services/wechat/media.py);
- when the account's bot takes the case (``bot_holds``, its mode and the group's hours), the
  bot's turn runs at once and, if it is ready within ``PASSIVE_SECONDS``, its answer is the
  passive reply (被动回复) to this very request, recorded as sent; otherwise the answer is an
  empty "success" and the bot's message leaves later through the outbox (客服消息 API);
- subscribe / unsubscribe (关注 / 取消关注) are recorded on the follower, raw kept, no case;
  a subscribe may be answered with the account's greeting;
- anything else is kept raw and ignored.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kefu.channels.wechat import crypto
from kefu.channels.wechat import messages as wx
from kefu.db.models import InboundPayload, Message, OutboxEntry, WechatMedia
from kefu.domain.delivery import DeliveryState
from kefu.domain.roles import Role
from kefu.domain.tickets import Channel
from kefu.errors import KefuError
from kefu.services import audit
from kefu.services.actors import Actor
from kefu.services.bot import service as bot_service
from kefu.services.intake.inbound import Delivery, InboundResult
from kefu.services.outbound import states
from kefu.services.wechat.accounts import AccountKeys
from kefu.services.wechat.followers import note_follower

log = logging.getLogger(__name__)
T = TypeVar("T")

# WeChat delivers its followers' messages (audited as the system, via "wechat").
WECHAT = Actor(user_id=None, role=Role.ADMIN, via="wechat", name="微信公众号")
MAX_SKEW_SECONDS = 300
PASSIVE_SECONDS = 4.0  # WeChat waits 5 s for the answer; the rest is the way back
PASSIVE_REF = "passive-reply"


class Gate(Protocol):
    """The database, admitted (realtime/chat_runtime.py ``WebchatRuntime`` is one)."""

    def write(self, work: Callable[[Session], T]) -> Awaitable[T]: ...


class Intake(Protocol):
    def submit(self, delivery: Delivery) -> Awaitable[InboundResult | KefuError]: ...


@dataclass(frozen=True)
class Query:
    """The callback URL's query parameters."""

    signature: str = ""
    timestamp: str = ""
    nonce: str = ""
    echostr: str = ""
    encrypt_type: str = ""
    msg_signature: str = ""

    @property
    def encrypted(self) -> bool:
        return self.encrypt_type.lower() == "aes"


def refused() -> KefuError:
    return KefuError("wechat_signature_invalid", status_code=401)


def _fresh(query: Query, now: float) -> None:
    try:
        sent = int(query.timestamp)
    except ValueError as e:
        raise refused() from e
    if abs(now - sent) > MAX_SKEW_SECONDS:
        raise refused()


def verify_url(account: AccountKeys, query: Query, now: float) -> str:
    """The echostr WeChat expects back when the URL is saved in its console (URL verification);
    in safe mode with ``msg_signature``, the echostr is encrypted and answered decrypted."""
    if not account.token:
        raise refused()  # no token set: nothing can be signed with it
    _fresh(query, now)
    if query.msg_signature and account.aes_key is not None:
        parts = (account.token, query.timestamp, query.nonce, query.echostr)
        if not crypto.signature_ok(query.msg_signature, *parts):
            raise refused()
        try:
            return crypto.decrypt(account.aes_key, account.app_id, query.echostr)
        except crypto.CryptoError as e:
            raise refused() from e
    if not query.signature or not crypto.signature_ok(
        query.signature, account.token, query.timestamp, query.nonce
    ):
        raise refused()
    return query.echostr


def open_message(account: AccountKeys, query: Query, body: bytes, now: float) -> str:
    """The message's XML, its signature checked and, in safe mode, decrypted."""
    if not account.token:
        raise refused()
    _fresh(query, now)
    if not query.encrypted:
        if account.message_mode == "safe":
            raise refused()  # a safe-mode account never gets plaintext: a downgrade
        if not query.signature or not crypto.signature_ok(
            query.signature, account.token, query.timestamp, query.nonce
        ):
            raise refused()
        return body.decode("utf-8", errors="replace")
    if account.aes_key is None or account.message_mode == "plaintext":
        raise refused()
    try:
        encrypted = wx.parse(body).get("Encrypt")
    except wx.BadMessage as e:
        raise refused() from e
    parts = (account.token, query.timestamp, query.nonce, encrypted)
    if not encrypted or not crypto.signature_ok(query.msg_signature, *parts):
        raise refused()
    try:
        return crypto.decrypt(account.aes_key, account.app_id, encrypted)
    except crypto.CryptoError as e:
        raise refused() from e


def seal_reply(account: AccountKeys, xml: str, *, encrypted: bool, nonce: str, now: float) -> str:
    """A passive reply as WeChat reads it: encrypted in safe mode (the request's nonce)."""
    if not encrypted or account.aes_key is None:
        return xml
    timestamp = str(int(now))
    sealed = crypto.encrypt(account.aes_key, account.app_id, xml)
    signature = crypto.signature(account.token, timestamp, nonce, sealed)
    return wx.encrypted_envelope(
        encrypted=sealed, msg_signature=signature, timestamp=timestamp, nonce=nonce
    )


# --- taking a message ---------------------------------------------------------------------------


async def take_message(
    gate: Gate,
    intake: Intake,
    account: AccountKeys,
    message: wx.WechatMessage,
    raw: str,
    now: datetime,
    *,
    passive_seconds: float = PASSIVE_SECONDS,
) -> str | None:
    """What the message does (module docstring); the text of the passive reply, if there is one."""
    if message.is_follow_event:
        subscribed = message.event == "subscribe"
        await gate.write(lambda s: record_follow(s, account, message, raw, now))
        return (account.greeting or None) if subscribed else None
    if not message.is_customer_message or not message.openid:
        await gate.write(lambda s: keep_raw(s, message.external_id(account.id), raw, now))
        return None
    await gate.write(lambda s: prepare(s, account, message, now))
    holds = bot_service.bot_takes_now(account.bot_mode, account.calendar, now)
    inbound = wx.inbound(message, account_id=account.id, group_id=account.group_id, bot_holds=holds)
    outcome = await intake.submit(Delivery(WECHAT, inbound, raw, now))
    if isinstance(outcome, KefuError):  # kept raw with its error by intake; WeChat needs no retry
        log.warning(
            "a WeChat message of %s was refused: %s", message.openid[:6] + "…", outcome.code
        )
        return None
    if outcome.duplicate or account.bot_mode == "off":
        return None
    return await _bot_answer(gate, outcome, time.monotonic() + passive_seconds)


def prepare(
    session: Session, account: AccountKeys, message: wx.WechatMessage, now: datetime
) -> None:
    """Before intake: the follower seen now, and its picture or voice queued for fetching."""
    note_follower(session, account.id, message.openid, now)
    if message.msg_type in ("image", "voice") and message.media_id:
        external_id = message.external_id(account.id)
        known = session.scalar(select(WechatMedia.id).where(WechatMedia.external_id == external_id))
        if known is None:
            try:
                with session.begin_nested():
                    session.add(
                        WechatMedia(
                            account_id=account.id, external_id=external_id,
                            media_id=message.media_id[:200], kind=message.msg_type, attempts=0,
                            next_attempt_at=now,
                        )
                    )  # fmt: skip
            except IntegrityError:
                pass  # WeChat's retry of the same message, at the same moment


def record_follow(
    session: Session, account: AccountKeys, message: wx.WechatMessage, raw: str, now: datetime
) -> None:
    """A subscribe or unsubscribe: kept raw (once), recorded on the follower and audited on its
    customer, if there is one. No case is opened."""
    if not keep_raw(session, message.external_id(account.id), raw, now):
        return  # a retry of an event already taken
    subscribed = message.event == "subscribe"
    follower = note_follower(session, account.id, message.openid, now, subscribed=subscribed)
    audit.record(
        session, WECHAT, "wechat.subscribe" if subscribed else "wechat.unsubscribe",
        object_type="wechat_follower", object_id=follower.id, customer_id=follower.customer_id,
        after={"account_id": account.id, "subscribed": subscribed},
    )  # fmt: skip


def keep_raw(session: Session, external_id: str, raw: str, now: datetime) -> bool:
    """Store a payload that makes no message; False if it was stored before (a retry)."""
    exists = session.scalar(
        select(InboundPayload.id).where(
            InboundPayload.channel == Channel.WECHAT.value,
            InboundPayload.external_id == external_id,
        )
    )
    if exists is not None:
        return False
    try:
        with session.begin_nested():
            session.add(
                InboundPayload(
                    channel=Channel.WECHAT.value, external_id=external_id[:200], payload=raw,
                    received_at=now, processed_at=now,
                )
            )  # fmt: skip
    except IntegrityError:
        return False
    return True


# --- the passive reply --------------------------------------------------------------------------


class PassiveSlot:
    """Who sends the bot's answer, decided once under a lock: the request (taken, while it still
    waits) or the outbox (the request gave up waiting first)."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self._lock = threading.Lock()
        self._state = "open"

    def take(self) -> bool:
        with self._lock:
            if self._state == "open" and time.monotonic() < self.deadline:
                self._state = "taken"
            return self._state == "taken"

    def give_up(self) -> bool:
        """True if the outbox sends it; False if the turn took it already (wait for it)."""
        with self._lock:
            if self._state == "open":
                self._state = "abandoned"
            return self._state == "abandoned"


_background: set[asyncio.Future[Any]] = set()


async def _bot_answer(gate: Gate, outcome: InboundResult, deadline: float) -> str | None:
    slot = PassiveSlot(deadline)

    def turn(session: Session) -> str | None:
        from kefu.db.base import utcnow

        done = bot_service.do_bot_turn(session, outcome.ticket_id, outcome.message_id, now=utcnow())
        if done is None or done.message_id is None or not slot.take():
            return None
        return claim_passive(session, done.message_id, utcnow())

    task = asyncio.ensure_future(gate.write(turn))
    finished, _ = await asyncio.wait({task}, timeout=max(deadline - time.monotonic(), 0.0))
    if not finished and slot.give_up():
        _background.add(task)  # the bot's answer leaves through the outbox once committed
        task.add_done_callback(_settled)
        return None
    try:
        return await task
    except Exception:
        log.exception("the bot's turn on WeChat case %d failed", outcome.ticket_id)
        return None


def _settled(task: asyncio.Future[Any]) -> None:
    _background.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("a late bot turn on WeChat failed", exc_info=task.exception())


def claim_passive(session: Session, message_id: int, now: datetime) -> str | None:
    """Mark the bot's queued message as sent by the passive reply (the relay leaves it be);
    its text, which the reply carries."""
    message = session.get(Message, message_id)
    if message is None:
        return None
    entry = session.scalar(
        select(OutboxEntry).where(OutboxEntry.message_id == message_id).with_for_update()
    )
    if entry is not None and DeliveryState(entry.state) == DeliveryState.QUEUED:
        states.move(session, entry, DeliveryState.SENT, now)
        entry.external_ref = PASSIVE_REF
    return message.body_text


def raw_of(query: Query, xml: str) -> str:
    """What is stored as the raw payload: the (decrypted) message and how it came."""
    return json.dumps(
        {"xml": xml, "encrypted": query.encrypted, "timestamp": query.timestamp},
        ensure_ascii=False,
    )


@dataclass(frozen=True)
class Answer:
    body: str  # "success", or the passive reply's XML
    media_id: str | None = None  # the message's media: fetch it once this is answered (its id)

    @property
    def xml(self) -> bool:
        return self.body.startswith("<xml>")


async def answer_callback(
    gate: Gate,
    intake: Intake,
    account: AccountKeys,
    query: Query,
    body: bytes,
    *,
    clock: Callable[[], float] = time.time,
    now: datetime,
    passive_seconds: float = PASSIVE_SECONDS,
) -> Answer:
    """The whole POST: checked (401 otherwise, nothing stored), opened, taken, answered."""
    xml = open_message(account, query, body, clock())
    try:
        message = wx.parse(xml.encode("utf-8"))
    except wx.BadMessage as e:
        raise KefuError("validation_error", status_code=400, details={"field": "body"}) from e
    reply = await take_message(
        gate, intake, account, message, raw_of(query, xml), now, passive_seconds=passive_seconds
    )
    media = message.external_id(account.id) if message.msg_type in ("image", "voice") else None
    if reply is None:
        return Answer("success", media)
    passive = wx.text_reply(
        to_openid=message.openid, from_account=message.account_name, text=reply,
        created=int(clock()),
    )  # fmt: skip
    return Answer(
        seal_reply(account, passive, encrypted=query.encrypted, nonce=query.nonce, now=clock()),
        media,
    )
