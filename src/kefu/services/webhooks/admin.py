"""What the sources' and the subscriptions' admin services share: a signing secret made (shown
once, stored sealed with the secret key) and a change written to the audit trail."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from kefu.domain.webhooks import new_secret
from kefu.services import audit
from kefu.services.actors import Actor
from kefu.services.infra.secret_box import seal
from kefu.services.staff.directory import require_admin

__all__ = ["audit_change", "fresh_secret", "require_admin"]


def fresh_secret(secret_key: str, *, purpose: str) -> tuple[str, str]:
    """A new ``whsec_…`` secret and its sealed form (the only one stored)."""
    secret = new_secret()
    return secret, seal(secret_key, secret, purpose=purpose)


def audit_change(
    session: Session,
    actor: Actor,
    object_type: str,
    object_id: int,
    *,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    rotated: bool = False,
) -> None:
    """``{object_type}.create`` (no ``before``), ``.update`` or ``.delete`` (no ``after``); a
    rotated secret is said, never shown."""
    action = "create" if before is None else "delete" if after is None else "update"
    if rotated and after is not None:
        after = {**after, "secret_rotated": True}  # nosec: empty or a flag
    audit.record(
        session, actor, f"{object_type}.{action}", object_type=object_type, object_id=object_id,
        before=before, after=after,
    )  # fmt: skip
