"""The folded form of a reply the rules read, with a map back to the original characters.

Folding is kefu's normaliser without masking: NFKC (full-width ！，３ → !,3), lower case, and
traditional → simplified (OpenCC). Every folded character remembers which original character
it came from, so a finding's span always points into the text the agent typed.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from kefu.nlp.normalize import simplify

_FOLD_CACHE: dict[str, str] = {}


@dataclass(frozen=True)
class Folded:
    original: str
    text: str  # folded: what the rules match
    origin: tuple[int, ...]  # origin[i]: index in ``original`` of folded character i

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original [start, end) of folded [start, end)."""
        if not self.origin:
            return 0, 0
        first = self.origin[min(start, len(self.origin) - 1)]
        last = self.origin[min(max(end - 1, start), len(self.origin) - 1)] + 1
        return first, last


def fold(original: str) -> Folded:
    pieces: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(original):
        if char.isascii() or "\u4e00" <= char <= "\u9fff":
            piece = char.lower()
        elif "\ud800" <= char <= "\udfff":  # a lone surrogate: one character nothing matches
            piece = "\ufffd"
        else:
            piece = unicodedata.normalize("NFKC", char).lower()
        pieces.append(piece)
        origin.extend([index] * len(piece))
    nfkc = "".join(pieces)
    simplified = simplify(nfkc) if not nfkc.isascii() else nfkc
    if len(simplified) != len(nfkc):  # a phrase conversion changed the length: go char by char
        simplified = "".join(_fold_char(c) for c in nfkc)
    return Folded(original=original, text=simplified, origin=tuple(origin))


def _fold_char(char: str) -> str:
    folded = _FOLD_CACHE.get(char)
    if folded is None:
        folded = simplify(char)
        if len(folded) != 1:
            folded = char
        _FOLD_CACHE[char] = folded
    return folded
