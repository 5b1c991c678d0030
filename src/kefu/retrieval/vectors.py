"""Word vectors: how close two words are in meaning (``train_vectors.py`` learns them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

MODEL = Path(__file__).parent / "models" / "kb-word-vectors.npz"
SEPARATOR = "\n"


@dataclass(frozen=True)
class WordVectors:
    words: tuple[str, ...]
    matrix: np.ndarray  # [len(words), dimensions], unit rows, float32 in memory
    ids: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ids", {w: i for i, w in enumerate(self.words)})

    def rows(self, words: list[str] | tuple[str, ...] | frozenset[str]) -> np.ndarray:
        """The unit vectors of the known words among ``words`` (float32)."""
        found = [self.ids[w] for w in words if w in self.ids]
        return self.matrix[found]

    def similarity(self, a: str, b: str) -> float:
        if a not in self.ids or b not in self.ids:
            return 0.0
        return float(self.matrix[self.ids[a]] @ self.matrix[self.ids[b]])

    def save(self, path: Path) -> None:
        path.parent.mkdir(exist_ok=True)
        vocabulary = np.frombuffer(SEPARATOR.join(self.words).encode("utf-8"), np.uint8)
        np.savez_compressed(path, vocabulary=vocabulary, matrix=self.matrix.astype(np.float16))


def load(path: Path = MODEL) -> WordVectors:
    with np.load(path, allow_pickle=False) as data:
        words = bytes(data["vocabulary"]).decode("utf-8").split(SEPARATOR)
        return WordVectors(tuple(words), np.ascontiguousarray(data["matrix"], np.float32))


@lru_cache(maxsize=1)
def default() -> WordVectors | None:
    return load() if MODEL.exists() else None
