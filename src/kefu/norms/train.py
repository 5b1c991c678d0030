"""Trains the norms checker's learned heads (``learned.py``) and writes ``models/norms-learned.npz``.

    python -m kefu.norms.train --data ../shared/data   # writes the artifact, prints its manifest

Run from a checkout (it reads kefu's own files under tests/norms/data). The manifest records
the files' digests and each head's 5-fold out-of-fold figures.

Training files: the dev file ``norms-dev.jsonl`` of ``--data`` and kefu's own
``tests/norms/data/norms-check.jsonl``, ``norms-holdout.jsonl`` (both halves) and
``norms-fresh.jsonl`` (set C). Set D, ``norms-fresh2.jsonl``, is never trained on nor read to
choose anything: it estimates this round on replies nothing here has seen (HOLDOUT.md).

- ``upset``: the folded last customer turn, labelled upset when the reply is marked
  ``missing_empathy``, calm when the reply neither breaks that rule nor acknowledges anything
  (the only cases where the label tells the customer's state); other rows are left out.
- the rule heads (``RULE_HEADS``): the folded reply, labelled by whether the rule is in its
  violations. Each head's ``add`` and ``veto`` thresholds (learned.Head.judges) are chosen on
  its out-of-fold probabilities beside the rule's own pattern hits: the fewest errors (false
  alarms + misses) on the rows no rule was written from (holdout half B and set C), plus every
  row elsewhere that the head would make wrong. On those other rows the patterns were tuned
  until right, so a head's gain there is no evidence, but its harm is. A head that does not
  save ``MIN_GAIN`` errors so counted ships switched off.

Deterministic: the same files give the same artifact (lbfgs, fixed seed for the folds; the
rules' own hits are taken with the upset head being trained, not the shipped one).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from kefu.nlp.data import digest
from kefu.nlp.features import char_ngrams
from kefu.norms import learned
from kefu.norms.checker import check, clear_caches
from kefu.norms.evaluate import Example, read_examples
from kefu.norms.learned import ARTIFACT, NEVER_ADD, NEVER_VETO, SEPARATOR, Head, gram_key
from kefu.norms.lexicon import load
from kefu.norms.text import fold

ROOT = Path(__file__).resolve().parents[3]
OWN_FILES = (
    "tests/norms/data/norms-check.jsonl",
    "tests/norms/data/norms-holdout.jsonl",
    "tests/norms/data/norms-fresh.jsonl",
)
N_MIN, N_MAX = 1, 3
C = 10.0
SEED = 20
UPSET_THRESHOLD = 0.5
RULE_HEADS = {
    "refusal": "negative_refusal",
    "blame": "blame_shifting",
    "dismissive": "dismissive",
    "impolite": "impolite",
    "vague": "vague_commitment",
    "promise": "over_promise",
}
# The thresholds tried, least intervention first: a tie keeps the earlier.
ADDS = (NEVER_ADD, 0.9, 0.8, 0.7, 0.6, 0.5)
VETOES = (NEVER_VETO, 0.05, 0.1, 0.2, 0.3)
# A head is switched on only when it saves at least this many errors out of fold: one row's
# luck on ~260 untuned rows is no evidence.
MIN_GAIN = 2
# The informal 你 is mechanical (checker._judged keeps it whatever the head says), so the
# impolite head may add but not veto: the rule's hits here count the 你 too.
ADD_ONLY = frozenset({"impolite"})


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


def out_of_fold(texts: Sequence[str], labels: Sequence[bool]) -> np.ndarray:
    """Each row's probability from the head trained on the other 4 of 5 folds."""
    from sklearn.model_selection import StratifiedKFold

    y = np.array(labels)
    scores = np.zeros(len(y))
    for train, test in StratifiedKFold(5, shuffle=True, random_state=SEED).split(texts, y):
        vectorizer, model = fit([texts[i] for i in train], y[train])
        scores[test] = model.predict_proba(vectorizer.transform([texts[i] for i in test]))[:, 1]
    return scores


def figures(said: np.ndarray, truth: np.ndarray) -> dict[str, Any]:
    tp = int((said & truth).sum())
    return {
        "n": len(truth),
        "positives": int(truth.sum()),
        "precision": round(tp / max(1, int(said.sum())), 4),
        "recall": round(tp / max(1, int(truth.sum())), 4),
        "errors": int((said != truth).sum()),
    }


def combined(hits: np.ndarray, scores: np.ndarray, add: float, veto: float) -> np.ndarray:
    """learned.Head.judges over arrays: the rule stands where the patterns hit and the head is
    not below ``veto``, or where they did not and the head is above ``add``."""
    kept = hits & ((veto <= NEVER_VETO) | (scores >= veto))
    added = ~hits & (add < 1.0) & (scores > add)
    return kept | added


