"""The knowledge base (知识库): articles with their versions, the index state that every process's
in-memory search index follows, readers' feedback and the search log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db.base import Base, BigId, JSONData, UTCDateTime, utcnow


class KbArticle(Base):
    """One article: its current content is that of version ``current_version``."""

    __tablename__ = "kb_articles"
    __table_args__ = (Index("ix_kb_articles_status_category", "status", "category"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)  # kb-001: the file's id, the URL's
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)  # Markdown
    category: Mapped[str | None] = mapped_column(String(30))  # a triage category, or none
    tags: Mapped[list[str]] = mapped_column(JSONData, default=list)
    synonyms: Mapped[list[str]] = mapped_column(JSONData, default=list)  # other ways to ask
    status: Mapped[str] = mapped_column(String(10), default="draft")  # draft|published|archived
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class KbArticleVersion(Base):
    """An article's whole content as one save left it, with who saved it, when and why."""

    __tablename__ = "kb_article_versions"
    __table_args__ = (UniqueConstraint("article_id", "number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]] = mapped_column(
        JSONData
    )  # title, body, category, tags, synonyms
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class KbIndexState(Base):
    """One row: ``version`` counts the changes of published content, bumped in the transaction
    that makes them; ``stamp`` is renewed with it, so a restored backup (an older counter) is
    still seen as a change. A process's index (services/kb/index.py) is rebuilt when either
    differs from what it was built from."""

    __tablename__ = "kb_index_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    stamp: Mapped[str] = mapped_column(String(32), default="")


class KbFeedback(Base):
    """A reader's answer to 「这篇文章解决了您的问题吗？」, with an optional comment."""

    __tablename__ = "kb_feedback"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("kb_articles.id", ondelete="CASCADE"), index=True
    )
    helpful: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str] = mapped_column(String(1000), default="")
    source: Mapped[str] = mapped_column(String(10))  # portal | bot | agent
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class KbSearchLog(Base):
    """One search: the question with personal data masked, where from, and what it found."""

    __tablename__ = "kb_search_log"
    __table_args__ = (Index("ix_kb_search_log_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    query: Mapped[str] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(10))  # portal | bot | agent
    answered: Mapped[bool] = mapped_column(Boolean)
    top_article_id: Mapped[int | None] = mapped_column(
        ForeignKey("kb_articles.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
