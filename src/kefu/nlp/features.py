"""Character n-gram features: the sparse vector every classifier reads.

Chinese needs no segmenter for this: overlapping 1- to 4-character n-grams of the
normalised text cover words, compounds and their neighbours, cost a few microseconds,
and cannot be thrown off by a word the dictionary does not know.

The vector is TF-IDF, as scikit-learn's ``TfidfVectorizer`` computes it (training uses
scikit-learn with ``char_ngrams`` as its analyser, so both sides see the same n-grams):
term counts, optionally ``1 + log(count)``, times the learned idf, scaled to unit length.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import repeat

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

    def encode(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The non-zero entries of the text's vector: (indices int32, values float32)."""
        counts = Counter(map(self.vocabulary.get, char_ngrams(text, self.n_min, self.n_max), repeat(MISSING)))
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

    def encode_batch(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All texts at once in CSR form: (indices, values, offsets) with offsets[i]..offsets[i+1]."""
        encoded = [self.encode(t) for t in texts]
        offsets = np.zeros(len(texts) + 1, np.int64)
        np.cumsum([len(ids) for ids, _ in encoded], out=offsets[1:])
        if not encoded or offsets[-1] == 0:
            return np.empty(0, np.int32), np.empty(0, np.float32), offsets
        return np.concatenate([i for i, _ in encoded]), np.concatenate([v for _, v in encoded]), offsets
