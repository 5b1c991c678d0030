"""Articles of the knowledge base: loaders, edits as versions, publishing, restore.

Supervisors and admins write the knowledge base; agents (and the public portal, through the
index) read published articles only. Every save of an article's content is a new version with
its author, time and note; every change is audited. A change of what is published bumps the
index state in the same transaction (``bump_index``), so every process's index follows it.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import KbArticle, KbArticleVersion, KbIndexState
from kefu.domain.triage_labels import Category
from kefu.errors import Conflict, KefuError, NotFound, PermissionDenied
from kefu.services import audit
from kefu.services.actors import Actor

STATUSES = ("draft", "published", "archived")
CATEGORIES = tuple(c.value for c in Category)
CONTENT = ("title", "body", "category", "tags", "synonyms")
KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")  # as retrieval/folder.py reads file ids
_NUMBERED = re.compile(r"^kb-(\d{1,9})$")


def may_edit(actor: Actor) -> bool:
    return actor.sees_all_tickets  # supervisors, admins and the system


def require_editor(actor: Actor) -> None:
    if not may_edit(actor):
        raise PermissionDenied()


def visible_statuses(actor: Actor) -> tuple[str, ...]:
    return STATUSES if may_edit(actor) else ("published",)


def access_article(session: Session, actor: Actor, key: str) -> KbArticle:
    """The only way to load an article for an actor; missing and not visible both 404."""
    article = session.scalar(select(KbArticle).where(KbArticle.key == key))
    if article is None or article.status not in visible_statuses(actor):
        raise NotFound("kb_article")
    return article


def published_article(session: Session, key: str) -> KbArticle:
    """An article as the public sees it: published, else 404."""
    article = session.scalar(
        select(KbArticle).where(KbArticle.key == key, KbArticle.status == "published")
    )
    if article is None:
        raise NotFound("kb_article")
    return article


# --- the index state -----------------------------------------------------------------------


@dataclass(frozen=True)
class IndexState:
    version: int
    stamp: str


def index_state(session: Session) -> IndexState:
    row = session.execute(select(KbIndexState.version, KbIndexState.stamp)).first()
    return IndexState(row[0], row[1]) if row else IndexState(0, "")


def bump_index(session: Session) -> None:
    """Published content changed: every process rebuilds its index at its next search."""
    stamp = uuid.uuid4().hex
    bumped = session.execute(
        update(KbIndexState).values(version=KbIndexState.version + 1, stamp=stamp)
    )
    if not bumped.rowcount:  # type: ignore[attr-defined]
        session.add(KbIndexState(id=1, version=1, stamp=stamp))
    session.flush()


# --- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArticleFilter:
    status: str | None = None
    category: str | None = None
    query: str = ""  # in the title, tags or key


def list_articles(
    session: Session, actor: Actor, filters: ArticleFilter = ArticleFilter(), *, limit: int = 500
) -> list[KbArticle]:
    query = select(KbArticle).where(KbArticle.status.in_(visible_statuses(actor)))
    if filters.status:
        query = query.where(KbArticle.status == filters.status)
    if filters.category:
        if filters.category == "none":
            query = query.where(KbArticle.category.is_(None))
        else:
            query = query.where(KbArticle.category == filters.category)
    if filters.query:
        like = (
            "%" + filters.query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        query = query.where(
            KbArticle.title.ilike(like, escape="\\") | KbArticle.key.ilike(like, escape="\\")
        )
    return list(session.scalars(query.order_by(KbArticle.key).limit(limit)))


def published_articles(session: Session, *, category: str | None = None) -> list[KbArticle]:
    """What the public portal lists: published articles (of ``category``), by key."""
    query = select(KbArticle).where(KbArticle.status == "published")
    if category:
        query = query.where(KbArticle.category == category)
    return list(session.scalars(query.order_by(KbArticle.key)))


def versions(session: Session, article: KbArticle) -> list[KbArticleVersion]:
    return list(
        session.scalars(
            select(KbArticleVersion)
            .where(KbArticleVersion.article_id == article.id)
            .order_by(KbArticleVersion.number.desc())
        )
    )


def content_of(article: KbArticle) -> dict[str, Any]:
    return {
        "title": article.title, "body": article.body, "category": article.category,
        "tags": list(article.tags), "synonyms": list(article.synonyms),
    }  # fmt: skip


def _snapshot(article: KbArticle) -> dict[str, Any]:
    return {**content_of(article), "status": article.status, "version": article.current_version}


# --- writing -------------------------------------------------------------------------------


def check_content(fields: dict[str, Any]) -> dict[str, Any]:
    """Content as stored: words trimmed and deduplicated, a known category or none."""
    out = dict(fields)
    if "category" in out:
        out["category"] = out["category"] or None
        if out["category"] is not None and out["category"] not in CATEGORIES:
            raise KefuError("validation_error", status_code=422, details={"field": "category"})
    for name in ("tags", "synonyms"):
        if name in out:
            out[name] = list(dict.fromkeys(w.strip() for w in out[name] or [] if w.strip()))
    return out


def next_key(session: Session) -> str:
    """kb-001, kb-002 … after the highest numbered key."""
    keys = session.scalars(select(KbArticle.key).where(KbArticle.key.like("kb-%")))
    numbers = [int(m.group(1)) for k in keys if (m := _NUMBERED.match(k))]
    return f"kb-{max(numbers, default=0) + 1:03d}"


def _add_version(session: Session, article: KbArticle, author_id: int | None, note: str) -> None:
    session.add(
        KbArticleVersion(
            article_id=article.id, number=article.current_version, content=content_of(article),
            author_id=author_id, note=note, created_at=utcnow(),
        )
    )  # fmt: skip


def _audit(session: Session, actor: Actor, action: str, article: KbArticle, **kw: Any) -> None:
    audit.record(session, actor, action, object_type="kb_article", object_id=article.id, **kw)


def create_article(
    session: Session, actor: Actor, *, key: str | None = None, status: str = "draft",
    note: str = "", **content: Any,
) -> KbArticle:  # fmt: skip
    """A new article at version 1 (callers check permissions)."""
    content = check_content(content)
    key = key or next_key(session)
    if not KEY.match(key):
        raise KefuError("validation_error", status_code=422, details={"field": "key"})
    if session.scalar(select(KbArticle.id).where(KbArticle.key == key)) is not None:
        raise Conflict("key_taken", details={"field": "key"})
    now = utcnow()
    article = KbArticle(
        key=key, status=status, current_version=1, created_at=now, updated_at=now,
        published_at=now if status == "published" else None,
        **{"category": None, "tags": [], "synonyms": [], **content},
    )  # fmt: skip
    session.add(article)
    session.flush()
    _add_version(session, article, actor.user_id, note)
    _audit(session, actor, "kb_article.create", article, after=_snapshot(article))
    if status == "published":
        bump_index(session)
    return article


def do_create_article(session: Session, actor: Actor, **fields: Any) -> KbArticle:
    require_editor(actor)
    if fields.get("status", "draft") not in ("draft", "published"):
        raise KefuError("validation_error", status_code=422, details={"field": "status"})
    return create_article(session, actor, **fields)


def save_content(
    session: Session, actor: Actor, article: KbArticle, content: dict[str, Any], *, note: str = ""
) -> bool:
    """New content for an article: a new version when anything changed (callers check
    permissions). True when it changed."""
    before = _snapshot(article)
    for name, value in check_content(content).items():
        if name in CONTENT:
            setattr(article, name, value)
    if content_of(article) == {k: before[k] for k in CONTENT}:
        return False
    article.current_version += 1
    article.updated_at = utcnow()
    _add_version(session, article, actor.user_id, note)
    session.flush()
    old, new = audit.changed_fields(before, _snapshot(article))
    _audit(session, actor, "kb_article.update", article, before=old, after=new)
    if article.status == "published":
        bump_index(session)
    return True


def do_update_article(
    session: Session, actor: Actor, article: KbArticle, content: dict[str, Any], *, note: str = ""
) -> KbArticle:
    require_editor(actor)
    save_content(session, actor, article, content, note=note)
    return article


def do_set_status(session: Session, actor: Actor, article: KbArticle, status: str) -> KbArticle:
    """Publish, unpublish (back to draft) or archive an article."""
    require_editor(actor)
    if status not in STATUSES:
        raise KefuError("validation_error", status_code=422, details={"field": "status"})
    if status == article.status:
        return article
    was_published = article.status == "published"
    before = article.status
    article.status = status
    article.updated_at = utcnow()
    if status == "published":
        article.published_at = article.updated_at
    session.flush()
    action = {"published": "publish", "draft": "unpublish", "archived": "archive"}[status]
    _audit(session, actor, f"kb_article.{action}", article, before={"status": before},
           after={"status": status})  # fmt: skip
    if was_published or status == "published":
        bump_index(session)
    return article


def do_restore_version(
    session: Session, actor: Actor, article: KbArticle, number: int
) -> KbArticle:
    """An old version's content saved again as the newest version (history is never rewritten)."""
    require_editor(actor)
    old = session.scalar(
        select(KbArticleVersion).where(
            KbArticleVersion.article_id == article.id, KbArticleVersion.number == number
        )
    )
    if old is None:
        raise NotFound("kb_version")
    content = {k: old.content.get(k) for k in CONTENT}
    save_content(session, actor, article, content, note=f"restored v{number}")
    return article


def counts_by_status(session: Session) -> dict[str, int]:
    rows = session.execute(select(KbArticle.status, func.count()).group_by(KbArticle.status))
    return {status: count for status, count in rows}
