"""Custom ticket fields (自定义工单字段): what admins define; the values live on the ticket."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db.base import Base, BigId, JSONData, UTCDateTime, utcnow


class TicketField(Base):
    """A field agents fill in on a case (订单号, 快递单号 …): its stable ``key`` (the JSON key of
    ``Ticket.fields``), its ``label`` (what agents read, and the name a script's placeholder
    uses: 订单号 → [订单号]), its type and options, the groups it is for (none: every group),
    whether a case may be resolved without it, its place in the form, and whether it is in use."""

    __tablename__ = "ticket_fields"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    label: Mapped[str] = mapped_column(String(50), unique=True)
    type: Mapped[str] = mapped_column(String(10))  # text | number | date | choice
    options: Mapped[list[str]] = mapped_column(JSONData, default=list)
    group_ids: Mapped[list[int]] = mapped_column(JSONData, default=list)
    required: Mapped[bool] = mapped_column(Boolean, default=False)  # to resolve
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
