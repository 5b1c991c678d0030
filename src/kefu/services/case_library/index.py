"""The case library in memory for similar-case search, one index per database.

Rebuilt when the library's version — how many entries, and the latest change — differs from the
one it was built at, so a process sees another's new or rewritten entry at its next search.

Two readings of the same entries: the knowledge base's search engine (``kefu.retrieval``) finds
candidates and ranks the library page's search; ``similar`` scores each candidate against a whole
case as the cosine of their IDF-weighted word and character-pair sets — a length-independent
[0, 1] that a long customer story does not water down the way a per-term score does.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.db.models import CaseEntry
from kefu.domain.case_library import Outcome
from kefu.retrieval import text as read
from kefu.retrieval.engine import Doc, Index
from kefu.services.infra.rebuilt_cache import RebuiltCache

Version = tuple[int, datetime | None]
CANDIDATES = 50


def terms_of(text: str) -> frozenset[str]:
    normalised = read.normalize(text)
    return frozenset(read.words(normalised)) | frozenset(read.bigrams(normalised))


@dataclass(frozen=True)
class Indexed:
    category: str | None
    outcome: Outcome
    terms: frozenset[str]  # of the problem: what a new case is compared with


@dataclass(frozen=True)
class LibraryIndex:
    version: Version
    index: Index
    entries: dict[int, Indexed]
    document_frequency: dict[str, int]

    def idf(self, term: str) -> float:
        """Rare terms weigh more; a term no entry has weighs as one in half an entry."""
        return math.log(1 + len(self.entries) / self.document_frequency.get(term, 0.5))

    def similar(self, text: str, *, k: int = CANDIDATES) -> list[tuple[int, float]]:
        """Candidates from the search engine, each scored against ``text`` (best first)."""
        asked = terms_of(text)
        weight = sum(self.idf(t) for t in asked)
        if not weight:
            return []
        scored = []
        for hit in self.index.search(text, k=k).hits:
            entry = self.entries[int(hit.id)]
            shared = sum(self.idf(t) for t in asked & entry.terms)
            own = sum(self.idf(t) for t in entry.terms)
            if shared and own:
                scored.append((int(hit.id), round(shared / math.sqrt(weight * own), 4)))
        return sorted(scored, key=lambda pair: (-pair[1], pair[0]))


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
        r.id: Indexed(
            r.category, Outcome(r.first_time, r.reopen_count, r.rating), terms_of(r.problem)
        )
        for r in rows
    }
    frequency = Counter(t for e in entries.values() for t in e.terms)
    return LibraryIndex(version, Index.build(docs), entries, dict(frequency))


indexes: RebuiltCache[Version, LibraryIndex] = RebuiltCache(build)


def library_index(session: Session) -> LibraryIndex:
    """The index of the session's database, rebuilt if the library changed since."""
    return indexes.get(session, current_version(session))
