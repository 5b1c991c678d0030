"""Character n-gram features: the sparse vector every classifier reads.

Chinese needs no segmenter for this: overlapping 1- to 4-character n-grams of the
normalized text cover words, compounds and their neighbours, cost a few microseconds,
and cannot be thrown off by a word the dictionary does not know.

The vector is TF-IDF, as scikit-learn's ``TfidfVectorizer`` computes it (training uses
scikit-learn with ``char_ngrams`` as its analyzer, so both sides see the same n-grams):
term counts, optionally ``1 + log(count)``, times the learned idf, scaled to unit length.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import chain, repeat

import numpy as np

MISSING = -1


def char_ngrams(text: str, n_min: int, n_max: int) -> list[str]:
    """Every n-gram of ``n_min``..``n_max`` characters, in order of length then position."""
    grams: list[str] = []
    size = len(text)
    for n in range(n_min, n_max + 1):
        if n == 1:
            grams.extend(text)
        else:
            grams.extend([text[i : i + n] for i in range(size - n + 1)])
    return grams


@dataclass(frozen=True)
class CharNgramSpace:
    """A learned vocabulary of n-grams with their idf weights."""

    n_min: int
    n_max: int
    vocabulary: dict[str, int]
    idf: np.ndarray  # float32, one per vocabulary entry
    sublinear_tf: bool = True

    @property
    def size(self) -> int:
        return len(self.vocabulary)

    def encode(self, text: str, grams: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The non-zero entries of the text's vector: (indices int32, values float32).

        ``grams`` may hold more sizes than this space's (they are simply not in its vocabulary)."""
        if grams is None:
            grams = char_ngrams(text, self.n_min, self.n_max)
        counts = Counter(map(self.vocabulary.get, grams, repeat(MISSING)))
        counts.pop(MISSING, None)
        if not counts:
            return np.empty(0, np.int32), np.empty(0, np.float32)
        ids = np.fromiter(counts.keys(), np.int32, len(counts))
        tf = np.fromiter(counts.values(), np.float32, len(counts))
        if self.sublinear_tf:
            np.log(tf, out=tf)
            tf += 1.0
        values = tf * self.idf[ids]
        values /= np.sqrt(values @ values)
        return ids, values

    def encode_batch(
        self,
        texts: list[str],
        grams: list[list[str]] | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All texts at once in CSR form: (indices, values, offsets), row i at offsets[i]..offsets[i+1].

        One dictionary pass over every n-gram of the batch and NumPy for the rest; ``grams``
        (``char_ngrams`` of each text) can be passed when another space already made them.
        Within a row the entries are sorted by index.
        """
        n = len(texts)
        if grams is None:
            grams = [char_ngrams(t, self.n_min, self.n_max) for t in texts]
        lengths = np.fromiter(map(len, grams), np.int64, n)
        total = int(lengths.sum())
        offsets = np.zeros(n + 1, np.int64)
        ids = np.fromiter(
            map(self.vocabulary.get, chain.from_iterable(grams), repeat(MISSING)), np.int64, total
        )
        rows = np.repeat(np.arange(n, dtype=np.int64), lengths)
        known = ids >= 0
        keys, counts = np.unique(rows[known] * self.size + ids[known], return_counts=True)
        if len(keys) == 0:
            return np.empty(0, np.int32), np.empty(0, np.float32), offsets
        rows, ids = np.divmod(keys, self.size)
        tf = counts.astype(np.float32)
        if self.sublinear_tf:
            np.log(tf, out=tf)
            tf += 1.0
        values = tf * self.idf[ids]
        norms = np.sqrt(np.bincount(rows, weights=values * values, minlength=n)).astype(np.float32)
        values /= norms[rows]
        np.cumsum(np.bincount(rows, minlength=n), out=offsets[1:])
        return ids.astype(np.int32), values, offsets
