"""A conversation's turns as the review reads them (``domain.qa.conversation``): each customer
turn with its emotion (the stored analysis, or kefu's analysis engine when there is none), each
agent turn with the norms checker's findings, checked as the agent's reply to the conversation
so far — the first reply for a greeting, the last for a closing, a reply to an upset customer
for empathy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from kefu.domain.qa.conversation import AGENT, CUSTOMER, Found, Turn
from kefu.norms.checker import check
from kefu.norms.model import ReplyContext
from kefu.norms.model import Turn as NormsTurn

CONTEXT_TURNS = 6  # the turns before a reply the checker reads (as the composer does)


@dataclass(frozen=True)
class RawTurn:
    role: str  # CUSTOMER or AGENT
    text: str
    at: datetime
    emotion: str | None = None  # a customer turn's stored analysis, when there is one
    message_id: int | None = None


def read_turns(raw: Sequence[RawTurn], *, channel: str = "chat") -> tuple[Turn, ...]:
    agents = [i for i, t in enumerate(raw) if t.role == AGENT]
    first, last = (agents[0], agents[-1]) if agents else (-1, -1)
    turns: list[Turn] = []
    customer_emotion: str | None = None
    for i, t in enumerate(raw):
        if t.role == CUSTOMER:
            customer_emotion = t.emotion or _emotion(t.text, raw[:i])
            turns.append(Turn(CUSTOMER, t.text, t.at, emotion=customer_emotion,
                              message_id=t.message_id))  # fmt: skip
            continue
        before = tuple(NormsTurn(r.role, r.text) for r in raw[max(0, i - CONTEXT_TURNS) : i])
        context = ReplyContext(turns=before, first_reply=i == first, closing=i == last,
                               channel=channel, customer_emotion=customer_emotion)  # fmt: skip
        found = tuple(Found(f.rule, f.start, f.end, f.text) for f in check(t.text, context))
        turns.append(Turn(AGENT, t.text, t.at, findings=found, message_id=t.message_id))
    return tuple(turns)


def _emotion(text: str, before: Sequence[RawTurn]) -> str:
    from kefu.nlp.analysis import analyze

    history = [t.text for t in before if t.role == CUSTOMER][-3:]
    return analyze(text, history).emotion.value
