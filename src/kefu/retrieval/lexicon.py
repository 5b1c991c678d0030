"""Colloquial, regional and misspelled forms read as the words articles use (lexicon.toml).

``expand(text)`` returns the article-side words a normalised text says in other words: a form
of two characters or more where it appears in the text, a one-character form only where jieba
reads it as a word of its own. Search adds these words to what both sides are indexed as, so a
question with 退钱 finds an article that says 退款, and the reverse.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from kefu.nlp.normalize import simplify

LEXICON = Path(__file__).with_name("lexicon.toml")


@dataclass(frozen=True)
class Lexicon:
    pattern: re.Pattern[str] | None  # the forms of two characters or more, longest first
    meanings: dict[str, tuple[str, ...]]  # form → the article words it stands for
    single: dict[str, tuple[str, ...]]  # one-character forms, matched as whole words

    def expand(self, text: str, words: list[str]) -> list[str]:
        out: list[str] = []
        if self.pattern is not None:
            for match in self.pattern.finditer(text):
                out.extend(self.meanings[match.group()])
        for word in words:
            out.extend(self.single.get(word, ()))
        return out


def build(groups: dict[str, list[str]]) -> Lexicon:
    meanings: dict[str, list[str]] = {}
    for canonical, forms in groups.items():
        canonical = simplify(canonical)
        for form in {simplify(f) for f in forms} - {canonical}:
            meanings.setdefault(form, []).append(canonical)
    multi = sorted((f for f in meanings if len(f) > 1), key=len, reverse=True)
    return Lexicon(
        pattern=re.compile("|".join(map(re.escape, multi))) if multi else None,
        meanings={f: tuple(c) for f, c in meanings.items()},
        single={f: tuple(c) for f, c in meanings.items() if len(f) == 1},
    )


@lru_cache(maxsize=1)
def default() -> Lexicon:
    with LEXICON.open("rb") as source:
        return build(tomllib.load(source)["groups"])
