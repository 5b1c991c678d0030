"""What analysis read in a customer message, as the ticket page shows it: the chips (emotion,
intent, category, risks, priority, each with its reason for the hover) and the message's text
with the words that raised a risk or the priority marked (``<mark class="cue">``).

Analysis keeps the words as a span of the text it read — normalised: full-width punctuation
made half-width, lower case, traditional characters simplified, phone and order numbers
masked (nlp/normalize.py) — so a span is found again in the text the customer wrote by its
offsets when they still fit, else by its words, else by a folded search that skips what
normalising changed. A span not found marks nothing; its reason still shows on the chip.

The marked text is built piece by piece with ``markupsafe.escape``: the customer's words are
always escaped, only kefu's own ``<mark>`` tags are markup.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from markupsafe import Markup, escape

from kefu.nlp.normalize import simplify

_MASK = re.compile(r"<[a-z]+>")  # a masked number in a span: <phone>, <order>, <num> …
_MASKED_CHARS = r".{1,64}?"


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
    pattern = _pattern(span)
    if pattern is None:
        return None
    simple = simplify(text)
    if len(simple) == len(text):  # one character for one: positions carry over
        match = pattern.search(simple)
        return (match.start(), match.end()) if match and match.end() > match.start() else None
    folded, origin = _fold(text)
    match = pattern.search(folded)
    if match is None or match.end() == match.start():
        return None
    return origin[match.start()], origin[match.end() - 1] + 1


@lru_cache(maxsize=1024)
def _pattern(span: str) -> re.Pattern[str] | None:
    """The span's words as a search: spaces optional, a masked number any few characters."""
    pieces = [
        r"\s*".join(re.escape(ch) for ch in piece if not ch.isspace())
        for piece in _MASK.split(simplify(span))
    ]
    pieces = [p for p in pieces if p]
    return re.compile(_MASKED_CHARS.join(pieces)) if pieces else None


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
