"""Password reset by e-mail: a link with a single-use token, 30 minutes, one live per user.

Asking answers the same for any address (the handler shapes one response), and both paths do
the same hashing work — a token is drawn and digested even for an address kefu does not
know — so the answer's timing does not say whether an account exists. Only the token's
SHA-256 is stored; using it sets the new password under the policy, deletes the token and
ends every session and API token of the user. A user's TOTP still applies at the next
sign-in: a reset proves the mailbox, not the second factor.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import PasswordResetToken, User
from kefu.errors import KefuError
from kefu.services import audit
from kefu.services.outbound.notices import enqueue_mail_notice
from kefu.services.staff import auth

TOKEN_MINUTES = 30


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def do_request_reset(
    session: Session, email: str, *, public_url: str, now: datetime | None = None
) -> bool:
    """Mail a reset link to the active user of ``email``, replacing any earlier link. Returns
    whether a mail was queued — for tests and the audit, never for the caller's answer."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)  # 32 random bytes
    token_hash = _digest(token)  # the same work whether or not the address is known
    # Locked: two requests at once for one user replace its token one after the other.
    user = session.scalar(select(User).where(User.email == email.strip().lower()).with_for_update())
    if user is None or not user.is_active or not user.password_hash:
        return False
    session.execute(delete(PasswordResetToken).where(PasswordResetToken.user_id == user.id))
    session.add(
        PasswordResetToken(
            user_id=user.id,
            token_hash=token_hash,
            created_at=now,
            expires_at=now + timedelta(minutes=TOKEN_MINUTES),
        )
    )
    session.flush()
    link = f"{public_url.rstrip('/')}/password-reset/{token}"
    enqueue_mail_notice(session, to=[user.email], subject=_SUBJECT, text=_text(user.name, link))
    audit.record(session, auth.actor_for(user, via="reset"), "auth.password_reset_requested",
                 object_type="user", object_id=user.id)  # fmt: skip
    return True


_SUBJECT = "kefu 密码重置 / Password reset"


def _text(name: str, link: str) -> str:
    return (
        f"{name}，你好：\n\n有人（希望是你）申请重置 kefu 的登录密码。请在 {TOKEN_MINUTES} 分钟内打开"
        f"下面的链接设置新密码，链接只能使用一次：\n\n{link}\n\n如果不是你本人申请，请忽略这封邮件，"
        "你的密码不会改变。\n\n"
        f"Someone (we hope you) asked to reset your kefu password. Open the link above within "
        f"{TOKEN_MINUTES} minutes to set a new one; it works once. If it was not you, ignore "
        "this mail: your password stays as it is.\n"
    )


def live_token(
    session: Session, token: str, *, now: datetime | None = None, for_update: bool = False
) -> PasswordResetToken:
    """The unused, unexpired reset token; 400 ``reset_link_invalid`` otherwise."""
    now = now or utcnow()
    query = select(PasswordResetToken).where(PasswordResetToken.token_hash == _digest(token))
    row = session.scalar(query.with_for_update() if for_update else query)
    if row is None or row.expires_at <= now:
        raise KefuError("reset_link_invalid", status_code=400)
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise KefuError("reset_link_invalid", status_code=400)
    return row


def do_reset_password(
    session: Session, token: str, new_password: str, *, now: datetime | None = None
) -> User:
    """Set the user's new password with a live reset token (then gone); every session and API
    token of the user ends. Audited."""
    row = live_token(session, token, now=now, for_update=True)  # two tabs: one reset
    user = session.get(User, row.user_id)
    assert user is not None  # live_token checked it
    auth.check_policy(new_password, user.email, name=user.name, field="new_password")
    session.delete(row)
    auth.set_own_password(user, new_password)
    user.updated_at = utcnow()
    ended = auth.end_credentials(session, user.id)
    audit.record(session, auth.actor_for(user, via="reset"), "auth.password_reset",
                 object_type="user", object_id=user.id, after=ended)  # fmt: skip
    return user
