"""Reading the training and evaluation files (the shared development data during development).

Only training and evaluation read these; the installed product never does. Every reader
returns raw text: normalization belongs to the code that trains or predicts.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REVIEW_CORPORA = ("waimai_10k", "online_shopping_10_cats", "chnsenticorp_htl", "chnsenticorp")


class DataError(ValueError):
    """A data file is missing, unreadable or lacks a column."""


@dataclass(frozen=True)
class Labelled:
    text: str
    label: str


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"cannot read {path}: {e}") from e
    rows = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"{path}:{number}: not JSON ({e.msg})") from e
        if not isinstance(row, dict):
            raise DataError(f"{path}:{number}: expected a JSON object")
        rows.append(row)
    return rows


def read_csv(path: Path, text_col: str, label_col: str) -> list[Labelled]:
    """Rows of a CSV with a text column and a label column; rows without text are skipped."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            columns = reader.fieldnames or []
            missing = [c for c in (text_col, label_col) if c not in columns]
            if missing:
                raise DataError(
                    f"{path}: no column {', '.join(missing)} (columns: {', '.join(columns)})"
                )
            return [
                Labelled(row[text_col] or "", (row[label_col] or "").strip())
                for row in reader
                if (row[text_col] or "").strip()
            ]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise DataError(f"cannot read {path}: {e}") from e


def review_file(data_dir: Path, corpus: str, part: str = "train") -> Path:
    return data_dir / "public" / "sentiment" / f"{corpus}.{part}.csv"


def read_reviews(data_dir: Path, corpus: str, part: str = "train") -> list[Labelled]:
    return read_csv(review_file(data_dir, corpus, part), "review", "label")


def read_chat_sentiment(data_dir: Path) -> list[Labelled]:
    """xs_chat: ``positive,`` / ``negative,`` + word-segmented text; the spaces are removed."""
    path = data_dir / "public" / "sentiment" / "xs_chat.train.txt"
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        label, _, text = line.partition(",")
        text = text.replace(" ", "")
        if label in ("positive", "negative") and text:
            rows.append(Labelled(text, "1" if label == "positive" else "0"))
    return rows
