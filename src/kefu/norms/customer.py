"""How the checker reads the customer's side of the conversation: is the last customer turn
negative (for missing_empathy and minimising), and which words did the customer use
themselves (a term the customer wrote is no jargon to them; their own 不能开机 is no refusal).

The customer is upset when the caller says so (the stored emotion), else when kefu's analysis
engine reads the turn as angry, anxious or disappointed, or when
the turn carries a cue of loss, failure or worry the engine may read as calm (``negative_cues``
in rules.toml). A cue asked about as a worry (会不会坏) or inside a product name (延误险) is no
loss suffered.
"""

from __future__ import annotations

import re
from functools import lru_cache

from kefu.norms.lexicon import inside_any, load
from kefu.norms.model import NEGATIVE_EMOTIONS, ReplyContext
from kefu.norms.text import fold

# 会不会坏, 能保证不摔坏吗: a worry asked about, not a loss suffered.
_HYPOTHETICAL = re.compile(r"不|否|会不会|能不能|怕")
# 能不能延期 asks; the 不能 inside it is no problem the customer has.
_QUESTION_FORMS = re.compile(r"(.)不\1")


def customer_upset(context: ReplyContext) -> bool:
    last = context.last_customer
    if last is None:
        return False
    return _upset(last, context.customer_emotion)


@lru_cache(maxsize=512)
def _upset(last: str, emotion: str | None) -> bool:
    if emotion is not None:
        if emotion in NEGATIVE_EMOTIONS:
            return True
    elif customer_emotion(last) in NEGATIVE_EMOTIONS:
        return True
    return has_negative_cue(folded_customer(last))


def has_negative_cue(text: str) -> bool:
    """Whether the folded customer turn carries a cue of loss, failure, anger or worry."""
    words = load()["missing_empathy"]
    harmless = tuple(words.extra["negative_cue_harmless"])
    for cue in words.regex("negative_cues").finditer(text):
        if _HYPOTHETICAL.search(text, max(0, cue.start() - 3), cue.start()):
            continue
        if (
            "会" in text[max(0, cue.start() - 2) : cue.start()]
            and "吗" in text[cue.end() : cue.end() + 4]
        ):
            continue  # 会过敏吗: a worry asked about
        if inside_any(text, cue.start(), cue.end(), harmless):
            continue
        return True
    return False


@lru_cache(maxsize=512)
def folded_customer(text: str) -> str:
    return fold(text).text


def customer_said(context: ReplyContext, phrase: str) -> bool:
    """Whether the customer wrote ``phrase`` (folded) in a statement of theirs, not as the
    negative half of a question (能不能, 可不可以)."""
    for turn in context.turns:
        if turn.role == "customer":
            text = _QUESTION_FORMS.sub(r"\1", folded_customer(turn.text))
            if phrase in text:
                return True
    return False


@lru_cache(maxsize=512)
def customer_reading(text: str) -> tuple[str, str]:
    """The emotion and sentiment kefu's analysis engine reads in a customer message (cached:
    the composer checks the same conversation again at every pause in typing)."""
    from kefu.nlp.analysis import analyze

    analysis = analyze(text)
    return analysis.emotion.value, analysis.sentiment.value


def customer_emotion(text: str) -> str:
    """The emotion kefu's analysis engine reads in a customer message."""
    return customer_reading(text)[0]


def clear_caches() -> None:
    """Forget the customer turns seen (benchmarks time the cold path with it)."""
    for cached in (_upset, folded_customer, customer_reading):
        cached.cache_clear()
