#!/usr/bin/env python3
"""Copy kefu's own labelled training messages from the development data into the package.

``src/kefu/nlp/training/`` ships with kefu so that ``kefu train --extra FILE`` can retrain the
triage heads on a team's own messages without the development data. It holds only what was
written for kefu (never the public corpora):

- ``triage-shop.jsonl`` and ``triage-industries.jsonl``: copies of ``triage-dev.jsonl`` and
  ``triage-dev-industries.jsonl``;
- ``kb-categories.jsonl``: the demo knowledge base's titles and sentences, and the customer
  questions of ``kb-questions-dev.jsonl``, each labelled with its article's category (the
  category head's light transfer rows; ``source`` is ``kb`` or ``kbq``).

``kefu-written.jsonl`` is written in the package itself and not copied from anywhere.

    .venv/bin/python scripts/ship_training_data.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from kefu.nlp.train import SHIPPED_DIR
from kefu.nlp.transfer import read_kb_categories, read_kb_question_categories

COPIES = {
    "triage-dev.jsonl": "triage-shop.jsonl",
    "triage-dev-industries.jsonl": "triage-industries.jsonl",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    args = parser.parse_args()
    for source, target in COPIES.items():
        shutil.copyfile(args.data / source, SHIPPED_DIR / target)
        print(f"{source} → {SHIPPED_DIR / target}")
    rows = [
        {"text": r.text, "category": r.label, "source": "kb"} for r in read_kb_categories(args.data)
    ]
    rows += [
        {"text": r.text, "category": r.label, "source": "kbq"}
        for r in read_kb_question_categories(args.data)
    ]
    path = SHIPPED_DIR / "kb-categories.jsonl"
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    print(f"{len(rows)} category rows → {path}")


if __name__ == "__main__":
    main()
