"""One-row records of team policy that admins edit as a whole (the service timing, the retention
periods): a table with ``id``, ``config`` (JSON), ``updated_by_id`` and ``updated_at``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session


def store(
    session: Session, model: type[Any], record_id: int, config: dict[str, Any], user_id: int | None
) -> Any:
    """Write ``config`` as the record ``record_id`` of ``model`` (made on the first save), by
    ``user_id``; flushed. The caller checks the values, the permission, and audits."""
    row = session.get(model, record_id)
    if row is None:
        row = model(id=record_id, config=config)
        session.add(row)
    else:
        row.config = config
    row.updated_by_id = user_id
    session.flush()
    return row
