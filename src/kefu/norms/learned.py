"""The checker's two learned heads, for the two judgements word lists generalise worst on:

- ``blame``: does a reply push responsibility onto the customer or another party (推卸责任)?
  Read on the folded reply; it adds findings the patterns of rules.toml miss, above a high
  threshold because blame_shifting blocks sending.
- ``upset``: is the customer's last turn negative enough to need an acknowledgement
  (missing_empathy)? Read on the folded customer turn, beside the analysis engine's emotion.

Each head is a linear model over character 1-3-gram TF-IDF (the n-grams of
``kefu.nlp.features.char_ngrams``, as scikit-learn computes TF-IDF), trained by
``python -m kefu.norms.train`` from the labelled norms files and shipped as
``models/norms-learned.npz``. Only NumPy runs here; scikit-learn is needed to train only.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

ARTIFACT = Path(__file__).parent / "models" / "norms-learned.npz"
SEPARATOR = "\x00"


_BITS = 21  # every code point fits in 21 bits, so an n-gram of up to 3 fits in one int64


def gram_key(gram: str) -> int:
    """An n-gram as one integer: its code points side by side. No code point is 0 in a key
    (NUL is read as U+FFFD), so grams of different lengths never share a key."""
    key = 0
    for char in gram:
        key = (key << _BITS) | (ord(char) or 0xFFFD)
    return key


@dataclass(frozen=True)
class Head:
    """A linear head over char n-gram TF-IDF, its vocabulary as sorted integer keys so that a
    text is read with a few NumPy calls (``np.unique`` of its n-gram keys, ``searchsorted``)
    instead of a dictionary lookup per n-gram: 0.2 ms for 500 characters, not 1 ms."""

    name: str
    n_max: int
    keys: np.ndarray  # int64, sorted
    idf: np.ndarray  # float64, aligned with keys
    weights: np.ndarray  # float64, aligned with keys
    bias: float
    threshold: float  # probability above which the head says yes

    def probability(self, folded: str) -> float:
        codes = np.frombuffer(folded.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        codes[codes == 0] = 0xFFFD
        grams = [codes]
        for n in range(2, self.n_max + 1):
            if len(codes) >= n:
                key = codes[: len(codes) - n + 1].copy()
                for i in range(1, n):
                    key = (key << _BITS) | codes[i : len(codes) - n + 1 + i]
                grams.append(key)
        unique, counts = np.unique(np.concatenate(grams), return_counts=True)
        at = np.searchsorted(self.keys, unique)
        at[at >= len(self.keys)] = 0
        known = self.keys[at] == unique
        score = self.bias
        if known.any():
            at = at[known]
            values = (1.0 + np.log(counts[known])) * self.idf[at]
            score += float(values @ self.weights[at]) / math.sqrt(float(values @ values))
        return 1.0 / (1.0 + math.exp(-score))

    def says(self, folded: str) -> bool:
        return self.probability(folded) > self.threshold


@lru_cache(maxsize=1)
def heads(path: Path = ARTIFACT) -> dict[str, Head]:
    with np.load(path, allow_pickle=False) as npz:
        manifest = json.loads(str(npz["manifest"]))
        out = {}
        for name, spec in manifest["heads"].items():
            if spec["n_min"] != 1 or spec["n_max"] > 3:
                raise ValueError(f"{path}: head {name} must read 1- to 3-grams")
            vocab = str(npz[f"{name}_vocab"]).split(SEPARATOR)
            keys = np.array([gram_key(gram) for gram in vocab], dtype=np.int64)
            order = np.argsort(keys)
            out[name] = Head(
                name=name,
                n_max=int(spec["n_max"]),
                keys=keys[order],
                idf=npz[f"{name}_idf"].astype(np.float64)[order],
                weights=npz[f"{name}_weights"].astype(np.float64)[order],
                bias=float(spec["bias"]),
                threshold=float(spec["threshold"]),
            )
    return out


def says(head: str, folded: str) -> bool:
    """Whether the named head (``blame`` or ``upset``) says yes on a folded text."""
    return heads()[head].says(folded)
