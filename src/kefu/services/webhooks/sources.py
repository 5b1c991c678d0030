"""The sources that post events to kefu by webhook (admins only): a phone system, an SMS gateway,
an app store's review feed, a social platform. Each has the key in its URL
(``/api/v1/channels/webhook/{key}``), the event types it may post, its signing secret (shown once,
when made or rotated; stored sealed with the secret key), the clock skew it is allowed and the
group its cases go to.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kefu.db.models import Group, WebhookSource
from kefu.domain.webhooks import INBOUND_KINDS, TOLERANCE_SECONDS
from kefu.errors import Conflict, KefuError, NotFound
from kefu.services.actors import Actor
from kefu.services.infra.sealed_columns import purpose_of
from kefu.services.webhooks.admin import audit_change, fresh_secret, require_admin

KEY = re.compile(r"^[a-z0-9][a-z0-9-]{2,39}$")
_PURPOSE = purpose_of(WebhookSource.secret_sealed)


def _kinds(kinds: Iterable[str]) -> list[str]:
    chosen = sorted(set(kinds))
    if not chosen or any(k not in INBOUND_KINDS for k in chosen):
        raise KefuError("validation_error", status_code=422, details={"field": "kinds"})
    return chosen


def _tolerance(seconds: Any) -> int:
    if not isinstance(seconds, int) or not 1 <= seconds <= TOLERANCE_SECONDS:
        raise KefuError("validation_error", status_code=422, details={"field": "tolerance_seconds"})
    return seconds


def _group(session: Session, group_id: int | None) -> int | None:
    if group_id is not None and session.get(Group, group_id) is None:
        raise NotFound("group", details={"field": "group_id"})
    return group_id


def snapshot(source: WebhookSource) -> dict[str, Any]:
    return {
        "key": source.key, "name": source.name, "kinds": list(source.kinds),
        "tolerance_seconds": source.tolerance_seconds, "group_id": source.group_id,
        "enabled": source.enabled,
    }  # fmt: skip


def list_sources(session: Session, actor: Actor) -> list[WebhookSource]:
    require_admin(actor)
    return list(session.scalars(select(WebhookSource).order_by(WebhookSource.id)))


def get_source(session: Session, actor: Actor, source_id: int) -> WebhookSource:
    require_admin(actor)
    found = session.get(WebhookSource, source_id)
    if found is None:
        raise NotFound("webhook_source")
    return found


def source_by_key(session: Session, key: str) -> WebhookSource | None:
    """The enabled source with this key (None: unknown or switched off)."""
    found = session.scalar(select(WebhookSource).where(WebhookSource.key == key))
    return found if found is not None and found.enabled else None


def do_create_source(
    session: Session,
    actor: Actor,
    *,
    name: str,
    kinds: Iterable[str],
    key: str | None = None,
    tolerance_seconds: int = TOLERANCE_SECONDS,
    group_id: int | None = None,
    secret_key: str,
) -> tuple[str, WebhookSource]:
    """A new source and its signing secret (returned once). Without a ``key`` one is made."""
    require_admin(actor)
    key = key or "src-" + secrets.token_hex(6)
    if not KEY.fullmatch(key):
        raise KefuError("validation_error", status_code=422, details={"field": "key"})
    secret, sealed = fresh_secret(secret_key, purpose=_PURPOSE)
    source = WebhookSource(
        key=key, name=name, kinds=_kinds(kinds), secret_sealed=sealed,
        tolerance_seconds=_tolerance(tolerance_seconds), group_id=_group(session, group_id),
        enabled=True, created_by_id=actor.user_id,
    )  # fmt: skip
    session.add(source)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as e:
        raise Conflict("webhook_key_taken", details={"field": "key"}) from e
    audit_change(session, actor, "webhook_source", source.id, before=None, after=snapshot(source))
    return secret, source


def do_update_source(
    session: Session,
    actor: Actor,
    source: WebhookSource,
    changes: dict[str, Any],
    *,
    secret_key: str,
) -> tuple[WebhookSource, str | None]:
    """Change its name, event types, tolerance, group or whether it is on; ``rotate_secret``
    makes a new secret (returned once; the old one is refused from then on)."""
    require_admin(actor)
    before = snapshot(source)
    if "name" in changes:
        source.name = changes["name"]
    if "kinds" in changes:
        source.kinds = _kinds(changes["kinds"])
    if "tolerance_seconds" in changes:
        source.tolerance_seconds = _tolerance(changes["tolerance_seconds"])
    if "group_id" in changes:
        source.group_id = _group(session, changes["group_id"])
    if "enabled" in changes:
        source.enabled = bool(changes["enabled"])
    made = None
    if changes.get("rotate_secret"):
        made, source.secret_sealed = fresh_secret(secret_key, purpose=_PURPOSE)
    session.flush()
    audit_change(
        session,
        actor,
        "webhook_source",
        source.id,
        before=before,
        after=snapshot(source),
        rotated=made is not None,
    )
    return source, made
