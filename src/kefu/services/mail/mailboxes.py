"""Mailboxes, managed by admins: where kefu reads mail (IMAP) and sends it from (SMTP).

Passwords are sealed with the secret key when saved (services/infra/secret_box.py) and never
shown back: ``MailboxView`` says only whether one is set. An empty password in an update keeps
the stored one. One mailbox at most is the default, the one kefu's own notices go out from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kefu.channels.email.imap import SECURITIES, ImapSettings
from kefu.db.models import Group, Mailbox
from kefu.errors import KefuError, NotFound
from kefu.services import audit
from kefu.services.actors import Actor
from kefu.services.infra.sealed_columns import purpose_of
from kefu.services.infra.secret_box import SecretUnreadable, seal, unseal
from kefu.services.staff.directory import require_admin

EDITABLE = (
    "name", "address", "imap_host", "imap_port", "imap_security", "imap_username", "imap_folder",
    "smtp_host", "smtp_port", "smtp_security", "smtp_username", "group_id", "enabled",
    "send_acknowledgement", "is_default",
)  # fmt: skip
PASSWORDS = ("imap_password", "smtp_password")


def list_mailboxes(session: Session, actor: Actor) -> list[Mailbox]:
    require_admin(actor)
    return list(session.scalars(select(Mailbox).order_by(Mailbox.id)))


def get_mailbox(session: Session, actor: Actor, mailbox_id: int) -> Mailbox:
    require_admin(actor)
    mailbox = session.get(Mailbox, mailbox_id)
    if mailbox is None:
        raise NotFound("mailbox")
    return mailbox


def snapshot(mailbox: Mailbox) -> dict[str, Any]:
    """What the audit trail keeps of a mailbox: its settings, never its passwords."""
    values = {name: getattr(mailbox, name) for name in EDITABLE}
    values["imap_password"] = "set" if mailbox.imap_password_sealed else ""
    values["smtp_password"] = "set" if mailbox.smtp_password_sealed else ""
    return values


def do_create_mailbox(session: Session, actor: Actor, *, secret_key: str, **fields: Any) -> Mailbox:
    require_admin(actor)
    mailbox = Mailbox(name="", address="")
    _apply(session, mailbox, fields, secret_key)
    session.add(mailbox)
    session.flush()
    _one_default(session, mailbox)
    audit.record(
        session, actor, "mailbox.create", object_type="mailbox", object_id=mailbox.id,
        after=snapshot(mailbox),
    )  # fmt: skip
    return mailbox


def do_update_mailbox(
    session: Session, actor: Actor, mailbox: Mailbox, *, secret_key: str, **changes: Any
) -> Mailbox:
    require_admin(actor)
    before = snapshot(mailbox)
    moved = any(
        name in changes and changes[name] != getattr(mailbox, name)
        for name in ("imap_host", "imap_port", "imap_username", "imap_folder")
    )
    _apply(session, mailbox, changes, secret_key)
    if moved:  # another folder: its UIDs are another sequence; start from its beginning
        mailbox.uidvalidity, mailbox.last_uid = None, 0
    session.flush()
    _one_default(session, mailbox)
    old, new = audit.changed_fields(before, snapshot(mailbox))
    if new:
        audit.record(
            session, actor, "mailbox.update", object_type="mailbox", object_id=mailbox.id,
            before=old, after=new,
        )  # fmt: skip
    return mailbox


def do_delete_mailbox(session: Session, actor: Actor, mailbox: Mailbox) -> None:
    require_admin(actor)
    audit.record(
        session, actor, "mailbox.delete", object_type="mailbox", object_id=mailbox.id,
        before=snapshot(mailbox),
    )  # fmt: skip
    session.delete(mailbox)
    session.flush()


def _apply(session: Session, mailbox: Mailbox, fields: dict[str, Any], secret_key: str) -> None:
    for name in ("imap_security", "smtp_security"):
        if name in fields and fields[name] not in SECURITIES:
            raise KefuError(
                "invalid_mailbox", status_code=422, reason=name, details={"field": name}
            )
    group_id = fields.get("group_id")
    if group_id is not None and session.get(Group, group_id) is None:
        raise NotFound("group", details={"field": "group_id"})
    for name in EDITABLE:
        if name in fields:
            setattr(mailbox, name, fields[name])
    for name in PASSWORDS:
        password = fields.get(name)
        if password:  # empty: keep the stored one
            column = getattr(Mailbox, f"{name}_sealed")
            setattr(mailbox, column.key, seal(secret_key, password, purpose=purpose_of(column)))
    if not mailbox.name or "@" not in (mailbox.address or ""):
        raise KefuError(
            "invalid_mailbox", status_code=422, reason="address", details={"field": "address"}
        )


def _one_default(session: Session, mailbox: Mailbox) -> None:
    if mailbox.is_default:
        session.execute(
            update(Mailbox)
            .where(Mailbox.id != mailbox.id, Mailbox.is_default.is_(True))
            .values(is_default=False)
        )


def default_mailbox(session: Session) -> Mailbox | None:
    """The mailbox kefu's notices go out from: the default, else the first enabled one."""
    return session.scalar(
        select(Mailbox)
        .where(Mailbox.enabled.is_(True))
        .order_by(Mailbox.is_default.desc(), Mailbox.id)
        .limit(1)
    )


@dataclass(frozen=True)
class SmtpLogin:
    """A mailbox's SMTP settings with its password opened (never stored or shown)."""

    host: str
    port: int
    security: str
    username: str
    password: str
    address: str
    name: str


_IMAP = purpose_of(Mailbox.imap_password_sealed)
_SMTP = purpose_of(Mailbox.smtp_password_sealed)


def _opened(secret_key: str, sealed: str, purpose: str) -> str:
    if not sealed:
        return ""
    try:
        return unseal(secret_key, sealed, purpose=purpose)
    except SecretUnreadable as e:
        raise KefuError("mailbox_password_unreadable", status_code=409) from e


def imap_settings_of(mailbox: Mailbox, secret_key: str, timeout: float = 30.0) -> ImapSettings:
    return ImapSettings(
        host=mailbox.imap_host,
        port=mailbox.imap_port,
        security=mailbox.imap_security,
        username=mailbox.imap_username or mailbox.address,
        password=_opened(secret_key, mailbox.imap_password_sealed, _IMAP),
        folder=mailbox.imap_folder or "INBOX",
        timeout=timeout,
    )


def smtp_login_of(mailbox: Mailbox, secret_key: str) -> SmtpLogin:
    return SmtpLogin(
        host=mailbox.smtp_host,
        port=mailbox.smtp_port,
        security=mailbox.smtp_security,
        username=mailbox.smtp_username,
        password=_opened(secret_key, mailbox.smtp_password_sealed, _SMTP),
        address=mailbox.address,
        name=mailbox.name,
    )
