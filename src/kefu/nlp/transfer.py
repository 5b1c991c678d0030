"""Category rows from the knowledge base: a team's articles say what each topic sounds like.

Every sentence of an article (``kb/*.md``, front matter with ``category``) and its title
become rows of that category, and so do the customer questions of ``kb-questions-dev.jsonl``
that an article answers. ``scripts/ship_training_data.py`` writes them to the shipped
``training/kb-categories.jsonl``, which the category head reads at a small weight
(``Recipe.kb_weight``). Training only.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from kefu.nlp.data import DataError, Labelled

_SENTENCE_END = re.compile(r"[。！？!?\n]")
MIN_SENTENCE = 6


def read_kb_categories(data_dir: Path) -> list[Labelled]:
    """The title and every sentence of each KB article, labelled with the article's category."""
    rows = []
    for article in sorted((data_dir / "kb").glob("*.md")):
        parts = article.read_text(encoding="utf-8").split("---", 2)
        if len(parts) < 3:
            raise DataError(f"{article}: no front matter")
        fields = dict(line.split(":", 1) for line in parts[1].strip().splitlines() if ":" in line)
        category = fields.get("category", "").strip()
        if not category:
            raise DataError(f"{article}: front matter lacks category")
        rows.append(Labelled(fields.get("title", "").strip(), category))
        rows += [
            Labelled(s.strip(), category)
            for s in _SENTENCE_END.split(parts[2])
            if len(s.strip()) >= MIN_SENTENCE
        ]
    return [r for r in rows if r.text]


def read_kb_question_categories(data_dir: Path) -> list[Labelled]:
    """The customer questions of ``kb-questions-dev.jsonl`` that have an answering article,
    labelled with that article's category: customer wording for the policy topics."""
    categories = {}
    for article in sorted((data_dir / "kb").glob("*.md")):
        fields = dict(
            line.split(":", 1)
            for line in article.read_text(encoding="utf-8").split("---", 2)[1].splitlines()
            if ":" in line
        )
        categories[fields.get("id", "").strip()] = fields.get("category", "").strip()
    path = data_dir / "kb-questions-dev.jsonl"
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            question = json.loads(line)
            category = categories.get(question.get("article") or "")
            if category and question.get("text"):
                rows.append(Labelled(question["text"], category))
    return rows
