"""Word vectors for search, learned from public Chinese text (``python -m kefu.retrieval.train_vectors``).

Counts which words appear near which (±4 words) in the public corpora of ``../shared/data/public``
(customer-service dialogues and intents, shopping, delivery and hotel reviews, question pairs)
and the development messages, weighs the counts by positive pointwise mutual information and
keeps the strongest dimensions of their SVD: words used in the same company get close vectors
(内裤 and 内衣, 上楼 and 搬运). No knowledge-base question is read. Writes
``models/kb-word-vectors.npz`` (the commonest words, float16).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from kefu.retrieval import vectors
from kefu.retrieval.text import normalize, words

WINDOW = 4
MIN_COUNT = 5
MAX_WORDS = 40_000
DIMENSIONS = 96
csv.field_size_limit(10_000_000)


def _csv(path: Path, *columns: str) -> Iterator[str]:
    with path.open(encoding="utf-8-sig", newline="") as source:
        for row in csv.DictReader(source):
            for column in columns:
                if row.get(column):
                    yield row[column]


def _jsonl(path: Path, *keys: str) -> Iterator[str]:
    with path.open(encoding="utf-8") as source:
        for line in source:
            if line.strip():
                row = json.loads(line)
                for key in keys:
                    if isinstance(row.get(key), str):
                        yield row[key]


def texts(data: Path) -> Iterator[str]:
    public = data / "public"
    yield from _jsonl(public / "intent" / "cic.train.json", "sentence")
    yield from _jsonl(public / "intent" / "cic.dev.json", "sentence")
    for dialogue in json.loads((public / "dialogue" / "stc3.train.json").read_text("utf-8")):
        for turn in dialogue["turns"]:
            yield from turn["utterances"]
    yield from _csv(public / "sentiment" / "online_shopping_10_cats.train.csv", "review")
    yield from _csv(public / "sentiment" / "waimai_10k.train.csv", "review")
    yield from _csv(public / "sentiment" / "chnsenticorp_htl.train.csv", "review")
    for line in (public / "sentiment" / "xs_chat.train.txt").read_text("utf-8").splitlines():
        yield line.partition(",")[2].replace(" ", "")
    for line in (public / "matching" / "lcqmc.dev.txt").read_text("utf-8").splitlines():
        yield from line.split("\t")[:2]
    yield from _csv(public / "matching" / "bq.dev.csv", "sentence1", "sentence2")
    yield from _jsonl(data / "triage-dev.jsonl", "text")
    yield from _jsonl(data / "triage-dev-industries.jsonl", "text")
    yield from _jsonl(data / "norms-dev.jsonl", "reply")


def train(data: Path) -> vectors.WordVectors:
    from scipy import sparse
    from scipy.sparse.linalg import svds

    documents = [words(normalize(t)) for t in texts(data)]
    counts = Counter(w for d in documents for w in d)
    vocabulary = [w for w, c in counts.most_common(MAX_WORDS) if c >= MIN_COUNT]
    ids = {w: i for i, w in enumerate(vocabulary)}
    stream: list[int] = []
    for document in documents:
        stream.extend(ids.get(w, -1) for w in document)
        stream.extend([-1] * WINDOW)  # no pair crosses documents
    token = np.asarray(stream, np.int64)
    rows, cols = [], []
    for offset in range(1, WINDOW + 1):
        a, b = token[:-offset], token[offset:]
        keep = (a >= 0) & (b >= 0)
        rows += [a[keep], b[keep]]
        cols += [b[keep], a[keep]]
    r, c = np.concatenate(rows), np.concatenate(cols)
    n = len(vocabulary)
    pairs = sparse.coo_matrix((np.ones(len(r), np.float64), (r, c)), shape=(n, n)).tocsr()
    pairs.sum_duplicates()
    total = pairs.sum()
    word = np.asarray(pairs.sum(axis=1)).ravel()
    context = np.asarray(pairs.sum(axis=0)).ravel() ** 0.75
    context /= context.sum()
    coo = pairs.tocoo()
    pmi = np.log(coo.data * 1.0 / total / (word[coo.row] / total) / context[coo.col])
    keep = pmi > 0
    ppmi = sparse.csr_matrix((pmi[keep], (coo.row[keep], coo.col[keep])), shape=(n, n))
    u, s, _ = svds(ppmi, k=DIMENSIONS, random_state=0)
    matrix = u * np.sqrt(s)
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-9)
    _say(f"{len(documents)} texts, {int(sum(counts.values()))} words, {n} kept")
    return vectors.WordVectors(tuple(vocabulary), matrix.astype(np.float16))


def _say(*parts: object) -> None:
    sys.stdout.write(" ".join(str(p) for p in parts) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    args = parser.parse_args(argv)
    model = train(args.data)
    model.save(vectors.MODEL)
    for a, b in (("内裤", "内衣"), ("上楼", "搬运"), ("退钱", "退款"), ("快递", "物流")):
        _say(a, b, round(model.similarity(a, b), 3))
    _say(f"wrote {vectors.MODEL}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
