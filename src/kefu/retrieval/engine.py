"""The search index of a knowledge base: ranked articles and a "no good answer" decision.

``Index.build(docs)`` reads every article once; ``Index.search(question)`` returns the best
articles with a score in [0, 1] each (how likely it is that the article answers the question)
and ``answered``: whether the best one is good enough to offer at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import bm25s
import numpy as np

from kefu.retrieval import text as read
from kefu.retrieval.folder import ArticleFile

DEFAULT_K = 5
ANSWER_THRESHOLD = 0.5  # of the best hit's score: below it, no good answer


@dataclass(frozen=True)
class Doc:
    """One published article as the index reads it."""

    id: str
    title: str
    body: str
    category: str | None = None
    tags: tuple[str, ...] = ()
    synonyms: tuple[str, ...] = ()


def doc_of(article: ArticleFile) -> Doc:
    return Doc(
        article.id, article.title, article.body, article.category, article.tags, article.synonyms
    )


@dataclass(frozen=True)
class Hit:
    id: str
    score: float  # in [0, 1]


@dataclass(frozen=True)
class Result:
    hits: tuple[Hit, ...]  # best first
    answered: bool  # False: no article answers the question well enough to offer it

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits and self.answered else None


def _doc_terms(doc: Doc) -> list[str]:
    head = read.normalize(" ".join((doc.title, *doc.tags, *doc.synonyms)))
    body = read.normalize(doc.body)
    terms = read.words(head) * 2 + read.bigrams(head) * 2
    return terms + read.words(body) + read.bigrams(body)


def _query_terms(question: str) -> list[str]:
    normalised = read.normalize(question)
    return read.words(normalised) + read.bigrams(normalised)


class Index:
    def __init__(self, docs: Sequence[Doc], retriever: bm25s.BM25 | None) -> None:
        self.docs = tuple(docs)
        self._retriever = retriever

    @classmethod
    def build(cls, docs: Iterable[Doc]) -> Index:
        docs = list(docs)
        if not docs:
            return cls(docs, None)
        retriever = bm25s.BM25()
        retriever.index([_doc_terms(d) or ["\u0000"] for d in docs], show_progress=False)
        return cls(docs, retriever)

    def __len__(self) -> int:
        return len(self.docs)

    def search(self, question: str, *, k: int = DEFAULT_K) -> Result:
        terms = _query_terms(question)
        if self._retriever is None or not terms:
            return Result((), False)
        scores = np.asarray(self._retriever.get_scores(terms), dtype=np.float64)
        top = np.argsort(-scores, kind="stable")[:k]
        if scores[top[0]] <= 0:
            return Result((), False)
        # v0 calibration: a score per query term, squashed; the learned ranker replaces it.
        per_term = scores[top] / max(len(terms), 1)
        probability = 1 / (1 + np.exp(-(per_term - 0.25) * 12))
        hits = tuple(
            Hit(self.docs[i].id, round(float(p), 4))
            for i, p, s in zip(top, probability, scores[top], strict=True)
            if s > 0
        )
        return Result(hits, hits[0].score >= ANSWER_THRESHOLD)