def cost(hits: np.ndarray, said: np.ndarray, truth: np.ndarray, untuned: np.ndarray) -> int:
    """Errors on the untuned rows, plus the rows elsewhere the head made wrong: the patterns
    were tuned until right on those, so a gain there is no evidence, but a harm is."""
    harmed = (said != truth) & (hits == truth)
    return int((said != truth)[untuned].sum()) + int(harmed[~untuned].sum())


def choose(
    hits: np.ndarray,
    scores: np.ndarray,
    truth: np.ndarray,
    untuned: np.ndarray,
    vetoes: Sequence[float] = VETOES,
) -> tuple[float, float]:
    """The (add, veto) of the lowest ``cost``, least intervention on ties; switched off
    unless that saves ``MIN_GAIN`` errors over the patterns alone."""
    off = (NEVER_ADD, NEVER_VETO)
    alone = cost(hits, hits, truth, untuned)
    best, fewest = off, alone
    for add in ADDS:
        for veto in vetoes:
            errors = cost(hits, combined(hits, scores, add, veto), truth, untuned)
            if errors < fewest:
                best, fewest = (add, veto), errors
    return best if alone - fewest >= MIN_GAIN else off


def training_files(data: Path) -> list[Path]:
    return [data / "norms-dev.jsonl", *(ROOT / name for name in OWN_FILES)]


def untuned(example: Example) -> bool:
    """Rows no rule was written from: holdout half B (even ids) and set C."""
    number = example.id.rsplit("-", 1)[-1]
    return example.id.startswith("fresh-") or (
        example.id.startswith("hold-") and number.isdigit() and int(number) % 2 == 0
    )


def head_of(name: str, vectorizer: Any, model: Any, **options: Any) -> tuple[Head, dict[str, Any]]:
    """The fitted model as the checker reads it, and the arrays that store it."""
    vocabulary = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get)
    idf = vectorizer.idf_.astype(np.float32)
    weights = model.coef_[0].astype(np.float32)
    keys = np.array([gram_key(gram) for gram in vocabulary], dtype=np.int64)
    order = np.argsort(keys)
    head = Head(
        name=name,
        n_max=N_MAX,
        keys=keys[order],
        idf=idf.astype(np.float64)[order],
        weights=weights.astype(np.float64)[order],
        bias=float(model.intercept_[0]),
        **options,
    )
    arrays = {
        f"{name}_vocab": np.array(SEPARATOR.join(vocabulary)),
        f"{name}_idf": idf,
        f"{name}_weights": weights,
    }
    return head, arrays


def train(data: Path, out: Path = ARTIFACT) -> dict[str, Any]:
    files = training_files(data)
    examples = [e for path in files for e in read_examples(path)]
    arrays: dict[str, np.ndarray] = {}
    manifest: dict[str, Any] = {
        "version": 2,
        "files": {path.name: digest(path) for path in files},
        "heads": {},
    }
    texts, labels = upset_rows(examples)
    upset, upset_arrays = head_of("upset", *fit(texts, labels), threshold=UPSET_THRESHOLD)
    arrays.update(upset_arrays)
    y = np.array(labels)
    manifest["heads"]["upset"] = {
        "n_min": N_MIN,
        "n_max": N_MAX,
        "bias": upset.bias,
        "threshold": UPSET_THRESHOLD,
        "cv": figures(out_of_fold(texts, labels) > UPSET_THRESHOLD, y),
    }
    with learned.using({"upset": upset}):  # the rules alone, with this upset head
        clear_caches()
        predicted = [{f.rule for f in check(e.reply, e.context)} for e in examples]
    clear_caches()
    replies = [fold(e.reply).text for e in examples]
    fresh = np.array([untuned(e) for e in examples])
    for name, rule in RULE_HEADS.items():
        truth = np.array([rule in e.violations for e in examples])
        hits = np.array([rule in p for p in predicted])
        scores = out_of_fold(replies, truth.tolist())
        vetoes = (NEVER_VETO,) if rule in ADD_ONLY else VETOES
        add, veto = choose(hits, scores, truth, fresh, vetoes)
        with_head = combined(hits, scores, add, veto)
        spec: dict[str, Any] = {"rule": rule, "add": add, "veto": veto}
        if (add, veto) == (NEVER_ADD, NEVER_VETO):
            spec["off"] = True  # its figures are kept, its weights not shipped
        else:
            head, head_arrays = head_of(
                name, *fit(replies, truth.tolist()), threshold=min(add, 1.0), rule=rule
            )
            arrays.update(head_arrays)
            spec.update(n_min=N_MIN, n_max=N_MAX, bias=head.bias, threshold=min(add, 1.0))
        manifest["heads"][name] = {
            **spec,
            "cv": {
                "all": {
                    "rule": figures(hits, truth),
                    "rule_and_head": figures(with_head, truth),
                },
                "untuned": {
                    "rule": figures(hits[fresh], truth[fresh]),
                    "rule_and_head": figures(with_head[fresh], truth[fresh]),
                },
            },
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
