"""The learned classifiers: linear heads over character n-gram spaces, loaded from one artifact.

An artifact (``models/<name>.npz``, written by ``kefu.nlp.train``) holds:

- ``manifest``: JSON — version, seed, data digests, the spaces and the heads;
- per space ``i``: ``space{i}_vocab`` (n-grams joined by NUL, UTF-8), ``space{i}_idf`` and
  ``space{i}_weights`` (one column per class of every head reading that space);
- per head: ``head_<name>_bias`` and ``head_<name>_dense`` (weights of its dense signals),
  and for a head of the accurate path ``head_<name>_embedding`` (weights of the sentence
  embedding named by the manifest's ``embedding``, see ``embedding.py``).

A head's decision for one text is ``tfidf(text) @ W[:, columns] + signals @ D [+ e5(text) @ E]
+ bias``; a head with one column is binary (``> 0`` means its second class). Only NumPy runs at
prediction time: loading takes tens of milliseconds, not the seconds of a scikit-learn
import.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from kefu.nlp.features import CharNgramSpace, char_ngrams

MODELS_DIR = Path(__file__).parent / "models"
DEFAULT_ARTIFACT = MODELS_DIR / "kefu-triage.npz"


def accurate_path(artifact: Path) -> Path:
    """Where the accurate path's heads (embedding.py) of an artifact live: ``<name>-e5.npz`` beside it."""
    return artifact.with_name(f"{artifact.stem}-e5{artifact.suffix}")


ACCURATE_ARTIFACT = accurate_path(DEFAULT_ARTIFACT)
SEPARATOR = "\x00"  # never in normalized text


@dataclass(frozen=True)
class Head:
    name: str  # "emotion"
    version: str  # "emotion.v1": stored with each prediction
    classes: tuple[str, ...]
    space: int
    columns: slice  # of the space's weight matrix
    signals: tuple[str, ...]  # names of the dense signals it reads (kefu.nlp.signals)
    signal_weights: np.ndarray  # [len(signals), n_columns]
    bias: np.ndarray  # [n_columns]
    scale: float = 1.0  # values / scale are read as logits
    embedding_weights: np.ndarray | None = (
        None  # [embedding dimensions, n_columns]: the accurate path
    )
    threshold: float | None = None  # a risk head: the probability of "yes" that raises its risk

    @property
    def binary(self) -> bool:
        return bool(self.columns.stop - self.columns.start == 1)


@dataclass(frozen=True)
class Scores:
    """One head's raw decision values for one text."""

    head: Head
    values: np.ndarray  # [n_columns]

    def label(self) -> str:
        if self.head.binary:
            return self.head.classes[1] if self.values[0] > 0 else self.head.classes[0]
        return self.head.classes[int(np.argmax(self.values))]

    def probabilities(self) -> np.ndarray:
        if self.head.binary:
            p = 1.0 / (1.0 + np.exp(-float(self.values[0]) / self.head.scale))
            return np.array([1.0 - p, p])
        z: np.ndarray = np.exp((self.values - self.values.max()) / self.head.scale)
        out: np.ndarray = z / z.sum()
        return out


class Classifiers:
    """Every head of one artifact; ``predict`` for one text, ``predict_batch`` for many."""

    def __init__(
        self,
        manifest: dict[str, Any],
        spaces: list[CharNgramSpace],
        weights: list[np.ndarray],
        heads: dict[str, Head],
        ngrams: list[list[str]],
    ):
        self.manifest = manifest
        self.spaces = spaces
        self.weights = weights
        self.heads = heads
        self._ngrams = ngrams

    @property
    def version(self) -> str:
        return str(self.manifest["version"])

    @cached_property
    def signal_names(self) -> tuple[str, ...]:
        names: list[str] = []
        for head in self.heads.values():
            names.extend(s for s in head.signals if s not in names)
        return tuple(names)

    @property
    def embedding(self) -> str | None:
        """The sentence embedding its heads read (``embedding.NAME``), or None for the fast path."""
        return self.manifest.get("embedding")

    def ngram(self, space: int, index: int) -> str:
        return self._ngrams[space][index]

    def ngrams(self, space: int) -> list[str]:
        """A space's n-grams in index order."""
        return self._ngrams[space]

    @cached_property
    def _gram_sizes(self) -> tuple[int, int]:
        """One n-gram list serves every space: a space's vocabulary holds only its own sizes."""
        return min(s.n_min for s in self.spaces), max(s.n_max for s in self.spaces)

    def predict(
        self,
        text: str,
        signals: dict[str, float],
        embedding: np.ndarray | None = None,
    ) -> dict[str, Scores]:
        """Every head's decision for one text; ``embedding`` ([dimensions]) for heads that read one."""
        grams = char_ngrams(text, *self._gram_sizes)
        encoded = [space.encode(text, grams) for space in self.spaces]
        sums = [vals @ w[ids] for (ids, vals), w in zip(encoded, self.weights, strict=True)]
        out: dict[str, Scores] = {}
        for head in self.heads.values():
            values = sums[head.space][head.columns] + head.bias
            if head.signals:
                values = (
                    values
                    + np.array([signals[s] for s in head.signals], np.float32) @ head.signal_weights
                )
            if head.embedding_weights is not None:
                values = values + _needed(embedding, head) @ head.embedding_weights
            out[head.name] = Scores(head, values)
        return out

    def predict_batch(
        self,
        texts: list[str],
        signals: np.ndarray,
        embeddings: np.ndarray | None = None,
    ) -> dict[str, np.ndarray]:
        """Decision values per head, [len(texts), n_columns]; ``signals`` is [len(texts), len(signal_names)],
        ``embeddings`` [len(texts), dimensions] for heads that read them."""
        sums = []
        grams = [char_ngrams(t, *self._gram_sizes) for t in texts]
        for space, w in zip(self.spaces, self.weights, strict=True):
            ids, vals, offsets = space.encode_batch(texts, grams)
            total = np.zeros((len(texts), w.shape[1]), np.float32)
            rows = np.diff(offsets) > 0
            if rows.any():
                contributions = w[ids] * vals[:, None]
                total[rows] = np.add.reduceat(contributions, offsets[:-1][rows], axis=0)
            sums.append(total)
        out = {}
        for head in self.heads.values():
            values = sums[head.space][:, head.columns] + head.bias
            if head.signals:
                columns = [self.signal_names.index(s) for s in head.signals]
                values = values + signals[:, columns] @ head.signal_weights
            if head.embedding_weights is not None:
                values = values + _needed(embeddings, head) @ head.embedding_weights
            out[head.name] = values
        return out


