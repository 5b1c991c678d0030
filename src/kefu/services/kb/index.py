"""The live search index of the published knowledge base, one per process and database.

Every search first reads the index state (one small query); when its version or stamp moved
since the cached index was built, the index is rebuilt from the published articles before
answering, so no process answers from a stale index — another process's publish is seen at the
next search. One thread rebuilds at a time; the others wait for it and use its result.
Searches are logged with the question's personal data masked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import KbArticle, KbSearchLog
from kefu.domain.masking import mask_personal_data
from kefu.retrieval.engine import Doc, Index
from kefu.services.infra.rebuilt_cache import RebuiltCache
from kefu.services.kb.articles import IndexState, index_state

SOURCES = ("portal", "bot", "agent")
MAX_LOGGED_CHARS = 500


def _build(session: Session, _state: IndexState) -> Index:
    rows = session.scalars(
        select(KbArticle).where(KbArticle.status == "published").order_by(KbArticle.key)
    )
    docs = [Doc(a.key, a.title, a.body, a.category, tuple(a.tags), tuple(a.synonyms)) for a in rows]
    return Index.build(docs)


indexes: RebuiltCache[IndexState, Index] = RebuiltCache(_build)


def live_index(session: Session) -> Index:
    """The index of the published articles as the database has them now."""
    return indexes.get(session, index_state(session))


@dataclass(frozen=True)
class Found:
    hits: list[tuple[KbArticle, float]]  # best first
    answered: bool  # False: no article answers well enough ("no good answer")
    log: KbSearchLog  # the search as the log keeps it (added to the session when ``log``)


def search(session: Session, question: str, *, source: str, k: int = 5, log: bool = True) -> Found:
    """The best published articles for ``question``; the search is logged (masked) in the
    session, or, with ``log=False``, left for the caller to write (``write_log``)."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}")
    result = live_index(session).search(question, k=k)
    keys = [hit.id for hit in result.hits]
    rows = {
        a.key: a
        for a in session.scalars(
            select(KbArticle).where(KbArticle.key.in_(keys), KbArticle.status == "published")
        )
    } if keys else {}  # fmt: skip
    hits = [(rows[h.id], h.score) for h in result.hits if h.id in rows]
    answered = result.answered and bool(hits)
    row = KbSearchLog(
        query=mask_personal_data(question.strip())[:MAX_LOGGED_CHARS], source=source,
        answered=answered, top_article_id=hits[0][0].id if answered else None, created_at=utcnow(),
    )  # fmt: skip
    if log:
        session.add(row)
        session.flush()
    return Found(hits, answered, row)


def write_log(sessions: Callable[[], Session], row: KbSearchLog) -> None:
    """Write a search's log row in a transaction of its own, after the request's (a background
    task): a page that only reads never turns its transaction into a writer's for the log —
    SQLite refuses that when another writer committed in between."""
    with sessions() as session, session.begin():
        session.add(row)
