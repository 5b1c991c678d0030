"""The retention periods admins set (``domain.retention.RetentionPolicy`` as JSON)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db.base import Base, JSONData, UTCDateTime, utcnow


class RetentionRecord(Base):
    """One row, id 1, absent until an admin saves the periods (the defaults apply meanwhile)."""

    __tablename__ = "retention_policy"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSONData)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
