"""A value built from the database (a search index of the help articles, of the case library, of
the scripts) and kept in this process until the database says it changed.

The caller reads a cheap stamp of what the value is built from (how many rows, the newest change)
and asks for the value with it: the kept one when the stamp is the same, else one built anew. One
value per database URL, so the tests' databases and a process serving one database alike get
their own; one build at a time, so threads that find the value stale together build it once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

Stamp = TypeVar("Stamp", bound=Hashable)
Value = TypeVar("Value")


def database_key(session: Session) -> str:
    """Which database the session reads (its engine's URL)."""
    bind = session.get_bind()
    return str(bind.engine.url) if hasattr(bind, "engine") else str(id(bind))


class RebuiltCache(Generic[Stamp, Value]):
    """``get(session, stamp)``: the value ``build(session, stamp)`` made for this stamp."""

    def __init__(self, build: Callable[[Session, Stamp], Value]) -> None:
        self._build = build
        self._lock = threading.Lock()
        self._kept: dict[str, tuple[Stamp, Value]] = {}
        self.builds = 0  # how many times this process built a value (tests, diagnostics)

    def get(self, session: Session, stamp: Stamp) -> Value:
        key = database_key(session)
        kept = self._kept.get(key)
        if kept is not None and kept[0] == stamp:
            return kept[1]
        with self._lock:
            kept = self._kept.get(key)  # another thread may have built it while this one waited
            if kept is None or kept[0] != stamp:
                kept = (stamp, self._build(session, stamp))
                self._kept[key] = kept
                self.builds += 1
        return kept[1]