def _needed(embedding: np.ndarray | None, head: Head) -> np.ndarray:
    if embedding is None:
        raise ValueError(
            f"head {head.name} reads a sentence embedding: pass one (see kefu.nlp.embedding)"
        )
    return embedding


def load(path: Path = DEFAULT_ARTIFACT) -> Classifiers:
    """Read an artifact written by ``kefu.nlp.train``."""
    with np.load(path, allow_pickle=False) as data:
        manifest = json.loads(str(data["manifest"]))
        spaces, weights, ngrams = [], [], []
        for i, spec in enumerate(manifest["spaces"]):
            grams = bytes(data[f"space{i}_vocab"]).decode("utf-8").split(SEPARATOR)
            spaces.append(
                CharNgramSpace(
                    n_min=spec["n_min"],
                    n_max=spec["n_max"],
                    vocabulary=dict(zip(grams, range(len(grams)), strict=True)),
                    idf=data[f"space{i}_idf"].astype(np.float32),
                    sublinear_tf=spec["sublinear_tf"],
                )
            )
            weights.append(data[f"space{i}_weights"].astype(np.float32))  # stored as float16
            ngrams.append(grams)
        heads = {}
        for spec in manifest["heads"]:
            name = spec["name"]
            heads[name] = Head(
                name=name,
                version=spec["version"],
                classes=tuple(spec["classes"]),
                space=spec["space"],
                columns=slice(*spec["columns"]),
                signals=tuple(spec["signals"]),
                signal_weights=data[f"head_{name}_dense"].astype(np.float32),
                bias=data[f"head_{name}_bias"].astype(np.float32),
                scale=float(spec.get("scale", 1.0)),
                threshold=spec.get("threshold"),
                embedding_weights=(
                    data[f"head_{name}_embedding"].astype(np.float32)
                    if f"head_{name}_embedding" in data
                    else None
                ),
            )
    return Classifiers(manifest, spaces, weights, heads, ngrams)


def save(
    path: Path,
    manifest: dict[str, Any],
    spaces: list[tuple[CharNgramSpace, list[str], np.ndarray]],
    heads: list[tuple[dict[str, Any], np.ndarray, np.ndarray, np.ndarray | None]],
) -> None:
    """Write an artifact: spaces as (space, n-grams in index order, weights); heads as (spec, dense, bias,
    embedding weights or None)."""
    arrays: dict[str, np.ndarray] = {}
    for i, (space, grams, w) in enumerate(spaces):
        arrays[f"space{i}_vocab"] = np.frombuffer(SEPARATOR.join(grams).encode("utf-8"), np.uint8)
        arrays[f"space{i}_idf"] = space.idf.astype(np.float32)
        arrays[f"space{i}_weights"] = w.astype(np.float16)
    for spec, dense, bias, embedding in heads:
        arrays[f"head_{spec['name']}_dense"] = dense.astype(np.float32)
        arrays[f"head_{spec['name']}_bias"] = bias.astype(np.float32)
        if embedding is not None:
            arrays[f"head_{spec['name']}_embedding"] = embedding.astype(np.float32)
    arrays["manifest"] = np.array(json.dumps(manifest, ensure_ascii=False, sort_keys=True))
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)  # type: ignore[arg-type]
