"""Staff two-factor sign-in (TOTP): enrolment with a QR code, recovery codes, the second step of
a sign-in, turning it off, and an admin's reset. Every change is audited.

The TOTP secret is stored sealed with the secret key (services/infra/secret_box.py) and shown
only while enrolling; recovery codes are stored as SHA-256 and shown once. The rules of codes
are in domain/two_factor.py.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import segno
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import StaffRecoveryCode, StaffTwoFactor, User
from kefu.domain import two_factor as rules
from kefu.errors import Conflict, KefuError, NotAuthenticated, PermissionDenied
from kefu.services import audit
from kefu.services.actors import Actor
from kefu.services.infra import secret_box
from kefu.services.infra.sealed_columns import purpose_of
from kefu.services.staff import auth


@dataclass(frozen=True)
class Enrolment:
    """What the account page shows once: the secret, its URI and the URI's QR code."""

    secret: str
    uri: str
    qr_data_uri: str  # an SVG as a data: URI (an <img>, allowed by the pages' CSP)


def _row(session: Session, user_id: int, *, for_update: bool = False) -> StaffTwoFactor | None:
    query = select(StaffTwoFactor).where(StaffTwoFactor.user_id == user_id)
    if for_update:
        query = query.with_for_update()
    return session.scalar(query)


def is_enabled(session: Session, user_id: int) -> bool:
    enabled = session.scalar(
        select(StaffTwoFactor.enabled_at).where(StaffTwoFactor.user_id == user_id)
    )
    return enabled is not None


def recovery_codes_left(session: Session, user_id: int) -> int:
    return len(
        session.scalars(
            select(StaffRecoveryCode.id).where(
                StaffRecoveryCode.user_id == user_id, StaffRecoveryCode.used_at.is_(None)
            )
        ).all()
    )


_PURPOSE = purpose_of(StaffTwoFactor.secret_sealed)


def _own(actor: Actor, user: User) -> None:
    if actor.user_id != user.id:
        raise PermissionDenied()


def do_begin_enrolment(
    session: Session, actor: Actor, user: User, *, password: str, secret_key: str
) -> Enrolment:
    """A new secret for ``user`` (their own account), waiting for its first code; a secret
    that was never confirmed is replaced. The password is asked again (a fresh proof, ASVS
    V7.5.1): a session left open on someone's desk cannot bind another phone. A wrong one
    changes nothing (403 ``wrong_password``)."""
    _own(actor, user)
    if not auth.verify_password(user.password_hash, password):
        raise KefuError("wrong_password", status_code=403)
    row = _row(session, user.id, for_update=True)
    if row is not None and row.enabled_at is not None:
        raise Conflict("two_factor_enabled")
    secret = rules.new_secret()
    sealed = secret_box.seal(secret_key, secret, purpose=_PURPOSE)
    if row is None:
        row = StaffTwoFactor(user_id=user.id, secret_sealed=sealed)
        session.add(row)
    row.secret_sealed = sealed
    row.created_at = utcnow()
    row.last_step = None
    session.flush()
    audit.record(session, actor, "auth.totp_enrol_start", object_type="user", object_id=user.id)
    return enrolment_of(secret, user.email)


def enrolment_of(secret: str, account: str) -> Enrolment:
    uri = rules.provisioning_uri(secret, account)
    qr = segno.make(uri, error="m").svg_data_uri(scale=5, border=2)
    return Enrolment(secret=secret, uri=uri, qr_data_uri=qr)


def pending_enrolment(session: Session, user: User, *, secret_key: str) -> Enrolment | None:
    """The enrolment of ``user`` still waiting for its first code (shown again after a wrong
    code), None when there is none."""
    row = _row(session, user.id)
    if row is None or row.enabled_at is not None:
        return None
    return enrolment_of(_secret(row, secret_key), user.email)


def _secret(row: StaffTwoFactor, secret_key: str) -> str:
    try:
        return secret_box.unseal(secret_key, row.secret_sealed, purpose=_PURPOSE)
    except secret_box.SecretUnreadable as e:
        raise KefuError("two_factor_unreadable", status_code=409) from e


