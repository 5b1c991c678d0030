"""What a quality review reads: the conversation's turns with what kefu already knows of each
(a customer turn's emotion from the analysis engine, an agent turn's norms findings), and the
case's facts (its first-response target, whether it is a complaint and which loop steps it
recorded, the customer's survey answer)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kefu.domain.triage_labels import Emotion

CUSTOMER = "customer"
AGENT = "agent"
NEGATIVE = frozenset({Emotion.ANGRY.value, Emotion.ANXIOUS.value, Emotion.DISAPPOINTED.value})


@dataclass(frozen=True)
class Found:
    """One norms finding in an agent turn: the rule and the characters it covers."""

    rule: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Turn:
    role: str  # CUSTOMER or AGENT
    text: str
    at: datetime
    emotion: str | None = None  # a customer turn's, from the analysis engine
    findings: tuple[Found, ...] = ()  # an agent turn's, from the norms checker
    message_id: int | None = None

    @property
    def negative(self) -> bool:
        return self.role == CUSTOMER and self.emotion in NEGATIVE


@dataclass(frozen=True)
class SurveyAnswer:
    csat: int | None = None  # 1–5
    nps: int | None = None  # 0–10


@dataclass(frozen=True)
class Conversation:
    turns: tuple[Turn, ...]
    first_response_target: timedelta | None = None  # None: the case had no SLA
    complaint: bool = False
    loop_stages: tuple[
        str, ...
    ] = ()  # the stages (case_loop.Stage values) a complaint recorded, in order
    survey: SurveyAnswer | None = None
    agent_turns: tuple[int, ...] = field(init=False)

    def __post_init__(self) -> None:
        indexes = tuple(i for i, t in enumerate(self.turns) if t.role == AGENT)
        object.__setattr__(self, "agent_turns", indexes)

    def next_agent_turn(self, after: int) -> int | None:
        return next((i for i in self.agent_turns if i > after), None)
