"""WeChat Official Accounts (公众号), managed by admins; the keys a callback or a send needs.

The AppSecret, the callback token and the EncodingAESKey are sealed with the secret key on the
way in (services/infra/secret_box.py) and never shown back: pages and answers say whether each
is set. An empty value in an update keeps the stored one.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from kefu.channels.wechat.crypto import aes_key
from kefu.db.models import Group, WechatAccessToken, WechatAccount
from kefu.errors import KefuError, NotFound
from kefu.services import audit
from kefu.services.actors import Actor
from kefu.services.infra.outbound_urls import guard_of
from kefu.services.infra.sealed_columns import purpose_of
from kefu.services.infra.secret_box import SecretUnreadable, seal, unseal
from kefu.services.staff.directory import require_admin

KEY_PREFIX = "wx_"
MODES = ("plaintext", "safe", "compatible")
SECRETS = ("app_secret", "token", "encoding_aes_key")
DEFAULT_API = "https://api.weixin.qq.com"


@dataclass(frozen=True)
class AccountKeys:
    """An account as a callback or a send uses it, its secrets opened (never logged)."""

    id: int
    key: str
    app_id: str
    app_secret: str
    token: str
    aes_key: bytes | None  # None: no EncodingAESKey (plaintext mode only)
    message_mode: str
    api_base_url: str
    group_id: int | None
    bot_mode: str
    greeting: str
    template_id: str
    enabled: bool
    calendar: dict[str, Any] | None  # the group's working hours (the bot's outside_hours mode)


def keys_of(account: WechatAccount, secret_key: str) -> AccountKeys:
    """The account with its secrets opened; a secret sealed with another key reads as unset."""
    encoding = _open(secret_key, account, WechatAccount.encoding_aes_key_sealed)
    return AccountKeys(
        id=account.id, key=account.key, app_id=account.app_id,
        app_secret=_open(secret_key, account, WechatAccount.app_secret_sealed),
        token=_open(secret_key, account, WechatAccount.token_sealed),
        aes_key=aes_key(encoding) if encoding else None,
        message_mode=account.message_mode, api_base_url=account.api_base_url.rstrip("/"),
        group_id=account.group_id, bot_mode=account.bot_mode, greeting=account.greeting,
        template_id=account.template_id, enabled=account.enabled,
        calendar=(account.group.calendar or None) if account.group is not None else None,
    )  # fmt: skip


def _open(secret_key: str, account: WechatAccount, column: InstrumentedAttribute[str]) -> str:
    sealed = getattr(account, column.key)
    if not sealed:
        return ""
    try:
        return unseal(secret_key, sealed, purpose=purpose_of(column))
    except SecretUnreadable:
        return ""


def account_by_key(session: Session, key: str, secret_key: str) -> AccountKeys | None:
    """The enabled account of a callback URL's key, or None."""
    account = session.scalar(select(WechatAccount).where(WechatAccount.key == key))
    if account is None or not account.enabled:
        return None
    return keys_of(account, secret_key)


def secrets_set(account: WechatAccount) -> dict[str, bool]:
    """Which secrets the account has, for pages ("已设置")."""
    return {
        "app_secret": bool(account.app_secret_sealed),
        "token": bool(account.token_sealed),
        "encoding_aes_key": bool(account.encoding_aes_key_sealed),
    }


def snapshot(account: WechatAccount) -> dict[str, Any]:
    """What the audit trail keeps of an account (never a secret, only whether it is set)."""
    return {
        "key": account.key, "name": account.name, "app_id": account.app_id,
        "message_mode": account.message_mode, "api_base_url": account.api_base_url,
        "group_id": account.group_id, "bot_mode": account.bot_mode, "greeting": account.greeting,
        "template_id": account.template_id, "enabled": account.enabled,
        **{f"{name}_set": value for name, value in secrets_set(account).items()},
    }  # fmt: skip


