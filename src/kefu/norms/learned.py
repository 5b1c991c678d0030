"""The checker's learned heads, for the judgements word lists generalise worst on.

- ``upset``: is the customer's last turn negative enough to need an acknowledgement
  (missing_empathy)? Read on the folded customer turn, beside the analysis engine's emotion.
- one head per rule whose wording varies most between writers — ``refusal``
  (negative_refusal), ``blame`` (blame_shifting), ``dismissive``, ``impolite``, ``vague``
  (vague_commitment), ``promise`` (over_promise) — read on the folded reply. Each is combined
  with its rule's patterns by two thresholds chosen out of fold (train.py): above ``add`` the
  head raises the rule where no pattern hit (a shape no pattern names); below ``veto`` it takes
  back a pattern hit (a harmless use of a listed word). ``add`` > 1 or ``veto`` = 0 switch
  either off, so a head may only add, only veto, both or neither.

Each head is a linear model over character 1-3-gram TF-IDF (the n-grams of
``kefu.nlp.features.char_ngrams``, as scikit-learn computes TF-IDF), trained by
``python -m kefu.norms.train`` from the labelled norms files and shipped as
``models/norms-learned.npz``. Only NumPy runs here; scikit-learn is needed to train only.
A text's n-grams are counted once per check (``one_check``) and shared by every head that
reads it; nothing of a text outlives its check (ASVS V14.2.2: the texts are customers' words
and agents' replies).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
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


Grams = tuple[np.ndarray, np.ndarray]
_this_check: ContextVar[dict[tuple[str, int], Grams] | None] = ContextVar("grams", default=None)


@contextmanager
def one_check() -> Iterator[None]:
    """Within it, each text's n-grams are counted once; they are forgotten when it ends."""
    token = _this_check.set({})
    try:
        yield
    finally:
        _this_check.reset(token)


def grams(folded: str, n_max: int = 3) -> Grams:
    """The distinct 1- to ``n_max``-gram keys of a folded text (sorted) and their counts."""
    counted = _this_check.get()
    if counted is None:
        return _count_grams(folded, n_max)
    if (folded, n_max) not in counted:
        counted[folded, n_max] = _count_grams(folded, n_max)
    return counted[folded, n_max]


def _count_grams(folded: str, n_max: int) -> Grams:
    codes = np.frombuffer(folded.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    codes[codes == 0] = 0xFFFD
    parts = [codes]
    for n in range(2, n_max + 1):
        if len(codes) >= n:
            key = codes[: len(codes) - n + 1].copy()
            for i in range(1, n):
                key = (key << _BITS) | codes[i : len(codes) - n + 1 + i]
            parts.append(key)
    unique, counts = np.unique(np.concatenate(parts), return_counts=True)
    unique.flags.writeable = counts.flags.writeable = False  # shared through the cache
    return unique, counts


NEVER_ADD = 2.0  # ``add`` above any probability: the head never raises its rule alone
NEVER_VETO = 0.0  # ``veto`` below any probability: the head never takes a pattern hit back


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
    rule: str | None = None  # the rule of spec/norms.md this head judges with its patterns
    add: float = NEVER_ADD
    veto: float = NEVER_VETO

    def probability(self, folded: str) -> float:
        unique, counts = grams(folded, self.n_max)
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

    def judges(self, folded: str, hit: bool) -> bool:
        """Whether the rule stands, given whether its patterns hit the folded reply."""
        if hit:
            return self.veto <= NEVER_VETO or self.probability(folded) >= self.veto
        return self.add < 1.0 and self.probability(folded) > self.add


_override: dict[str, Head] | None = None


def heads() -> dict[str, Head]:
    return _override if _override is not None else _loaded(ARTIFACT)


@contextmanager
def using(replacement: Mapping[str, Head]) -> Iterator[None]:
    """Read with these heads instead of the shipped ones (training: the rules' own hits are
    taken with no rule head and the upset head being trained)."""
    global _override
    before, _override = _override, dict(replacement)
    try:
        yield
    finally:
        _override = before


@lru_cache(maxsize=1)
def _loaded(path: Path) -> dict[str, Head]:
    with np.load(path, allow_pickle=False) as npz:
        manifest = json.loads(str(npz["manifest"]))
        out = {}
        for name, spec in manifest["heads"].items():
            if spec.get("off"):
                continue  # trained, found no help out of fold: only its figures are kept
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
                rule=spec.get("rule"),
                add=float(spec.get("add", NEVER_ADD)),
                veto=float(spec.get("veto", NEVER_VETO)),
            )
    return out


def says(head: str, folded: str) -> bool:
    """Whether the named head (``upset``) says yes on a folded text."""
    return heads()[head].says(folded)


def judged(rule: str, folded: str, hit: bool) -> bool:
    """Whether ``rule`` stands on a folded reply whose patterns did (``hit``) or did not find
    it: the rule's head, where one was trained, adds or vetoes; elsewhere the patterns rule."""
    for head in heads().values():
        if head.rule == rule:
            return head.judges(folded, hit)
    return hit
