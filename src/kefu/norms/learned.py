"""The checker's two learned heads, for the two judgements word lists generalise worst on:

- ``blame``: does a reply push responsibility onto the customer or another party (推卸责任)?
  Read on the folded reply; it adds findings the patterns of rules.toml miss, above a high
  threshold because blame_shifting blocks sending.
- ``upset``: is the customer's last turn negative enough to need an acknowledgement
  (missing_empathy)? Read on the folded customer turn, beside the analysis engine's emotion.

Each head is a linear model over character 1-3-gram TF-IDF (``kefu.nlp.features``), trained by
``python -m kefu.norms.train`` from the labelled norms files and shipped as
``models/norms-learned.npz``. Only NumPy runs here; scikit-learn is needed to train only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from kefu.nlp.features import CharNgramSpace

ARTIFACT = Path(__file__).parent / "models" / "norms-learned.npz"
SEPARATOR = "\x00"


@dataclass(frozen=True)
class Head:
    name: str
    space: CharNgramSpace
    weights: np.ndarray  # float32, one per vocabulary entry
    bias: float
    threshold: float  # probability above which the head says yes

    def probability(self, folded: str) -> float:
        ids, values = self.space.encode(folded)
        score = float(values @ self.weights[ids]) + self.bias if len(ids) else self.bias
        return 1.0 / (1.0 + float(np.exp(-score)))

    def says(self, folded: str) -> bool:
        return self.probability(folded) > self.threshold


@lru_cache(maxsize=1)
def heads(path: Path = ARTIFACT) -> dict[str, Head]:
    with np.load(path, allow_pickle=False) as npz:
        manifest = json.loads(str(npz["manifest"]))
        out = {}
        for name, spec in manifest["heads"].items():
            vocab = str(npz[f"{name}_vocab"]).split(SEPARATOR)
            space = CharNgramSpace(
                n_min=spec["n_min"],
                n_max=spec["n_max"],
                vocabulary={gram: i for i, gram in enumerate(vocab)},
                idf=npz[f"{name}_idf"].astype(np.float32),
                sublinear_tf=True,
            )
            out[name] = Head(
                name=name,
                space=space,
                weights=npz[f"{name}_weights"].astype(np.float32),
                bias=float(spec["bias"]),
                threshold=float(spec["threshold"]),
            )
    return out


def says(head: str, folded: str) -> bool:
    """Whether the named head (``blame`` or ``upset``) says yes on a folded text."""
    return heads()[head].says(folded)
