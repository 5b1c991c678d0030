"""How the checker reads the customer's side of the conversation: is the last customer turn
negative (for missing_empathy and minimising), and which words did the customer use
themselves (a term the customer wrote is no jargon to them; their own 不能开机 is no refusal).

The customer is upset when their emotion is angry, anxious or disappointed (the caller's stored
emotion, else the analysis engine's reading), or when the checker's learned ``upset`` head
(learned.py) reads the turn as needing an acknowledgement: a loss, a failure, a wait or a worry
told calmly, which the engine, trained on the triage conventions, reads as neutral.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

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


T = TypeVar("T")


class _ByDigest(Generic[T]):
    """A bounded memo of a reading of a customer's text, keyed by the text's SHA-256: it keeps
    the answer (a label, a yes or no), never the text (ASVS V14.2.2: a server process holds no
    customer words beyond the request that brought them)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.answers: OrderedDict[bytes, T] = OrderedDict()
        self.lock = threading.Lock()  # handlers check replies on several threads

    def get(self, key: str, compute: Callable[[], T]) -> T:
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()
        with self.lock:
            if digest in self.answers:
                self.answers.move_to_end(digest)
                return self.answers[digest]
        answer = compute()  # outside the lock: the analysis engine takes its time
        with self.lock:
            self.answers[digest] = answer
            if len(self.answers) > self.size:
                self.answers.popitem(last=False)
        return answer

    def clear(self) -> None:
        with self.lock:
            self.answers.clear()


_upset_seen: _ByDigest[bool] = _ByDigest(512)
_emotion_seen: _ByDigest[str] = _ByDigest(512)


def _upset(last: str, emotion: str | None) -> bool:
    return _upset_seen.get(f"{emotion}\n{last}", lambda: _read_upset(last, emotion))


def _read_upset(last: str, emotion: str | None) -> bool:
    if (emotion if emotion is not None else customer_emotion(last)) in NEGATIVE_EMOTIONS:
        return True
    return learned.says("upset", folded_customer(last))


def folded_customer(text: str) -> str:
    return fold(text).text


def customer_said(context: ReplyContext, phrase: str) -> bool:
    """Whether the customer wrote ``phrase`` (folded) in a statement of theirs, not as the
    negative half of a question (能不能, 可不可以)."""
    return any(
        phrase in _statements(turn.text) for turn in context.turns if turn.role == "customer"
    )


def _statements(text: str) -> str:
    return _QUESTION_FORMS.sub(r"\1", folded_customer(text))


def customer_emotion(text: str) -> str:
    """The emotion kefu's analysis engine reads in a customer message (remembered by digest:
    the composer checks the same conversation again at every pause in typing)."""
    from kefu.nlp.analysis import analyze

    return _emotion_seen.get(text, lambda: analyze(text).emotion.value)


def clear_caches() -> None:
    """Forget the customer turns seen (benchmarks time the cold path with it)."""
    _upset_seen.clear()
    _emotion_seen.clear()
