"""The search index of a knowledge base: ranked articles and a "no good answer" decision.

Two stages. BM25 (bm25s) over four fields of every article — title with tags and synonyms,
body, both together, and the sound of both — picks the candidates; a learned ranker
(``ranker.py``) scores each candidate from how well the question and the article agree field by
field, and a second learned model decides from the best candidates whether any of them answers
the question at all. ``Index.search(question)`` returns the best articles with a score in [0, 1]
each and that decision.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import bm25s
import numpy as np

from kefu.retrieval import ranker as learned
from kefu.retrieval import text, vectors
from kefu.retrieval.folder import ArticleFile
from kefu.retrieval.text import Reading, read

DEFAULT_K = 5
CANDIDATES = 20  # of the first stage, re-ranked by the second
FIELDS = ("all", "title", "body", "sound")
_EMPTY = "\u0000"  # the term of a field with nothing in it (bm25s wants a term a document)


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
    score: float  # in [0, 1]: how likely it is that the article answers the question


@dataclass(frozen=True)
class Result:
    hits: tuple[Hit, ...]  # best first
    answered: bool  # False: no article answers the question well enough to offer it
    confidence: float = 0.0  # in [0, 1]: how likely it is that some hit answers it

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits and self.answered else None


@dataclass(frozen=True)
class _Read:
    """An article as the features read it."""

    words: frozenset[str]
    title_words: frozenset[str]
    bigrams: frozenset[str]
    title_bigrams: frozenset[str]
    word_ids: np.ndarray  # into the word vectors: the article's known words
    title_word_ids: np.ndarray
    centre: np.ndarray  # the unit mean of its known words' vectors
    category: str | None


def _fields(title: Reading, body: Reading) -> dict[str, list[str]]:
    return {
        "all": title.terms * 2 + body.terms,
        "title": title.terms,
        "body": body.terms,
        "sound": [*title.sounds, *body.sounds],
    }


def _ids(known: vectors.WordVectors | None, words: Iterable[str]) -> np.ndarray:
    if known is None:
        return np.zeros(0, np.int32)
    return np.array(sorted({known.ids[w] for w in words if w in known.ids}), np.int32)


def _bm25(retriever: bm25s.BM25, terms: list[str], size: int) -> np.ndarray:
    """BM25 of every document, from bm25s's index: its precomputed term scores summed with one
    ``bincount`` over the query terms' postings (bm25s's own sum adds them term by term with
    ``np.add.at``, several times slower on long postings)."""
    ids = retriever.get_tokens_ids(terms) if terms else []
    if not ids:
        return np.zeros(size)
    if retriever.nonoccurrence_array is not None:  # variants that score absent terms
        return np.asarray(retriever.get_scores(terms), np.float64)
    index = retriever.scores
    indptr, indices, data = index["indptr"], index["indices"], index["data"]
    postings = [slice(indptr[t], indptr[t + 1]) for t in ids]
    return np.bincount(
        np.concatenate([indices[p] for p in postings]),
        weights=np.concatenate([data[p] for p in postings]).astype(np.float64),
        minlength=size,
    )


def _analysis_topics(question: str) -> dict[str, float]:
    """The question's category probabilities from the analysis engine (loaded once)."""
    from kefu.nlp.analysis import analyzer

    return analyzer().category_probabilities(question)


topics: Callable[[str], Mapping[str, float]] = _analysis_topics


def _centre(known: vectors.WordVectors | None, words: Iterable[str]) -> np.ndarray:
    if known is None:
        return np.zeros(1, np.float32)
    ids = _ids(known, words)
    centre = known.matrix[ids].sum(axis=0) if len(ids) else np.zeros(known.matrix.shape[1])
    return np.asarray(centre / (float(np.linalg.norm(centre)) or 1.0), np.float32)


