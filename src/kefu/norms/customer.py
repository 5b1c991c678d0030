"""How the checker reads the customer's side of the conversation: is the last customer turn
negative (for missing_empathy and minimising), and which words did the customer use
themselves (a term the customer wrote is no jargon to them; their own 不能开机 is no refusal).

The customer is upset when their emotion is angry, anxious or disappointed (the caller's stored
emotion, else the analysis engine's reading), or when the checker's learned ``upset`` head
(learned.py) reads the turn as needing an acknowledgement: a loss, a failure, a wait or a worry
told calmly, which the engine, trained on the triage conventions, reads as neutral.
"""

from __future__ import annotations

import re
from functools import lru_cache

from kefu.norms import learned
from kefu.norms.model import NEGATIVE_EMOTIONS, ReplyContext
from kefu.norms.text import fold

# 能不能延期 asks; the 不能 inside it is no problem the customer has.
_QUESTION_FORMS = re.compile(r"(.)不\1")


def customer_upset(context: ReplyContext) -> bool:
    last = context.last_customer
    if last is None:
        return False
    return _upset(last, context.customer_emotion)


@lru_cache(maxsize=512)
def _upset(last: str, emotion: str | None) -> bool:
    if (emotion if emotion is not None else customer_emotion(last)) in NEGATIVE_EMOTIONS:
        return True
    return learned.says("upset", folded_customer(last))


@lru_cache(maxsize=512)
def folded_customer(text: str) -> str:
    return fold(text).text


def customer_said(context: ReplyContext, phrase: str) -> bool:
    """Whether the customer wrote ``phrase`` (folded) in a statement of theirs, not as the
    negative half of a question (能不能, 可不可以)."""
    return any(
        phrase in _statements(turn.text) for turn in context.turns if turn.role == "customer"
    )


@lru_cache(maxsize=512)
def _statements(text: str) -> str:
    return _QUESTION_FORMS.sub(r"\1", folded_customer(text))


@lru_cache(maxsize=512)
def customer_emotion(text: str) -> str:
    """The emotion kefu's analysis engine reads in a customer message (cached: the composer
    checks the same conversation again at every pause in typing)."""
    from kefu.nlp.analysis import analyze

    return analyze(text).emotion.value


def clear_caches() -> None:
    """Forget the customer turns seen (benchmarks time the cold path with it)."""
    for cached in (_upset, folded_customer, _statements, customer_emotion):
        cached.cache_clear()
