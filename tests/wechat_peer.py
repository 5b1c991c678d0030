"""WeChat's side of the callback, built with wechatpy (an implementation kefu did not write):
signed query strings, plaintext and safe-mode bodies, and reading kefu's passive replies. Plus
the account a test sets up (through the admin service, secrets sealed as in production)."""

from __future__ import annotations

import base64
import hashlib
import os
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto

from kefu.db.models import WechatAccount
from kefu.services.actors import SYSTEM
from kefu.services.wechat import accounts

APP_ID = "wx0123456789abcdef"
APP_SECRET = "s3cret-app-secret"  # noqa: S105 - the fake server's
TOKEN = "kefu-callback-token"  # noqa: S105
AES_KEY = base64.b64encode(b"k" * 32).decode().rstrip("=")
ACCOUNT_NAME = "gh_kefu_test"


def make_account(
    db: Session, secret_key: str, *, api_base_url: str = "http://127.0.0.1:9", **fields: Any
) -> WechatAccount:
    db.commit()
    if db.get_bind().dialect.name == "sqlite":
        db.connection(execution_options={"sqlite_immediate": True})
    values = dict(
        name="官方服务号", app_id=APP_ID, app_secret=APP_SECRET, token=TOKEN, encoding_aes_key=AES_KEY,
        message_mode="compatible", api_base_url=api_base_url,
    )  # fmt: skip
    account = accounts.do_create_account(db, SYSTEM, secret_key=secret_key, **{**values, **fields})
    db.commit()
    return account


def _sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()  # noqa: S324 - WeChat's


@dataclass
class Peer:
    """WeChat's server calling kefu for one account."""

    token: str = TOKEN
    aes_key: str = AES_KEY
    app_id: str = APP_ID

    @property
    def crypto(self) -> WeChatCrypto:
        return WeChatCrypto(self.token, self.aes_key, self.app_id)

    def query(self, *, timestamp: int | None = None, nonce: str | None = None) -> dict[str, str]:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        nonce = nonce or os.urandom(6).hex()
        return {"timestamp": ts, "nonce": nonce, "signature": _sign(self.token, ts, nonce)}

    def plain(self, xml: str, **kwargs: Any) -> tuple[dict[str, str], bytes]:
        return self.query(**kwargs), xml.encode()

    def safe(self, xml: str, **kwargs: Any) -> tuple[dict[str, str], bytes]:
        query = self.query(**kwargs)
        envelope = self.crypto.encrypt_message(xml, query["nonce"], query["timestamp"])
        signature = parse_message_field(envelope, "MsgSignature")
        body = f"<xml><ToUserName><![CDATA[{ACCOUNT_NAME}]]></ToUserName><Encrypt><![CDATA[{parse_message_field(envelope, 'Encrypt')}]]></Encrypt></xml>"
        return {**query, "encrypt_type": "aes", "msg_signature": signature}, body.encode()

    def read_reply(self, body: str, query: dict[str, str]) -> Any:
        """kefu's passive reply as WeChat reads it (decrypted and checked in safe mode)."""
        if query.get("encrypt_type") == "aes":
            signature = parse_message_field(body, "MsgSignature")
            timestamp = parse_message_field(body, "TimeStamp")
            body = self.crypto.decrypt_message(body, signature, timestamp, query["nonce"])
        return parse_message(body)


def parse_message_field(xml: str, name: str) -> str:
    import xmltodict

    return str(xmltodict.parse(xml)["xml"][name])


_ids = iter(range(10**15, 10**16))


def message_xml(
    kind: str = "text",
    *,
    openid: str = "o-follower-1",
    created: int | None = None,
    msg_id: int | None = None,
    **fields: str,
) -> str:
    """A follower's message as WeChat posts it."""
    created = created if created is not None else int(time.time())
    body = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items())
    msg_id_xml = "" if kind == "event" else f"<MsgId>{msg_id or next(_ids)}</MsgId>"
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT_NAME}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{created}</CreateTime>"
        f"<MsgType><![CDATA[{kind}]]></MsgType>{body}{msg_id_xml}</xml>"
    )


def writing(db: Session) -> Session:
    """``db`` ready to write beside the live server: a fresh transaction holding SQLite's write
    lock from its start (one that read first fails to write after the server wrote)."""
    db.rollback()
    if db.get_bind().dialect.name == "sqlite":
        db.connection(execution_options={"sqlite_immediate": True})
    return db


def age_messages(db: Session, ticket_id: int, hours: float) -> None:
    """The case's messages written ``hours`` earlier than they were (the 48-hour window)."""
    from datetime import timedelta

    from sqlalchemy import select

    from kefu.db.models import Message

    writing(db)
    for message in db.scalars(select(Message).where(Message.ticket_id == ticket_id)):
        message.created_at -= timedelta(hours=hours)
    db.commit()
