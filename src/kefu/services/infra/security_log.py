"""The security log: refused sign-ins, refused requests (401, 403, 429) and refused security
controls (signatures, CSRF), as records of the ``kefu.security`` logger. Each record says who
(actor id or the masked account), from where (client address), what (method, route) and why
(the error code); never a body, a password, a token or a query string. docs/logging.md."""

from __future__ import annotations

import logging

from kefu.domain.masking import mask_personal_data

log = logging.getLogger("kefu.security")

# Refusals of a security control rather than of a person's rights (V16.3.3).
CONTROL_CODES = frozenset(
    {"csrf_failed", "origin_refused", "webhook_signature_invalid", "wechat_signature_invalid"}
)


def masked_email(email: str) -> str:
    """An account's e-mail as the log shows it (``a***@example.com``); anything else typed
    into the field, masked as personal data."""
    return mask_personal_data(email.strip().lower()[:200])


def sign_in_refused(*, email: str | None, user_id: int | None, client: str, reason: str) -> None:
    """A sign-in that failed: ``reason`` is unknown_account, wrong_password, inactive_account,
    temporary_password_expired, wrong_code, sign_in_expired, or rate_limited. The same call, at the same cost, for an
    unknown account as for a known one."""
    account = masked_email(email) if email is not None else f"user {user_id}"
    log.warning(
        "sign-in refused: %s from %s (%s)",
        account,
        client,
        reason,
        extra={"event": "sign_in_refused", "account": account, "actor": user_id,
               "client": client, "reason": reason},
    )  # fmt: skip


def request_refused(
    *, status: int, code: str, method: str, route: str, actor: int | None, client: str
) -> None:
    """A request answered 401, 403 or 429, or refused by a security control."""
    event = "control_refused" if code in CONTROL_CODES else "access_refused"
    log.warning(
        "%s %s refused %d %s for %s from %s",
        method,
        route,
        status,
        code,
        f"user {actor}" if actor is not None else "anonymous",
        client,
        extra={"event": event, "status": status, "reason": code, "method": method,
               "route": route, "actor": actor, "client": client},
    )  # fmt: skip
