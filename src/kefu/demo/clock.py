"""Backdating: make rows written now look as if they were written at a moment in the past.

The services stamp everything with the real clock (``utcnow``), which is right for them and
wrong for a demo that should show two months of history. Rather than patching the clock or
rewriting rows afterwards, each demo step runs inside ``DemoClock.at(moment)``: just before
each flush, every timestamp written during the step is moved by (moment - real now). That
covers columns nobody here knows about yet — an SLA deadline computed as ``utcnow() + 4h``
becomes ``moment + 4h`` — as well as ``created_at`` defaults and ``updated_at`` on update.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Mapper, Session

from kefu.db.base import UTCDateTime, utcnow


class DemoClock:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._delta: timedelta | None = None

    @contextmanager
    def installed(self) -> Iterator[DemoClock]:
        """Listen to the session's flushes for as long as the demo is being written."""
        event.listen(self.session, "before_flush", self._before_flush)
        try:
            yield self
        finally:
            event.remove(self.session, "before_flush", self._before_flush)

    @contextmanager
    def at(self, moment: datetime) -> Iterator[None]:
        """Run one step as if it happened at ``moment``; its writes are flushed at the end."""
        self._delta = moment - utcnow()
        try:
            yield
            self.session.flush()
        finally:
            self._delta = None

    def _before_flush(self, session: Session, _context: Any, _instances: Any) -> None:
        if self._delta is None:
            return
        for obj in session.new:
            _shift_new(obj, self._delta)
        for obj in session.dirty:
            _shift_changed(obj, self._delta)


_DATETIME_COLUMNS: dict[type, list[tuple[str, Any]]] = {}


def _datetime_columns(obj: Any) -> list[tuple[str, Any]]:
    """The model's UTC timestamp columns as (attribute, column), cached per class."""
    cls = type(obj)
    if cls not in _DATETIME_COLUMNS:
        mapper: Mapper[Any] = inspect(cls)
        _DATETIME_COLUMNS[cls] = [
            (prop.key, prop.columns[0])
            for prop in mapper.column_attrs
            if isinstance(prop.columns[0].type, UTCDateTime)
        ]
    return _DATETIME_COLUMNS[cls]


def _shift_new(obj: Any, delta: timedelta) -> None:
    """A new row: shift what the code set, and fill the ``default=utcnow`` columns itself."""
    for key, column in _datetime_columns(obj):
        value = getattr(obj, key)
        if value is not None:
            setattr(obj, key, value + delta)
        elif column.default is not None:
            setattr(obj, key, utcnow() + delta)


def _shift_changed(obj: Any, delta: timedelta) -> None:
    """A changed row: shift the timestamps set since the last flush, and ``updated_at``."""
    state = inspect(obj)
    if not state.modified:
        return
    for key, column in _datetime_columns(obj):
        added = state.attrs[key].history.added  # does not load anything
        if added and isinstance(added[0], datetime):
            setattr(obj, key, added[0] + delta)
        elif column.onupdate is not None:
            setattr(obj, key, utcnow() + delta)
