"""The team's service timing as admins edit it (``domain.service_timing``): the stored record,
or the server's settings until an admin saves one."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from kefu.db.models import ServiceTimingRecord
from kefu.domain.service_timing import ServiceTiming, TimingRefused
from kefu.services.actors import Actor
from kefu.services.infra import config_records
from kefu.settings import Settings, get_settings

RECORD_ID = 1


def defaults(settings: Settings | None = None) -> ServiceTiming:
    """The timing before an admin changed it: the lifecycle hours of the server's settings."""
    settings = settings or get_settings()
    return ServiceTiming(
        close_resolved_hours=settings.auto_close_resolved_hours,
        nudge_hours=settings.auto_nudge_hours,
        close_unanswered_hours=settings.auto_close_unanswered_hours,
    )


def current(session: Session, settings: Settings | None = None) -> ServiceTiming:
    """The timing in force (a stored record no longer valid falls back to the defaults)."""
    base = defaults(settings)
    # Read without flushing the caller's pending writes: the status writer calls this midway,
    # and a flush there takes the ticket's row lock before its message is inserted (two bursts
    # of writers on one ticket then deadlock on PostgreSQL, tests/realtime/test_visitor_reconnect).
    with session.no_autoflush:
        row = session.get(ServiceTimingRecord, RECORD_ID)
    if row is None:
        return base
    try:
        return ServiceTiming.from_json(row.config, base)
    except TimingRefused:
        return base


def save(session: Session, actor: Actor, values: dict[str, Any]) -> ServiceTiming:
    """Replace the timing with ``values`` over the one in force (admins only; audited). A value
    out of range is a 422 naming its field."""
    before = current(session)
    return config_records.save(session, actor, (ServiceTimingRecord, RECORD_ID), before=before,
                               parse=lambda: ServiceTiming.from_json(values, before),
                               action="automation.timing", object_type="service_timing")  # fmt: skip
