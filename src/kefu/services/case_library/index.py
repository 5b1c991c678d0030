"""The case library in memory for similar-case search, one index per database.

Rebuilt when the library's version — how many entries, and the latest change — differs from the
one it was built at, so a process sees another's new or rewritten entry at its next search.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.db.models import CaseEntry
from kefu.domain.case_library import Outcome
from kefu.retrieval.engine import Doc, Index

Version = tuple[int, datetime | None]


@dataclass(frozen=True)
class Indexed:
    category: str | None
    outcome: Outcome


@dataclass(frozen=True)
class LibraryIndex:
    version: Version
    index: Index
    entries: dict[int, Indexed]


_lock = threading.Lock()
_indexes: dict[str, LibraryIndex] = {}


def current_version(session: Session) -> Version:
    count, latest = session.execute(
        select(func.count(CaseEntry.id), func.max(CaseEntry.updated_at))
    ).one()
    return int(count), latest


def build(session: Session, version: Version) -> LibraryIndex:
    rows = session.execute(
        select(
            CaseEntry.id, CaseEntry.title, CaseEntry.problem, CaseEntry.root_cause,
            CaseEntry.category, CaseEntry.tags, CaseEntry.first_time, CaseEntry.reopen_count,
            CaseEntry.rating,
        ).order_by(CaseEntry.id)
    ).all()  # fmt: skip
    docs = [
        Doc(str(r.id), r.title, f"{r.problem}\n{r.root_cause}", r.category, tuple(r.tags or ()))
        for r in rows
    ]
    entries = {
        r.id: Indexed(r.category, Outcome(r.first_time, r.reopen_count, r.rating)) for r in rows
    }
    return LibraryIndex(version, Index.build(docs), entries)


def library_index(session: Session) -> LibraryIndex:
    """The index of the session's database, rebuilt if the library changed since."""
    bind = session.get_bind()
    key = str(bind.engine.url) if hasattr(bind, "engine") else str(id(bind))
    version = current_version(session)
    index = _indexes.get(key)
    if index is not None and index.version == version:
        return index
    fresh = build(session, version)
    with _lock:
        _indexes[key] = fresh
    return fresh
