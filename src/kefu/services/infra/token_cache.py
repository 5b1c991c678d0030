"""A short-lived in-process cache of API token → actor, so integrations skip a lookup per call.

Both kinds of token are cached: staff tokens and integration tokens (services/intake/integrations.py).

Intake calls authenticate on every request; looking the token, its user and the user's
groups up each time costs more than storing the message. The cache keeps the resolved
``Actor`` for a few seconds, keyed by the token's digest (never the secret).

Freshness: any committed change to staff, groups, tokens or integrations made through this process
empties the cache at once (an ORM event, so no service can forget it). Changes made by
another process (another kefu server, the CLI) are seen within ``ttl`` seconds: that is
the longest a revoked token can keep working elsewhere. ``ttl=0`` turns caching off.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from kefu.services.actors import Actor

MAX_ENTRIES = 10_000
_caches: weakref.WeakSet[TokenCache] = weakref.WeakSet()  # every cache of this process


class TokenCache:
    def __init__(self, ttl: float = 5.0, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._entries: dict[str, tuple[float, int, Actor]] = {}
        self._generation = 0
        self._lock = threading.Lock()
        _caches.add(self)

    def get(self, digest: str) -> Actor | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        expires, generation, actor = entry
        if generation != self._generation or self.clock() >= expires:
            self._entries.pop(digest, None)
            return None
        return actor

    def generation(self) -> int:
        """Read before a lookup and pass to ``put``: a change committed meanwhile wins."""
        return self._generation

    def put(self, digest: str, actor: Actor, generation: int) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if generation != self._generation:
                return  # staff changed while this lookup ran: it may be stale already
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[digest] = (self.clock() + self.ttl, generation, actor)

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()


# Tables whose changes can change what a token may do.
_WATCHED_TABLES = frozenset({"users", "groups", "group_members", "api_tokens", "integrations"})


def _touches_staff(session: Session) -> bool:
    # A flag left by a flush that was rolled back later only costs one extra emptying.
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(type(obj), "__tablename__", None)
        if table in _WATCHED_TABLES:
            return True
    return False


@event.listens_for(Session, "after_flush")
def _note_staff_change(session: Session, _context: Any) -> None:
    if _caches and _touches_staff(session):
        session.info["kefu_staff_changed"] = True


def note_staff_change(session: Session) -> None:
    """Empty the caches when ``session`` commits: for changes the ORM does not track
    (bulk updates such as revoking every token of a user)."""
    session.info["kefu_staff_changed"] = True


def clear_all() -> None:
    """Empty every cache of this process (after staff rows changed behind the ORM's back)."""
    for cache in list(_caches):
        cache.clear()


@event.listens_for(Session, "after_commit")
def _empty_on_staff_change(session: Session) -> None:
    if session.info.pop("kefu_staff_changed", False):
        clear_all()
