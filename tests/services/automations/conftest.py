"""Helpers of the automation tests: the sweep run inline at a chosen time."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from kefu.db.engine import make_session_factory, writer_bind
from kefu.domain.automations import LifecyclePolicy
from kefu.services.automations import lifecycle

POLICY = LifecyclePolicy(
    close_resolved_after=timedelta(hours=72),
    nudge_after=timedelta(hours=48),
    close_unanswered_after=timedelta(hours=72),
)


def sweep(engine: Engine, at: datetime, db: Session) -> lifecycle.SweepReport:
    """Sweep at ``at``; ``db`` (the test's session) ends its read first, so it sees the result."""
    db.rollback()
    return lifecycle.sweep_until_done(make_session_factory(writer_bind(engine)), lambda: at, POLICY)
