"""Admins' scorecards: each save is a new version (``qa_scorecards``); the reviews made after it
use it, the ones before keep theirs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import QaScorecard
from kefu.domain.qa.scorecard import Scorecard, ScorecardRefused
from kefu.errors import KefuError, PermissionDenied
from kefu.services import audit
from kefu.services.actors import Actor
from kefu.services.qa.reviews import current_scorecard

__all__ = ["current_scorecard", "require_admin", "save"]


def require_admin(actor: Actor) -> None:
    if not actor.is_admin or actor.is_integration:
        raise PermissionDenied()


def save(session: Session, actor: Actor, config: Any) -> Scorecard:
    """A new version of the scorecard (admins; audited); refused with the criterion named."""
    require_admin(actor)
    version = (session.scalar(select(func.max(QaScorecard.version))) or 0) + 1
    try:
        scorecard = Scorecard.from_json(config, version)
    except ScorecardRefused as e:
        raise KefuError("validation_error", status_code=422, details={e.field: str(e)}) from e
    before = current_scorecard(session)
    session.add(QaScorecard(version=version, config=scorecard.to_json(),
                            saved_by_id=actor.user_id, saved_at=utcnow()))  # fmt: skip
    session.flush()
    audit.record(session, actor, "qa.scorecard", object_type="qa_scorecard", object_id=version,
                 before=before.to_json(), after=scorecard.to_json())  # fmt: skip
    return scorecard
