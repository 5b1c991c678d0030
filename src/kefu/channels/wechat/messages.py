"""WeChat's XML messages: a callback's body into ``WechatMessage`` and that into kefu's
``InboundMessage``; a passive reply (被动回复) out, plain or in its encrypted envelope.

What becomes a customer message: text; an image (its picture fetched later through the media
API); a voice (the text WeChat recognised, else "[语音]" and its media id); a location (its label
and coordinates). Subscribe and unsubscribe events are the follower's, not messages
(services/wechat/callback.py); anything else is kept raw and ignored.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # noqa: S405 - entity declarations are refused before parsing
from dataclasses import dataclass

from kefu.services.intake.inbound import InboundMessage, Sender

MESSAGE_TYPES = frozenset({"text", "image", "voice", "location"})
FOLLOW_EVENTS = frozenset({"subscribe", "unsubscribe"})
MAX_XML_BYTES = 64 * 1024
_DECLARATIONS = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


class BadMessage(ValueError):
    """A body that is no WeChat message (not XML, a DTD, fields missing)."""


@dataclass(frozen=True)
class WechatMessage:
    fields: dict[str, str]  # every top-level element, as sent

    def get(self, name: str) -> str:
        return self.fields.get(name, "")

    @property
    def openid(self) -> str:
        return self.get("FromUserName")

    @property
    def account_name(self) -> str:
        return self.get("ToUserName")  # the account's original id (gh_…)

    @property
    def msg_type(self) -> str:
        return self.get("MsgType").lower()

    @property
    def event(self) -> str:
        return self.get("Event").lower()

    @property
    def create_time(self) -> int:
        try:
            return int(self.get("CreateTime"))
        except ValueError:
            return 0

    @property
    def media_id(self) -> str:
        return self.get("MediaId")

    @property
    def is_customer_message(self) -> bool:
        return self.msg_type in MESSAGE_TYPES

    @property
    def is_follow_event(self) -> bool:
        return self.msg_type == "event" and self.event in FOLLOW_EVENTS

    def external_id(self, account_id: int) -> str:
        """The id intake dedupes on: the MsgId, or for an event (which has none) the sender,
        the time and the event, as WeChat's own documentation says to dedupe them."""
        msg_id = self.get("MsgId")
        if msg_id:
            return f"{account_id}:{msg_id}"
        return f"{account_id}:{self.openid}:{self.create_time}:{self.event or self.msg_type}"


def parse(body: bytes) -> WechatMessage:
    """The fields of a callback body (``<xml>…</xml>``); ``BadMessage`` for anything else."""
    if len(body) > MAX_XML_BYTES or _DECLARATIONS.search(body):
        raise BadMessage("too large, or declares entities")
    try:
        root = ET.fromstring(body)  # noqa: S314 - no DTD can be in it (checked above)
    except ET.ParseError as e:
        raise BadMessage("not XML") from e
    if root.tag != "xml":
        raise BadMessage("not a WeChat message")
    return WechatMessage({child.tag: (child.text or "").strip() for child in root})


def text_of(message: WechatMessage) -> str:
    """What the agent reads of a customer message."""
    kind = message.msg_type
    if kind == "text":
        return message.get("Content")
    if kind == "image":
        return "[图片]"
    if kind == "voice":
        recognised = message.get("Recognition")
        return recognised or f"[语音] {message.media_id}"
    if kind == "location":
        label = message.get("Label")
        place = f"{message.get('Location_X')}, {message.get('Location_Y')}"
        return f"[位置] {label}（{place}）" if label else f"[位置] {place}"
    return ""


def inbound(
    message: WechatMessage, *, account_id: int, group_id: int | None, bot_holds: bool
) -> InboundMessage:
    """The customer message in kefu's model (channel ``wechat``, the sender's openid)."""
    return InboundMessage(
        channel="wechat",
        external_id=message.external_id(account_id),
        sender=Sender(message.openid),
        text=text_of(message) or "[消息]",
        group_id=group_id,
        bot_holds=bot_holds,
    )


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply(*, to_openid: str, from_account: str, text: str, created: int) -> str:
    """A passive text reply to a callback."""
    return (
        f"<xml><ToUserName>{_cdata(to_openid)}</ToUserName>"
        f"<FromUserName>{_cdata(from_account)}</FromUserName>"
        f"<CreateTime>{created}</CreateTime><MsgType>{_cdata('text')}</MsgType>"
        f"<Content>{_cdata(text)}</Content></xml>"
    )


def encrypted_envelope(*, encrypted: str, msg_signature: str, timestamp: str, nonce: str) -> str:
    """A safe-mode reply: the encrypted reply and its signature."""
    return (
        f"<xml><Encrypt>{_cdata(encrypted)}</Encrypt>"
        f"<MsgSignature>{_cdata(msg_signature)}</MsgSignature>"
        f"<TimeStamp>{timestamp}</TimeStamp><Nonce>{_cdata(nonce)}</Nonce></xml>"
    )
