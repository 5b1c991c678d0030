"""The periodic jobs' own record: when each last finished a round, and whether its stall was told."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db.base import Base, UTCDateTime


class JobRun(Base):
    """One row per job name (jobs/registry.py), written after each successful round by whichever
    process ran it (``kefu serve`` or any ``kefu worker``)."""

    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_success_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set when the admins were told the job stalled; cleared by its next successful round, so
    # one stall makes one alert.
    stall_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