def list_accounts(session: Session, actor: Actor) -> list[WechatAccount]:
    require_admin(actor)
    return list(session.scalars(select(WechatAccount).order_by(WechatAccount.id)))


def get_account(session: Session, actor: Actor, account_id: int) -> WechatAccount:
    require_admin(actor)
    account = session.get(WechatAccount, account_id)
    if account is None:
        raise NotFound("wechat_account")
    return account


def _invalid(field: str, code: str = "validation_error") -> KefuError:
    return KefuError(code, status_code=422, details={"field": field})


def _apply(
    session: Session, account: WechatAccount, changes: dict[str, Any], secret_key: str
) -> None:
    if changes.get("group_id") is not None and session.get(Group, changes["group_id"]) is None:
        raise NotFound("group", details={"field": "group_id"})
    if "message_mode" in changes and changes["message_mode"] not in MODES:
        raise _invalid("message_mode")
    if "api_base_url" in changes:
        url = (changes["api_base_url"] or DEFAULT_API).strip().rstrip("/")
        if not url.startswith(("https://", "http://")):
            raise _invalid("api_base_url")
        # The AppSecret and tokens go there: never to an internal address (checked again per call)
        changes["api_base_url"] = guard_of().check_saved(url, field="api_base_url")
    for name in SECRETS:
        value = (changes.pop(name, None) or "").strip()
        if not value:
            continue  # empty: the stored one stays
        if name == "encoding_aes_key":
            try:
                aes_key(value)
            except ValueError as e:
                raise _invalid(name, "invalid_encoding_aes_key") from e
        column = getattr(WechatAccount, f"{name}_sealed")
        setattr(account, column.key, seal(secret_key, value, purpose=purpose_of(column)))
    for name, value in changes.items():
        setattr(account, name, value)
    if account.message_mode != "plaintext" and not account.encoding_aes_key_sealed:
        raise _invalid("encoding_aes_key", "encoding_aes_key_required")


def do_create_account(
    session: Session, actor: Actor, *, secret_key: str, **fields: Any
) -> WechatAccount:
    """A new account with a fresh public key for its callback URL."""
    require_admin(actor)
    account = WechatAccount(  # nosec: empty or a flag
        key=KEY_PREFIX + secrets.token_urlsafe(12), app_secret_sealed="", token_sealed="",
        encoding_aes_key_sealed="", api_base_url=DEFAULT_API,
    )  # fmt: skip
    _apply(session, account, {"message_mode": "safe", **fields}, secret_key)
    session.add(account)
    session.flush()
    session.add(WechatAccessToken(account_id=account.id, token="", refreshes=0))  # nosec: empty or a flag
    audit.record(
        session, actor, "wechat_account.create", object_type="wechat_account",
        object_id=account.id, after=snapshot(account),
    )  # fmt: skip
    return account


def do_update_account(
    session: Session, actor: Actor, account: WechatAccount, changes: dict[str, Any], *,
    secret_key: str,
) -> WechatAccount:  # fmt: skip
    require_admin(actor)
    before = snapshot(account)
    new_secret = bool((changes.get("app_secret") or "").strip())
    _apply(session, account, dict(changes), secret_key)
    if new_secret or before["app_id"] != account.app_id:  # the old token is another app's
        token = session.get(WechatAccessToken, account.id)
        if token is not None:
            token.token, token.expires_at = "", None
    session.flush()
    old, new = audit.changed_fields(before, snapshot(account))
    if new or new_secret:
        audit.record(
            session, actor, "wechat_account.update", object_type="wechat_account",
            object_id=account.id, before=old, after={**new, **({"app_secret_set": True} if new_secret else {})},  # nosec: empty or a flag
        )  # fmt: skip
    return account


def do_delete_account(session: Session, actor: Actor, account: WechatAccount) -> None:
    require_admin(actor)
    audit.record(
        session, actor, "wechat_account.delete", object_type="wechat_account",
        object_id=account.id, before=snapshot(account),
    )  # fmt: skip
    session.delete(account)
    session.flush()
