"""Local day, hour and weekday of a stored UTC instant, computed in SQL (for GROUP BY).

PostgreSQL converts with the zone's rules (``timezone(zone, column)``). SQLite has no zones: the
zone's offset at a given instant is added, which is exact for zones without daylight saving
such as kefu's default Asia/Shanghai (UTC+8 all year).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, cast, extract, func
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement


class LocalClock:
    """SQL expressions of a column's local day (``YYYY-MM-DD``), hour 0–23 and ISO weekday 1–7."""

    def __init__(self, session: Session, tz: ZoneInfo, at: datetime) -> None:
        self.postgresql = session.get_bind().dialect.name == "postgresql"
        self.zone = tz.key
        offset = at.astimezone(tz).utcoffset()
        self.modifier = f"{int(offset.total_seconds()) if offset else 0:+d} seconds"

    def _local(self, column: Any) -> ColumnElement[Any]:
        return func.timezone(self.zone, column)

    def day(self, column: Any) -> ColumnElement[Any]:
        if self.postgresql:
            return func.to_char(self._local(column), "YYYY-MM-DD")
        return func.strftime("%Y-%m-%d", column, self.modifier)

    def hour(self, column: Any) -> ColumnElement[int]:
        if self.postgresql:
            return cast(extract("hour", self._local(column)), Integer)
        return cast(func.strftime("%H", column, self.modifier), Integer)

    def weekday(self, column: Any) -> ColumnElement[int]:
        """Monday 1 … Sunday 7."""
        if self.postgresql:
            return cast(extract("isodow", self._local(column)), Integer)
        sunday_first = cast(func.strftime("%w", column, self.modifier), Integer)
        return (sunday_first + 6) % 7 + 1
