"""Trains the norms checker's learned heads (``learned.py``) and writes ``models/norms-learned.npz``.

    python -m kefu.norms.train --data ../shared/data   # writes the artifact, prints its manifest

Run from a checkout (it reads kefu's own files under tests/norms/data). The manifest records
the files' digests and each head's 5-fold out-of-fold precision and recall at its threshold.

Training files: the dev file ``norms-dev.jsonl`` of ``--data``, kefu's own
``tests/norms/data/norms-check.jsonl`` and half A (odd ids) of ``norms-holdout.jsonl``. Half B
of the holdout and ``norms-fresh.jsonl`` are never trained on: they estimate the heads on
replies they have not seen (benchmarks/norms_cv.py).

- ``blame``: the folded reply, labelled by whether ``blame_shifting`` is in its violations.
- ``upset``: the folded last customer turn, labelled upset when the reply is marked
  ``missing_empathy``, calm when the reply neither breaks that rule nor acknowledges anything
  (the only cases where the label tells the customer's state); other rows are left out.

Deterministic: the same files give the same artifact (lbfgs, fixed seed for the folds).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from kefu.nlp.data import digest
from kefu.nlp.features import char_ngrams
from kefu.norms.evaluate import Example, read_examples
from kefu.norms.learned import ARTIFACT, SEPARATOR
from kefu.norms.lexicon import load
from kefu.norms.text import fold

ROOT = Path(__file__).resolve().parents[3]
OWN_FILES = ("tests/norms/data/norms-check.jsonl", "tests/norms/data/norms-holdout.jsonl")
N_MIN, N_MAX = 1, 3
C = 10.0
SEED = 20
# blame_shifting blocks sending: its head speaks only when quite sure (5-fold: P 0.98).
THRESHOLDS = {"blame": 0.7, "upset": 0.5}


def blame_rows(examples: Sequence[Example]) -> tuple[list[str], list[bool]]:
    return [fold(e.reply).text for e in examples], [
        "blame_shifting" in e.violations for e in examples
    ]


def upset_rows(examples: Sequence[Example]) -> tuple[list[str], list[bool]]:
    acknowledgement = load()["missing_empathy"].regex("acknowledgement")
    texts, labels = [], []
    for e in examples:
        last = e.context.last_customer
        if not last:
            continue
        if "missing_empathy" in e.violations:
            labels.append(True)
        elif not acknowledgement.search(fold(e.reply).text):
            labels.append(False)
        else:
            continue  # an acknowledged turn: the label says nothing of the customer
        texts.append(fold(last).text)
    return texts, labels


ROWS: dict[str, Callable[[Sequence[Example]], tuple[list[str], list[bool]]]] = {
    "blame": blame_rows,
    "upset": upset_rows,
}


def _analyzer(text: str) -> list[str]:
    return char_ngrams(text, N_MIN, N_MAX)


def fit(texts: Sequence[str], labels: Sequence[bool]) -> tuple[Any, Any]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(analyzer=_analyzer, sublinear_tf=True)
    matrix = vectorizer.fit_transform(texts)
    model = LogisticRegression(C=C, class_weight="balanced", max_iter=5000, random_state=SEED)
    model.fit(matrix, np.array(labels))
    return vectorizer, model


def cross_validate(
    texts: Sequence[str], labels: Sequence[bool], threshold: float
) -> dict[str, Any]:
    """5-fold out-of-fold precision and recall of a head at its threshold."""
    from sklearn.model_selection import StratifiedKFold

    y = np.array(labels)
    out_of_fold = np.zeros(len(y))
    for train, test in StratifiedKFold(5, shuffle=True, random_state=SEED).split(texts, y):
        vectorizer, model = fit([texts[i] for i in train], y[train])
        scores = model.predict_proba(vectorizer.transform([texts[i] for i in test]))[:, 1]
        out_of_fold[test] = scores
    said = out_of_fold > threshold
    tp = int((said & y).sum())
    return {
        "n": len(y),
        "positives": int(y.sum()),
        "precision": round(tp / max(1, int(said.sum())), 4),
        "recall": round(tp / max(1, int(y.sum())), 4),
    }


def training_files(data: Path) -> list[Path]:
    return [data / "norms-dev.jsonl", *(ROOT / name for name in OWN_FILES)]


def half_a(example: Example) -> bool:
    """The holdout's half A (odd ids); half B stays unseen by the heads, as by the rules."""
    return not example.id.startswith("hold-") or int(example.id.rsplit("-", 1)[1]) % 2 == 1


def train(data: Path, out: Path = ARTIFACT) -> dict[str, Any]:
    files = training_files(data)
    examples = [e for path in files for e in read_examples(path) if half_a(e)]
    arrays: dict[str, np.ndarray] = {}
    manifest: dict[str, Any] = {
        "version": 1,
        "files": {path.name: digest(path) for path in files},
        "heads": {},
    }
    for name, rows in ROWS.items():
        texts, labels = rows(examples)
        vectorizer, model = fit(texts, labels)
        vocabulary = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get)
        arrays[f"{name}_vocab"] = np.array(SEPARATOR.join(vocabulary))
        arrays[f"{name}_idf"] = vectorizer.idf_.astype(np.float32)
        arrays[f"{name}_weights"] = model.coef_[0].astype(np.float32)
        manifest["heads"][name] = {
            "n_min": N_MIN,
            "n_max": N_MAX,
            "bias": float(model.intercept_[0]),
            "threshold": THRESHOLDS[name],
            "rows": len(labels),
            "positives": int(sum(labels)),
            "cv": cross_validate(texts, labels, THRESHOLDS[name]),
        }
    arrays["manifest"] = np.array(json.dumps(manifest, ensure_ascii=False, sort_keys=True))
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **arrays)  # type: ignore[arg-type]
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ARTIFACT)
    args = parser.parse_args()
    manifest = train(args.data, args.out)
    print(json.dumps(manifest, ensure_ascii=False, indent=1))  # noqa: T201


if __name__ == "__main__":
    main()
