"""One-row records of team policy that admins edit as a whole (the service timing, the retention
periods): a table with ``id``, ``config`` (JSON), ``updated_by_id`` and ``updated_at``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session

from kefu.domain.field_refusal import FieldRefused
from kefu.errors import KefuError, PermissionDenied
from kefu.services import audit
from kefu.services.actors import Actor


class Policy(Protocol):
    def to_json(self) -> dict[str, Any]: ...


P = TypeVar("P", bound=Policy)


def save(
    session: Session,
    actor: Actor,
    record: tuple[type[Any], int],
    *,
    before: P,
    parse: Callable[[], P],
    action: str,
    object_type: str,
) -> P:
    """The policy ``parse`` makes of the admin's values, stored as ``record`` (model, id) and
    audited as ``action`` with ``before`` and after. Admins only (a person, not a token); a
    value the policy refuses is a 422 naming its field, and nothing is stored."""
    if not actor.is_admin or actor.is_integration:
        raise PermissionDenied()
    try:
        policy = parse()
    except FieldRefused as e:
        raise KefuError("validation_error", status_code=422, details={e.field: str(e)}) from e
    model, record_id = record
    store(session, model, record_id, policy.to_json(), actor.user_id)
    audit.record(session, actor, action, object_type=object_type, object_id=record_id,
                 before=before.to_json(), after=policy.to_json())  # fmt: skip
    return policy


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
