"""The outbox as an admin sees it: the rows, newest first, by state or ticket; one row."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import OutboxEntry
from kefu.domain.delivery import DeliveryState
from kefu.errors import NotFound, PermissionDenied
from kefu.services.actors import Actor
from kefu.services.infra.pagination import decode_cursor, encode_cursor


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDenied()


def list_entries(
    session: Session,
    actor: Actor,
    *,
    state: DeliveryState | None = None,
    ticket_id: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[OutboxEntry], str | None]:
    _require_admin(actor)
    query = select(OutboxEntry)
    if state is not None:
        query = query.where(OutboxEntry.state == state.value)
    if ticket_id is not None:
        query = query.where(OutboxEntry.ticket_id == ticket_id)
    before = decode_cursor(cursor)
    if before is not None:
        query = query.where(OutboxEntry.id < before)
    rows = list(session.scalars(query.order_by(OutboxEntry.id.desc()).limit(limit + 1)))
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], next_cursor


def access_entry(
    session: Session, actor: Actor, outbox_id: int, *, for_update: bool = False
) -> OutboxEntry:
    """One row, for an admin (404 if missing)."""
    _require_admin(actor)
    query = select(OutboxEntry).where(OutboxEntry.id == outbox_id)
    if for_update:
        query = query.with_for_update()
    entry = session.scalar(query)
    if entry is None:
        raise NotFound("outbox_entry")
    return entry
