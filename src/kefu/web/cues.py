"""What analysis read in a customer message, as the ticket page shows it: the chips (emotion,
intent, category, risks, priority, each with its reason for the hover) and the message's text
with the words that raised a risk or the priority marked (``<mark class="cue">``).

Analysis keeps the words as a span of the text it read — normalised: full-width punctuation
made half-width, lower case, traditional characters simplified, phone and order numbers
masked (nlp/normalize.py) — so a span is found again in the text the customer wrote by its
offsets when they still fit, else by its words, else by a folded search that skips what
normalising changed. A span not found marks nothing; its reason still shows on the chip.
The folded search compares characters (``_search``): a span of customer text never becomes a
regular expression, nor stays in a cache of the process once the page is built.

The marked text is built piece by piece with ``markupsafe.escape``: the customer's words are
always escaped, only kefu's own ``<mark>`` tags are markup.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from kefu.nlp.normalize import simplify

_MASK = re.compile(r"<[a-z]+>")  # a masked number in a span: <phone>, <order>, <num> …
_MASKED_CHARS = 64  # a masked number stands for 1 to this many characters (not a line break)


@dataclass(frozen=True)
class Chip:
    kind: str  # a kind of web/labels.py: emotion, intent, category, risk, priority
    code: str
    reason: str = ""  # why, in analysis's words (Chinese)
    confidence: float | None = None  # the model's probability of this label
    title: str = ""  # what the hover says: the reason, the confidence

    @property
    def css(self) -> str:
        return "risk" if self.kind == "risk" else f"{self.kind}-{self.code}"


@dataclass(frozen=True)
class Cue:
    start: int
    end: int
    reasons: tuple[str, ...]
    risk: bool  # raised a risk (marked as such), not only the priority


def chips(analysis: dict[str, Any] | None, confidence_word: str = "置信度") -> list[Chip]:
    """The chips of one analysed message, in the order agents read them; ``confidence_word``
    is how the page's language says 置信度."""
    if not analysis:
        return []
    reasons = {e.get("field"): e.get("reason", "") for e in analysis.get("explanations") or ()}
    confidence = analysis.get("confidence") or {}
    found = []
    for kind in ("emotion", "intent", "category"):
        if analysis.get(kind):
            sure = confidence.get(kind)
            said = f"{confidence_word} {round(sure * 100)}%" if sure is not None else ""
            found.append(Chip(kind, str(analysis[kind]), confidence=sure, title=said))
    for risk in analysis.get("risks") or ():
        why = reasons.get(f"risks.{risk}", "")
        found.append(Chip("risk", str(risk), why, title=why))
    if analysis.get("priority"):
        why = reasons.get("priority", "")
        found.append(Chip("priority", str(analysis["priority"]), why, title=why))
    return found


def cues(text: str, analysis: dict[str, Any] | None) -> list[Cue]:
    """The spans of ``text`` that explanations point at, overlapping ones joined, in order."""
    found: list[Cue] = []
    for e in (analysis or {}).get("explanations") or ():
        span = e.get("span") or ""
        where = locate(text, span, e.get("start", -1), e.get("end", -1)) if span else None
        if where is not None:
            risk = str(e.get("field", "")).startswith("risks.")
            found.append(Cue(where[0], where[1], (str(e.get("reason", "")),), risk))
    found.sort(key=lambda c: (c.start, -c.end))
    joined: list[Cue] = []
    for cue in found:
        last = joined[-1] if joined else None
        if last is not None and cue.start < last.end:
            reasons = last.reasons + tuple(r for r in cue.reasons if r not in last.reasons)
            joined[-1] = Cue(last.start, max(last.end, cue.end), reasons, last.risk or cue.risk)
        else:
            joined.append(cue)
    return joined


def marked(text: str, analysis: dict[str, Any] | None) -> Markup:
    """The text, escaped, with its cues in ``<mark class="cue">`` (the reasons as the title)."""
    pieces: list[str] = []
    at = 0
    for cue in cues(text, analysis):
        kind = "cue cue-negative" if cue.risk else "cue"
        title = escape("；".join(cue.reasons))
        pieces += (escape(text[at : cue.start]), f'<mark class="{kind}" title="{title}">')
        pieces += (escape(text[cue.start : cue.end]), "</mark>")
        at = cue.end
    pieces.append(escape(text[at:]))
    return Markup("".join(pieces))  # noqa: S704 - every piece of the customer's is escaped


def locate(text: str, span: str, start: int, end: int) -> tuple[int, int] | None:
    """Where ``span`` (from the normalised text, at ``start``:``end`` there) is in ``text``."""
    if 0 <= start < end <= len(text) and text[start:end] == span:
        return start, end
    at = text.find(span)
    if at >= 0:
        return at, at + len(span)
    pieces = _pieces(span)
    if not pieces:
        return None
    simple = simplify(text)
    if len(simple) == len(text):  # one character for one: positions carry over
        return _search(simple, pieces)
    folded, origin = _fold(text)
    match = _search(folded, pieces)
    if match is None:
        return None
    return origin[match[0]], origin[match[1] - 1] + 1


def _pieces(span: str) -> list[str]:
    """The span's words between its masked numbers, without spaces."""
    pieces = ("".join(ch for ch in p if not ch.isspace()) for p in _MASK.split(simplify(span)))
    return [piece for piece in pieces if piece]


def _search(text: str, pieces: list[str]) -> tuple[int, int] | None:
    """The first place of ``text`` where the pieces follow each other — spaces allowed between
    a piece's characters, 1 to 64 characters other than a line break between two pieces (a
    masked number) — as (start, end); the nearest next piece is taken first."""
    for start in range(len(text)):
        end = _piece_at(text, start, pieces[0])
        if end is not None:
            end = _rest_at(text, end, pieces, 1)
            if end is not None:
                return start, end
    return None


def _rest_at(text: str, at: int, pieces: list[str], index: int) -> int | None:
    if index == len(pieces):
        return at
    for gap in range(1, _MASKED_CHARS + 1):
        if at + gap > len(text) or text[at + gap - 1] == "\n":
            return None
        end = _piece_at(text, at + gap, pieces[index])
        if end is not None:
            end = _rest_at(text, end, pieces, index + 1)
            if end is not None:
                return end
    return None


def _piece_at(text: str, at: int, piece: str) -> int | None:
    """Where ``piece`` ends if it starts at ``at`` (spaces allowed between its characters)."""
    for i, ch in enumerate(piece):
        if i:
            while at < len(text) and text[at].isspace():
                at += 1
        if at >= len(text) or text[at] != ch:
            return None
        at += 1
    return at


def _fold(text: str) -> tuple[str, list[int]]:
    """``text`` as normalising reads it, without its spaces, and for each character of the
    result the index of the character of ``text`` it came from."""
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        for part in unicodedata.normalize("NFKC", ch).lower():
            if not part.isspace():
                chars.append(part)
                origin.append(i)
    folded = "".join(chars)
    simplified = simplify(folded)
    return (simplified if len(simplified) == len(folded) else folded), origin