class Index:
    def __init__(
        self,
        docs: Sequence[Doc],
        retrievers: dict[str, bm25s.BM25],
        reads: Sequence[_Read],
        model: learned.Ranker,
        sentence_doc: np.ndarray | None = None,
    ) -> None:
        self.docs = tuple(docs)
        self._retrievers = retrievers
        # Sentences are indexed in article order: each article's run starts where its number does.
        owners = sentence_doc if sentence_doc is not None else np.zeros(0, np.int64)
        self._sentence_owners, self._sentence_starts = np.unique(owners, return_index=True)
        self._vocabulary = frozenset().union(*(r.words for r in reads))
        known = vectors.default()
        self._vocabulary_rows = (
            known.rows(sorted(self._vocabulary)) if known else np.zeros((0, 1), np.float32)
        )
        self._reads = tuple(reads)
        self._by_sound = text.words_by_sound(
            self._vocabulary | frozenset(g for d in self.docs for g in text.title_pieces(d.title))
        )
        self._model = model

    @classmethod
    def build(cls, docs: Iterable[Doc], *, model: learned.Ranker | None = None) -> Index:
        docs = list(docs)
        model = model or learned.default()
        if not docs:
            return cls(docs, {}, [], model)
        columns: dict[str, list[list[str]]] = {name: [] for name in FIELDS}
        reads: list[_Read] = []
        sentences: list[list[str]] = []
        sentence_doc: list[int] = []
        known = vectors.default()
        for number, doc in enumerate(docs):
            title = read(" ".join((doc.title, *doc.tags, *doc.synonyms)))
            parts = text.read_article_body(doc.body)
            body = text.joined(parts)
            for name, terms in _fields(title, body).items():
                columns[name].append(terms or [_EMPTY])
            for part in parts:
                if part.words or part.bigrams:
                    sentences.append(part.terms)
                    sentence_doc.append(number)
            reads.append(
                _Read(
                    words=frozenset(title.words + body.words),
                    title_words=frozenset(title.words),
                    bigrams=frozenset(title.bigrams + body.bigrams),
                    title_bigrams=frozenset(title.bigrams),
                    word_ids=_ids(known, title.words + body.words),
                    title_word_ids=_ids(known, title.words),
                    centre=_centre(known, title.words + body.words),
                    category=doc.category,
                )
            )
        columns["sentence"] = sentences or [[_EMPTY]]
        retrievers = {}
        for name, corpus in columns.items():
            retriever = bm25s.BM25()
            retriever.index(corpus, show_progress=False)
            retrievers[name] = retriever
        return cls(docs, retrievers, reads, model, np.array(sentence_doc or [0], np.int64))

    def __len__(self) -> int:
        return len(self.docs)

    def _scores(self, name: str, terms: list[str]) -> np.ndarray:
        return _bm25(self._retrievers[name], terms, len(self.docs))

    def _best_sentence(self, terms: list[str]) -> np.ndarray:
        """Each article's best-matching sentence's score."""
        best = np.zeros(len(self.docs))
        if terms and len(self._sentence_starts):
            sentences = self._retrievers["sentence"]
            scores = _bm25(sentences, terms, int(sentences.scores["num_docs"]))
            best[self._sentence_owners] = np.maximum.reduceat(scores, self._sentence_starts)
        return best

    def candidates(self, question: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The first stage's candidates (indexes into ``docs``), their feature rows and the
        question's own features (``ranker.question_features``)."""
        reading = text.corrected(read(question), self._by_sound, vectors.default())
        terms = reading.terms
        if not self.docs or not terms:
            empty = np.zeros((0, learned.FEATURES), np.float64)
            return np.zeros(0, np.int64), empty, np.zeros(len(learned.QUESTION_FEATURE_NAMES))
        asks = reading.asked
        asked_topics = topics(asks.text if reading.asks else question)
        every = self._scores("all", terms)
        scores = {
            "all": every,
            "title": self._scores("title", terms),
            "body": self._scores("body", terms),
            "sound": self._scores("sound", list(reading.sounds)),
            "sentence": self._best_sentence(terms),
            "asked": self._scores("all", asks.terms) if reading.asks else every,
        }
        first = scores["all"] + 0.5 * scores["sound"]
        count = min(CANDIDATES, len(self.docs))
        top = np.argpartition(-first, count - 1)[:count]
        top = top[np.argsort(-first[top], kind="stable")]
        top = top[first[top] > 0]
        rows = learned.features(
            reading,
            asks,
            asked_topics,
            [self._reads[i] for i in top],
            {name: values[top] for name, values in scores.items()},
            {name: float(values.max()) for name, values in scores.items()},
        )
        return (
            top,
            rows,
            learned.question_features(
                reading, asked_topics, self._vocabulary, self._vocabulary_rows
            ),
        )

    def search(self, question: str, *, k: int = DEFAULT_K) -> Result:
        top, rows, asked = self.candidates(question)
        if len(top) == 0:
            return Result((), False, 0.0)
        probability = self._model.rank(rows)
        order = np.argsort(-probability, kind="stable")[:k]
        hits = tuple(Hit(self.docs[top[i]].id, round(float(probability[i]), 4)) for i in order)
        confidence = self._model.answerable(probability[order], rows[order], asked)
        return Result(hits, confidence >= self._model.threshold, round(confidence, 4))
