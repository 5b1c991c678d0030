"""The KPI targets an admin set (over ``domain.kpi.targets.DEFAULT_TARGETS``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db.base import Base, UTCDateTime, utcnow


class KpiTarget(Base):
    """One metric's threshold as an admin set it; the direction stays the default's."""

    __tablename__ = "kpi_targets"

    metric: Mapped[str] = mapped_column(String(40), primary_key=True)
    threshold: Mapped[float] = mapped_column(Float)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
