"""KPI targets: kefu's defaults (reference 001 and domain/kpi/targets.py) with an admin's
thresholds in their place. Anyone who may read the figures may read the targets; only admins
set them."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import KpiTarget
from kefu.domain.kpi.metrics import Metric, Unit, all_figures
from kefu.domain.kpi.targets import DEFAULT_TARGETS, Target, with_overrides
from kefu.errors import KefuError, PermissionDenied
from kefu.services import audit
from kefu.services.actors import Actor, require_supervisor

# What a threshold may be, by the figure's unit: the values the figure itself can take.
_RANGES: dict[Unit, tuple[float, float]] = {
    Unit.PERCENT: (0, 100),
    Unit.NPS: (-100, 100),
    Unit.SCORE: (1, 7),  # CES, the one averaged score
    Unit.SECONDS: (0, math.inf),
    Unit.PER_CASE: (0, math.inf),
}
_UNITS = {metric: figure.unit for metric, figure in all_figures([]).items()}


def _in_range(metric: str, threshold: float) -> bool:
    low, high = _RANGES[_UNITS[Metric(metric)]]
    return math.isfinite(threshold) and low <= threshold <= high


def check_reader(actor: Actor) -> None:
    """Supervisors and admins read the figures and targets; nobody else (403)."""
    require_supervisor(actor)


def current_targets(session: Session) -> dict[Metric, Target]:
    """The targets in force: the defaults, overridden by the stored thresholds."""
    rows = session.execute(select(KpiTarget.metric, KpiTarget.threshold))
    known = set(Metric)
    return with_overrides({Metric(m): t for m, t in rows if m in known})


def target_rows(session: Session, actor: Actor) -> list[dict[str, object]]:
    """Every metric with its threshold, direction, default, and who set it and when."""
    check_reader(actor)
    stored = {row.metric: row for row in session.scalars(select(KpiTarget))}
    targets = current_targets(session)
    out: list[dict[str, object]] = []
    for metric in Metric:
        row = stored.get(metric.value)
        out.append(
            {
                "metric": metric.value,
                "threshold": targets[metric].threshold,
                "direction": targets[metric].direction.value,
                "default": DEFAULT_TARGETS[metric].threshold,
                "set_by_id": row.set_by_id if row else None,
                "set_at": row.set_at if row else None,
            }
        )
    return out


def do_set_targets(
    session: Session,
    actor: Actor,
    thresholds: Mapping[str, float | None],
    *,
    now: datetime | None = None,
) -> list[dict[str, object]]:
    """Set (a number) or reset to the default (None) each named metric's threshold; admins only."""
    if not actor.is_admin or actor.is_integration:
        raise PermissionDenied()
    unknown = sorted(set(thresholds) - {m.value for m in Metric})
    if unknown:
        raise KefuError("validation_error", status_code=422, details={"unknown_metrics": unknown})
    bad = sorted(k for k, v in thresholds.items() if v is not None and not _in_range(k, v))
    if bad:
        raise KefuError("validation_error", status_code=422, details={"out_of_range": bad})
    now = now or utcnow()
    before = {m: t.threshold for m, t in current_targets(session).items()}
    for metric, threshold in thresholds.items():
        session.execute(delete(KpiTarget).where(KpiTarget.metric == metric))
        if threshold is not None:
            session.add(
                KpiTarget(metric=metric, threshold=threshold, set_by_id=actor.user_id, set_at=now)
            )
    session.flush()
    after = {m: t.threshold for m, t in current_targets(session).items()}
    old: dict[str, Any] = {m.value: v for m, v in before.items() if after[m] != v}
    new: dict[str, Any] = {m.value: after[m] for m in after if m.value in old}
    if new:
        audit.record(
            session, actor, "kpi_targets.update", object_type="kpi_targets", object_id=0,
            before=old, after=new,
        )  # fmt: skip
    return target_rows(session, actor)
