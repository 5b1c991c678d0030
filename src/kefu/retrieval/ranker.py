"""The second stage: how well a candidate article answers a question, and whether any does.

``features`` describes each candidate by how the question and the article agree: the BM25 score
of each field, relative to the best article's and per question term; the share of the question's
words, and of its character pairs, that the article and its title hold. ``Ranker.rank`` turns a
row into the probability that the article is the one that answers (logistic regression);
``Ranker.answerable`` reads the best candidates' probabilities and agreement to decide whether
any of them answers at all. The weights are learned by ``python -m kefu.retrieval.train`` and
shipped in ``models/kb-ranker.json``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kefu.retrieval import vectors

if TYPE_CHECKING:
    from kefu.retrieval.engine import _Read
    from kefu.retrieval.text import Reading

MODEL = Path(__file__).parent / "models" / "kb-ranker.json"
FEATURE_NAMES = (
    "all_relative",
    "all_per_term",
    "title_relative",
    "title_per_term",
    "body_relative",
    "body_per_term",
    "sound_relative",
    "sound_per_term",
    "word_share",
    "title_word_share",
    "bigram_share",
    "title_bigram_share",
    "first_stage_rank",
    "meaning_share",
    "title_meaning_share",
    "meaning_closeness",
    "sentence_relative",
    "sentence_per_term",
    "same_topic",
    "asked_relative",
    "asked_per_term",
    "asked_word_share",
)
FEATURES = len(FEATURE_NAMES)
ANSWER_FEATURE_NAMES = (
    "best",
    "second",
    "margin",
    "best_word_share",
    "best_bigram_share",
    "best_all_per_term",
    "best_meaning_share",
    "best_same_topic",
    "best_sentence_per_term",
    "best_asked_word_share",
    "best_title_meaning_share",
    "best_title_word_share",
)
QUESTION_FEATURE_NAMES = (
    "question_terms",
    "known_word_share",
    "meant_word_share",
    "other_topic",
)


def _share(asked: set[str], held: frozenset[str]) -> float:
    return len(asked & held) / len(asked) if asked else 0.0


def _closest(similarity: np.ndarray, ids: list[np.ndarray]) -> np.ndarray:
    """Per article, the mean over the question's words of the closest of the article's words;
    0 for an article with no known word. ``similarity`` is [question words, all ids]."""
    out = np.zeros(len(ids))
    sizes = np.array([len(i) for i in ids])
    present = sizes > 0
    if present.any():
        starts = np.concatenate([[0], np.cumsum(sizes[present])[:-1]])
        out[present] = np.maximum.reduceat(similarity, starts, axis=1).mean(axis=0)
    return out


def _meaning(
    rows: np.ndarray, asked: np.ndarray, matrix: np.ndarray, reads: Sequence[_Read]
) -> None:
    """The features read from word vectors: columns 13 (article), 14 (title), 15 (centres)."""
    if not len(asked) or not reads:
        return
    body_ids = [r.word_ids for r in reads]
    title_ids = [r.title_word_ids for r in reads]
    every = np.concatenate(body_ids + title_ids)
    if not len(every):
        return
    similarity = asked @ matrix[every].T
    split = sum(len(i) for i in body_ids)
    rows[:, 13] = _closest(similarity[:, :split], body_ids)
    rows[:, 14] = _closest(similarity[:, split:], title_ids)
    centre = asked.sum(axis=0)
    centre /= float(np.linalg.norm(centre)) or 1.0
    rows[:, 15] = np.array([r.centre for r in reads]) @ centre


def features(
    reading: Reading,
    asks: Reading,
    topics: Mapping[str, float],
    reads: Sequence[_Read],
    scores: Mapping[str, np.ndarray],
    best: Mapping[str, float],
) -> np.ndarray:
    terms = max(len(reading.terms), 1)
    sounds = max(len(reading.sounds), 1)
    words, pairs = set(reading.words), set(reading.bigrams)
    rows = np.zeros((len(reads), FEATURES), np.float64)
    for name, column, per in (
        ("all", 0, terms),
        ("title", 2, terms),
        ("body", 4, terms),
        ("sound", 6, sounds),
        ("sentence", 16, terms),
        ("asked", 19, max(len(asks.terms), 1)),
    ):
        rows[:, column] = scores[name] / best[name] if best[name] > 0 else 0.0
        rows[:, column + 1] = scores[name] / per
    known = vectors.default()
    if known is not None and words:
        _meaning(rows, known.rows(sorted(words)), known.matrix, reads)
    for i, doc in enumerate(reads):
        rows[i, 18] = topics.get(doc.category or "", 0.0)
        rows[i, 8] = _share(words, doc.words)
        rows[i, 21] = _share(set(asks.words), doc.words)
        rows[i, 9] = _share(words, doc.title_words)
        rows[i, 10] = _share(pairs, doc.bigrams)
        rows[i, 11] = _share(pairs, doc.title_bigrams)
        rows[i, 12] = 1 / (1 + i)
    return rows


def question_features(
    reading: Reading,
    topics: Mapping[str, float],
    vocabulary: frozenset[str],
    vocabulary_rows: np.ndarray,
) -> np.ndarray:
    """What the question is apart from any article: its length, the share of its words that any
    article uses (as they are, and in meaning), how likely it is off every topic."""
    words = set(reading.words)
    known = len(words & vocabulary) / len(words) if words else 0.0
    meant = known
    model = vectors.default()
    if model is not None and words:
        rows = model.rows([w for w in words if w not in vocabulary])
        if len(rows) and len(vocabulary_rows):
            close = (rows @ vocabulary_rows.T).max(axis=1)
            meant = (len(words & vocabulary) + float(close.sum())) / len(words)
    return np.array(
        [math.log1p(len(reading.terms)), known, meant, topics.get("other", 0.0)], np.float64
    )


def answer_features(probability: np.ndarray, rows: np.ndarray, question: np.ndarray) -> np.ndarray:
    """One row per question from its candidates (best first) and its own features."""
    best = float(probability[0])
    second = float(probability[1]) if len(probability) > 1 else 0.0
    top = rows[0]
    own = [best, second, best - second, top[8], top[10], top[1], top[13], top[18], top[17]]
    own += [top[21], top[14], top[9]]
    return np.concatenate([np.array(own, np.float64), question])


def _sigmoid(x: np.ndarray | float) -> Any:
    return 1 / (1 + np.exp(-np.clip(x, -30, 30)))


@dataclass(frozen=True)
class Ranker:
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    answer_mean: np.ndarray
    answer_scale: np.ndarray
    answer_weights: np.ndarray
    answer_bias: float
    threshold: float

    def rank(self, rows: np.ndarray) -> np.ndarray:
        """Each candidate's probability of being the article that answers, among them all."""
        z = ((rows - self.mean) / self.scale) @ self.weights
        e = np.exp(z - z.max())
        return np.asarray(e / e.sum())

    def answerable(self, probability: np.ndarray, rows: np.ndarray, question: np.ndarray) -> float:
        x = answer_features(probability, rows, question)
        z = ((x - self.answer_mean) / self.answer_scale) @ self.answer_weights + self.answer_bias
        return float(_sigmoid(z))

    def to_json(self) -> dict[str, Any]:
        return {
            "features": list(FEATURE_NAMES),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "weights": self.weights.tolist(),
            "bias": self.bias,
            "answer_features": list(ANSWER_FEATURE_NAMES + QUESTION_FEATURE_NAMES),
            "answer_mean": self.answer_mean.tolist(),
            "answer_scale": self.answer_scale.tolist(),
            "answer_weights": self.answer_weights.tolist(),
            "answer_bias": self.answer_bias,
            "threshold": self.threshold,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Ranker:
        if list(data["features"]) != list(FEATURE_NAMES) or list(data["answer_features"]) != list(
            ANSWER_FEATURE_NAMES + QUESTION_FEATURE_NAMES
        ):
            raise ValueError("the ranker was trained on other features: retrain it")

        def vector(key: str) -> np.ndarray:
            return np.asarray(data[key], np.float64)

        return cls(
            mean=vector("mean"),
            scale=vector("scale"),
            weights=vector("weights"),
            bias=float(data["bias"]),
            answer_mean=vector("answer_mean"),
            answer_scale=vector("answer_scale"),
            answer_weights=vector("answer_weights"),
            answer_bias=float(data["answer_bias"]),
            threshold=float(data["threshold"]),
        )


def untrained() -> Ranker:
    """Equal trust in the relative BM25 of all fields; answers above a half."""
    weights = np.zeros(FEATURES)
    weights[[0, 2, 4, 8, 10, 13]] = 1.0
    answer = np.zeros(len(ANSWER_FEATURE_NAMES) + len(QUESTION_FEATURE_NAMES))
    answer[0] = 1.0
    return Ranker(
        np.zeros(FEATURES),
        np.ones(FEATURES),
        weights,
        -2.0,
        np.zeros(len(answer)),
        np.ones(len(answer)),
        answer,
        0.0,
        0.5,
    )


@lru_cache(maxsize=1)
def default() -> Ranker:
    if not MODEL.exists():
        return untrained()
    return Ranker.from_json(json.loads(MODEL.read_text("utf-8")))
