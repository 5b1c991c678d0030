"""What the knowledge base achieves (知识库成效): how many searches found an answer, how helpful
readers found each article, and which questions found none — grouped into topics, so editors see
the articles that are missing.

Unanswered questions (already masked in the log) are grouped greedily by shared content words
(retrieval.text's jieba words and their shorter words): a question joins the first group whose
first question it shares enough words with, else starts one; each group is labelled by its
commonest words.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import rjieba
from sqlalchemy import Subquery, case, func, or_, select
from sqlalchemy.orm import Session

from kefu.db.models import KbArticle, KbFeedback, KbSearchLog
from kefu.retrieval import text as read
from kefu.services.bot.measures import bot_measures

MAX_UNANSWERED = 5_000  # the newest unanswered searches a period's topics are built from
OVERLAP = 0.3  # of the smaller word set shared with a group's first question, to join it
VAGUE_WORDS = frozenset({"怎么样", "好不好", "行不行", "一般"})
EXAMPLES = 3


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class SearchSuccess:
    searches: int
    answered: int
    by_source: dict[str, tuple[int, int]]  # source → (searches, answered)

    @property
    def rate(self) -> float | None:
        return self.answered / self.searches if self.searches else None


@dataclass(frozen=True)
class Helpfulness:
    key: str
    title: str
    yes: int
    no: int

    @property
    def rate(self) -> float | None:
        return self.yes / (self.yes + self.no) if self.yes + self.no else None


@dataclass
class Topic:
    label: list[str]  # the commonest words
    seed: set[str] = field(default_factory=set)  # the words of its first question
    count: int = 0
    examples: list[str] = field(default_factory=list)
    words: Counter[str] = field(default_factory=Counter)


def settled_searches(period: Period) -> Subquery:
    """The period's searches without those typed on: a search the next search of the same
    source starts with (退款 → 退款多久 → 退款多久到账, searched as the customer typed) is a
    step of that one, not a search of its own."""
    following = func.lead(KbSearchLog.query).over(
        partition_by=KbSearchLog.source, order_by=KbSearchLog.id
    )
    steps = (
        select(
            KbSearchLog.id,
            KbSearchLog.source,
            KbSearchLog.query,
            KbSearchLog.answered,
            following.label("next_query"),
        )  # fmt: skip
        .where(KbSearchLog.created_at >= period.start, KbSearchLog.created_at < period.end)
        .subquery()
    )
    typed_on = func.substr(steps.c.next_query, 1, func.length(steps.c.query)) == steps.c.query
    return (
        select(steps.c.id, steps.c.source, steps.c.query, steps.c.answered)
        .where(or_(steps.c.next_query.is_(None), ~typed_on))
        .subquery()
    )


def search_success(session: Session, period: Period) -> SearchSuccess:
    searches = settled_searches(period)
    answered = func.sum(case((searches.c.answered, 1), else_=0))
    rows = session.execute(
        select(searches.c.source, func.count(), answered).group_by(searches.c.source)
    )
    by_source = {source: (int(n), int(ok or 0)) for source, n, ok in rows}
    return SearchSuccess(
        sum(n for n, _ in by_source.values()), sum(ok for _, ok in by_source.values()), by_source
    )


def helpfulness(session: Session, period: Period) -> list[Helpfulness]:
    """Per article with feedback in the period: yes and no counts, least helpful first."""
    yes = func.sum(case((KbFeedback.helpful, 1), else_=0))
    rows = session.execute(
        select(KbArticle.key, KbArticle.title, yes, func.count() - yes)
        .join(KbArticle, KbArticle.id == KbFeedback.article_id)
        .where(KbFeedback.created_at >= period.start, KbFeedback.created_at < period.end)
        .group_by(KbArticle.key, KbArticle.title)
    )
    found = [Helpfulness(key, title, int(y), int(n)) for key, title, y, n in rows]
    return sorted(found, key=lambda h: (h.rate if h.rate is not None else 1, -(h.yes + h.no)))


def content_words(question: str) -> set[str]:
    """A question's content words and their shorter words (今天天气 → 今天, 天气): questions that
    say the same thing in longer or shorter words still share some."""
    out: set[str] = set()
    for word in read.words(read.normalize(question)):
        parts = [word] if word.isascii() else [word, *rjieba.cut_for_search(word)]
        out.update(p for p in parts if len(p) > 1 and p not in read.STOP_WORDS | VAGUE_WORDS)
    return out


def group_questions(questions: list[str], *, limit: int = 20) -> list[Topic]:
    """Greedy grouping by word overlap; the biggest groups first."""
    topics: list[Topic] = []
    for question in questions:
        words = content_words(question)
        if not words:
            continue
        home = None
        for topic in topics:
            seed = topic.seed
            if len(words & seed) / min(len(words), len(seed)) >= OVERLAP:
                home = topic
                break
        if home is None:
            home = Topic(label=[], seed=words)
            topics.append(home)
        home.count += 1
        home.words.update(words)
        if len(home.examples) < EXAMPLES and question not in home.examples:
            home.examples.append(question)
    for topic in topics:
        topic.label = [w for w, _ in topic.words.most_common(3)]
    return sorted(topics, key=lambda t: -t.count)[:limit]


def unanswered_topics(session: Session, period: Period, *, limit: int = 20) -> list[Topic]:
    searches = settled_searches(period)
    questions = list(
        session.scalars(
            select(searches.c.query)
            .where(searches.c.answered.is_(False))
            .order_by(searches.c.id.desc())
            .limit(MAX_UNANSWERED)
        )
    )
    return group_questions(questions, limit=limit)


@dataclass(frozen=True)
class BotFigures:
    """The bot's figures for a period (services/bot/measures.py)."""

    conversations: int = 0
    solved_by_bot: int = 0
    self_service_rate: float | None = None  # conversations the bot resolved without an agent
    handoff_rate: float | None = None
    handoff_reasons: dict[str, int] = field(default_factory=dict)  # reason → count, most first
    articles: list[tuple[str, int, int, int]] = field(
        default_factory=list
    )  # key, offered, 解决了, 没解决


def bot_figures(session: Session, period: Period) -> BotFigures | None:
    """The bot's self-service resolution rate, hand-off rate and reasons, and the articles it
    offered with the customers' 解决了 / 没解决, over ``period``; None when it took no
    conversation then (the insights page leaves the section out)."""
    figures = bot_measures(session, period.start, period.end)
    if not figures["conversations"]:
        return None
    reasons = sorted(
        ((r, n) for r, n in figures["handoffs_by_reason"].items() if n), key=lambda p: -p[1]
    )
    articles = sorted(
        ((k, a["offered"], a["solved"], a["unsolved"]) for k, a in figures["articles"].items()),
        key=lambda row: (-row[1], row[0]),
    )
    return BotFigures(
        conversations=figures["conversations"],
        solved_by_bot=figures["solved_by_bot"],
        self_service_rate=figures["self_service_rate"],
        handoff_rate=figures["handoff_rate"],
        handoff_reasons=dict(reasons),
        articles=articles[:10],
    )


@dataclass(frozen=True)
class Insights:
    period: Period
    success: SearchSuccess
    articles: list[Helpfulness]
    topics: list[Topic]
    bot: BotFigures | None


def insights(session: Session, period: Period) -> Insights:
    return Insights(
        period, search_success(session, period), helpfulness(session, period),
        unanswered_topics(session, period), bot_figures(session, period),
    )  # fmt: skip