def do_confirm_enrolment(
    session: Session,
    actor: Actor,
    user: User,
    code: str,
    *,
    secret_key: str,
    now: datetime | None = None,
) -> list[str]:
    """Turn two-factor sign-in on with the first code of the new secret; returns the ten
    recovery codes (stored hashed: this is the only time they are seen)."""
    _own(actor, user)
    now = now or utcnow()
    row = _row(session, user.id, for_update=True)
    if row is None or row.enabled_at is not None:
        raise Conflict("two_factor_not_pending")
    step = rules.matching_step(_secret(row, secret_key), code, now, after=row.last_step)
    if step is None:
        raise KefuError("invalid_code", status_code=422)
    row.enabled_at = now
    row.last_step = step
    codes = _replace_recovery_codes(session, user.id)
    audit.record(session, actor, "auth.totp_enable", object_type="user", object_id=user.id,
                 after={"recovery_codes": len(codes)})  # fmt: skip
    return codes


def _replace_recovery_codes(session: Session, user_id: int) -> list[str]:
    session.execute(delete(StaffRecoveryCode).where(StaffRecoveryCode.user_id == user_id))
    codes = rules.new_recovery_codes()
    session.add_all(StaffRecoveryCode(user_id=user_id, code_hash=_digest(c)) for c in codes)
    session.flush()
    return codes


def _digest(code: str) -> str:
    return hashlib.sha256(rules.normal_code(code).encode()).hexdigest()


def check_code(
    session: Session, user: User, code: str, *, secret_key: str, now: datetime | None = None
) -> str:
    """The second step of a sign-in: a TOTP code not used before, or an unused recovery code
    (then used up). Returns "totp" or "recovery"; 401 ``invalid_code`` otherwise. The row is
    locked, so two requests with the same code cannot both pass."""
    now = now or utcnow()
    row = _row(session, user.id, for_update=True)
    if row is None or row.enabled_at is None:
        raise NotAuthenticated("invalid_code")
    if rules.looks_like_recovery_code(code):
        found = session.scalar(
            select(StaffRecoveryCode).where(
                StaffRecoveryCode.user_id == user.id,
                StaffRecoveryCode.code_hash == _digest(code),
                StaffRecoveryCode.used_at.is_(None),
            )
        )
        if found is None:
            raise NotAuthenticated("invalid_code")
        found.used_at = now
        audit.record(session, auth.actor_for(user, via="session"), "auth.recovery_code_used",
                     object_type="user", object_id=user.id,
                     after={"left": recovery_codes_left(session, user.id)})  # fmt: skip
        return "recovery"
    step = rules.matching_step(_secret(row, secret_key), code, now, after=row.last_step)
    if step is None:
        raise NotAuthenticated("invalid_code")
    row.last_step = step
    return "totp"


def do_disable(
    session: Session,
    actor: Actor,
    user: User,
    *,
    password: str,
    code: str,
    secret_key: str,
    now: datetime | None = None,
) -> None:
    """Turn two-factor sign-in off for one's own account, proving the password and a code."""
    _own(actor, user)
    if not auth.verify_password(user.password_hash, password):
        raise KefuError("wrong_password", status_code=403)
    try:
        check_code(session, user, code, secret_key=secret_key, now=now)
    except NotAuthenticated as e:
        raise KefuError("invalid_code", status_code=422) from e
    _remove(session, user.id)
    audit.record(session, actor, "auth.totp_disable", object_type="user", object_id=user.id)


def do_reset(session: Session, actor: Actor, user: User) -> bool:
    """An admin takes a user's two-factor sign-in away (a lost phone and no recovery codes):
    the user signs in with the password alone until they enrol again. Audited."""
    if not actor.is_admin:
        raise PermissionDenied()
    had = _row(session, user.id, for_update=True) is not None
    _remove(session, user.id)
    audit.record(session, actor, "auth.totp_reset", object_type="user", object_id=user.id,
                 before={"enrolled": had})  # fmt: skip
    return had


def _remove(session: Session, user_id: int) -> None:
    session.execute(delete(StaffRecoveryCode).where(StaffRecoveryCode.user_id == user_id))
    session.execute(delete(StaffTwoFactor).where(StaffTwoFactor.user_id == user_id))
