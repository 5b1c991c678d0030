"""What the checker reads (a reply's context) and what it returns (findings, a score)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# The rules of spec/norms.md, in its order, with their severities.
RULES: dict[str, str] = {
    "negative_refusal": "warning",
    "blame_shifting": "error",
    "missing_empathy": "warning",
    "dismissive": "error",
    "impolite": "error",
    "jargon": "warning",
    "vague_commitment": "warning",
    "over_promise": "warning",
    "missing_greeting": "warning",
    "missing_closing": "warning",
    "unfilled_placeholder": "error",
    "privacy_exposure": "error",
    "too_long": "warning",
}
# How the composer applies a rule's rewrite: in place of the finding's span ("replace", the
# default), added at its start ("insert": what is missing — a greeting, empathy, a closing
# check), or not at all ("advice": the agent fills the placeholder, masks the number, shortens).
REWRITE_USES: dict[str, str] = {
    "unfilled_placeholder": "advice",
    "privacy_exposure": "advice",
    "too_long": "advice",
    "missing_empathy": "insert",
    "missing_greeting": "insert",
    "missing_closing": "insert",
}
# Rules whose findings are about the reply as a whole or what it lacks: listed, not underlined.
WHOLE_REPLY = frozenset({"missing_empathy", "missing_greeting", "missing_closing", "too_long"})
# Points a finding costs in the norm score (100 minus weighted findings, floored at 0);
# a rule counts once per reply however many places break it.
WEIGHTS = {"error": 20, "warning": 8}
NEGATIVE_EMOTIONS = frozenset({"angry", "anxious", "disappointed"})


@dataclass(frozen=True)
class Turn:
    role: str  # customer | agent
    text: str


@dataclass(frozen=True)
class ReplyContext:
    """The conversation a reply answers. ``customer_emotion``: the emotion of the last
    customer turn when the caller already knows it (the stored analysis); None lets the
    checker run kefu's analysis engine on that turn."""

    turns: tuple[Turn, ...] = ()
    first_reply: bool = False
    closing: bool = False
    channel: str = "chat"
    customer_emotion: str | None = None

    @property
    def last_customer(self) -> str | None:
        return next((t.text for t in reversed(self.turns) if t.role == "customer"), None)

    @classmethod
    def from_turns(
        cls, turns: Iterable[Mapping[str, Any]] | None = None, **options: Any
    ) -> ReplyContext:
        """From ``[{"role", "text"}, ...]`` as in the evaluation files."""
        parsed = tuple(
            Turn(role=str(t.get("role", "customer")), text=str(t.get("text", "")))
            for t in turns or ()
        )
        return cls(turns=parsed, **options)


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str  # error | warning
    start: int  # span in the reply as typed, [start, end)
    end: int
    text: str
    explanation: str  # Chinese, for the agent
    rewrite: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "explanation": self.explanation,
            "rewrite": self.rewrite,
        }


@dataclass(frozen=True)
class Report:
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def rules(self) -> list[str]:
        return sorted({f.rule for f in self.findings})

    @property
    def blocked(self) -> bool:
        return any(f.severity == "error" for f in self.findings)

    @property
    def score(self) -> int:
        return norm_score(self.findings)


def norm_score(findings: Sequence[Finding]) -> int:
    """100 minus the weight of each rule broken (once per rule), floored at 0."""
    broken = {f.rule: f.severity for f in findings}
    return max(0, 100 - sum(WEIGHTS[severity] for severity in broken.values()))
