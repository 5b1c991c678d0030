"""One pure function per KPI: facts in, a ``Figure`` out.

A figure keeps its numerator and denominator beside the value, so figures of slices add up to
the figure of the whole and a dashboard can show the sample size. The value is None when there
is nothing to measure (no case, no answered survey). Rates are percentages (0–100).

Every case-based figure counts the cases it is given; which cases those are (opened in a
period, handled by an agent) is the caller's choice (``slices``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from statistics import median

from kefu.domain.case_loop import CasePath
from kefu.domain.kpi.facts import CaseFacts, ReplyFacts, SurveyFacts, SurveyKind


class Unit(StrEnum):
    PERCENT = "percent"  # 0–100
    SECONDS = "seconds"
    PER_CASE = "per_case"  # a count per case
    SCORE = "score"  # an average score on a survey's scale
    NPS = "nps"  # points from -100 to +100


class Metric(StrEnum):
    FIRST_RESPONSE_MEDIAN = "first_response_median"
    FIRST_RESPONSE_MEAN = "first_response_mean"
    AVERAGE_RESPONSE = "average_response"
    AVERAGE_HANDLE = "average_handle"
    FIRST_CONTACT_RESOLUTION = "first_contact_resolution"
    RESOLUTION_RATE = "resolution_rate"
    REOPEN_RATE = "reopen_rate"
    SLA_COMPLIANCE = "sla_compliance"
    ESCALATION_RATE = "escalation_rate"
    TRANSFERS_PER_CASE = "transfers_per_case"
    SELF_SERVICE_RATE = "self_service_rate"
    CSAT = "csat"
    NPS = "nps"
    CES = "ces"
    SURVEY_RESPONSE_RATE = "survey_response_rate"
    LOOP_COMPLETION = "loop_completion"
    REPEAT_COMPLAINT_RATE = "repeat_complaint_rate"


# Figures whose numerator is a sum: the slices' numerators and denominators add to the whole's.
# The median is the one that does not (its numerator is None).
ADDITIVE = frozenset(Metric) - {Metric.FIRST_RESPONSE_MEDIAN}


@dataclass(frozen=True)
class Figure:
    """A measured value with what it was computed from.

    value: the figure (None without data); numerator: the sum or count on top (None for a
    median); denominator: the sample size under it; unit: how to read the value.
    """

    value: float | None
    numerator: float | None
    denominator: int
    unit: Unit


_PER_HUNDRED = frozenset({Unit.PERCENT, Unit.NPS})


def from_sums(numerator: float, denominator: int, unit: Unit) -> Figure:
    """The figure of a summed numerator over a sample: ×100 for percentages and NPS points."""
    if not denominator:
        return Figure(None, float(numerator), 0, unit)
    scale = 100.0 if unit in _PER_HUNDRED else 1.0
    return Figure(scale * numerator / denominator, float(numerator), denominator, unit)


def combine(parts: Iterable[Figure]) -> Figure:
    """One figure from the figures of disjoint parts (pre-aggregated days, slices) of one metric.

    Numerators and denominators add; a median cannot be combined (ValueError), nor can units mix.
    """
    figures = list(parts)
    if not figures:
        raise ValueError("nothing to combine")
    units = {f.unit for f in figures}
    if len(units) != 1:
        raise ValueError(f"cannot combine figures in {sorted(units)}")
    numerators = [f.numerator for f in figures]
    if any(n is None for n in numerators):
        raise ValueError("a median cannot be combined from parts")
    total = sum(n for n in numerators if n is not None)
    return from_sums(total, sum(f.denominator for f in figures), figures[0].unit)


def _share(numerator: int, denominator: int) -> Figure:
    return from_sums(numerator, denominator, Unit.PERCENT)


def _mean(values: Sequence[float], unit: Unit) -> Figure:
    return from_sums(float(sum(values)), len(values), unit)


def _count(cases: Iterable[CaseFacts], test: Callable[[CaseFacts], bool]) -> int:
    return sum(1 for c in cases if test(c))


def _first_response_seconds(cases: Sequence[CaseFacts]) -> list[float]:
    return [
        (c.first_response_at - c.created_at).total_seconds()
        for c in cases
        if c.first_response_at is not None
    ]


def first_response_median(cases: Sequence[CaseFacts]) -> Figure:
    """首次响应时间（中位数）: median of (first_response_at − created_at) over answered cases, s."""
    seconds = _first_response_seconds(cases)
    value = float(median(seconds)) if seconds else None
    return Figure(value, None, len(seconds), Unit.SECONDS)


def first_response_mean(cases: Sequence[CaseFacts]) -> Figure:
    """首次响应时间（平均）: Σ (first_response_at − created_at) / answered cases, in seconds."""
    return _mean(_first_response_seconds(cases), Unit.SECONDS)


def average_response(replies: Sequence[ReplyFacts]) -> Figure:
    """平均响应时间: Σ (agent_reply_at − customer_message_at) / answered pairs, in seconds.

    Every answered customer message counts, not only the first; unanswered ones wait outside.
    """
    seconds = [
        (r.agent_reply_at - r.customer_message_at).total_seconds()
        for r in replies
        if r.agent_reply_at is not None
    ]
    return _mean(seconds, Unit.SECONDS)


def average_handle(cases: Sequence[CaseFacts]) -> Figure:
    """平均处理时长 AHT: Σ handle_seconds / resolved cases (a case still open is not done)."""
    return _mean([c.handle_seconds for c in cases if c.resolved], Unit.SECONDS)


def first_contact_resolution(cases: Sequence[CaseFacts]) -> Figure:
    """首次解决率 FCR: resolved cases with contacts = 1 and never reopened / resolved cases × 100."""
    resolved = [c for c in cases if c.resolved]
    return _share(_count(resolved, lambda c: c.contacts <= 1 and c.reopened == 0), len(resolved))


def resolution_rate(cases: Sequence[CaseFacts]) -> Figure:
    """问题解决率: cases resolved (or closed) now / all cases × 100."""
    return _share(_count(cases, lambda c: c.resolved), len(cases))


def reopen_rate(cases: Sequence[CaseFacts]) -> Figure:
    """重开率: cases reopened at least once / cases ever resolved × 100."""
    ever = [c for c in cases if c.ever_resolved]
    return _share(_count(ever, lambda c: c.reopened > 0), len(ever))


def sla_compliance(cases: Sequence[CaseFacts]) -> Figure:
    """SLA 达成率: cases with an SLA clock and no breached clock / cases with an SLA clock × 100."""
    timed = [c for c in cases if c.has_sla]
    return _share(_count(timed, lambda c: not c.sla_breached), len(timed))


def escalation_rate(cases: Sequence[CaseFacts]) -> Figure:
    """升级率: escalated cases / all cases × 100."""
    return _share(_count(cases, lambda c: c.escalated), len(cases))


def transfers_per_case(cases: Sequence[CaseFacts]) -> Figure:
    """每单转接次数: Σ transfers / all cases."""
    return _mean([float(c.transfers) for c in cases], Unit.PER_CASE)


def self_service_rate(cases: Sequence[CaseFacts]) -> Figure:
    """自助服务率: resolved cases solved by the bot or the help center / resolved cases × 100."""
    resolved = [c for c in cases if c.resolved]
    return _share(_count(resolved, lambda c: c.self_service), len(resolved))


def _scores(surveys: Sequence[SurveyFacts], kind: SurveyKind) -> list[int]:
    return [s.score for s in surveys if s.kind == kind and s.score is not None]


def csat(surveys: Sequence[SurveyFacts]) -> Figure:
    """客户满意度 CSAT: answered CSAT questions scoring 4 or 5 / answered CSAT questions × 100."""
    scores = _scores(surveys, SurveyKind.CSAT)
    return _share(sum(1 for s in scores if s >= 4), len(scores))


def nps(surveys: Sequence[SurveyFacts]) -> Figure:
    """净推荐值 NPS: (promoters 9–10 − detractors 0–6) / answered NPS questions × 100.

    The numerator is promoters − detractors (it may be negative); passives 7–8 only count below.
    """
    scores = _scores(surveys, SurveyKind.NPS)
    net = sum(1 for s in scores if s >= 9) - sum(1 for s in scores if s <= 6)
    return from_sums(net, len(scores), Unit.NPS)


def ces(surveys: Sequence[SurveyFacts]) -> Figure:
    """客户费力度 CES: Σ CES scores / answered CES questions (1–7, higher is easier)."""
    return _mean([float(s) for s in _scores(surveys, SurveyKind.CES)], Unit.SCORE)


def survey_response_rate(surveys: Sequence[SurveyFacts]) -> Figure:
    """调查回复率: answered survey questions / survey questions asked × 100 (all kinds)."""
    return _share(sum(1 for s in surveys if s.answered), len(surveys))


def loop_completion(cases: Sequence[CaseFacts]) -> Figure:
    """投诉闭环完成率: complaints whose loop reached 总结归档 / complaints × 100."""
    complaints = [c for c in cases if c.path == CasePath.COMPLAINT]
    return _share(_count(complaints, lambda c: c.loop_completed), len(complaints))


def repeat_complaint_rate(cases: Sequence[CaseFacts]) -> Figure:
    """重复投诉率: complaints flagged 重复投诉 / complaints × 100."""
    complaints = [c for c in cases if c.path == CasePath.COMPLAINT]
    return _share(_count(complaints, lambda c: c.repeat_complaint), len(complaints))


_BY_CASES: dict[Metric, Callable[[Sequence[CaseFacts]], Figure]] = {
    Metric.FIRST_RESPONSE_MEDIAN: first_response_median,
    Metric.FIRST_RESPONSE_MEAN: first_response_mean,
    Metric.AVERAGE_HANDLE: average_handle,
    Metric.FIRST_CONTACT_RESOLUTION: first_contact_resolution,
    Metric.RESOLUTION_RATE: resolution_rate,
    Metric.REOPEN_RATE: reopen_rate,
    Metric.SLA_COMPLIANCE: sla_compliance,
    Metric.ESCALATION_RATE: escalation_rate,
    Metric.TRANSFERS_PER_CASE: transfers_per_case,
    Metric.SELF_SERVICE_RATE: self_service_rate,
    Metric.LOOP_COMPLETION: loop_completion,
    Metric.REPEAT_COMPLAINT_RATE: repeat_complaint_rate,
}
_BY_SURVEYS: dict[Metric, Callable[[Sequence[SurveyFacts]], Figure]] = {
    Metric.CSAT: csat,
    Metric.NPS: nps,
    Metric.CES: ces,
    Metric.SURVEY_RESPONSE_RATE: survey_response_rate,
}


def all_figures(
    cases: Sequence[CaseFacts],
    replies: Sequence[ReplyFacts] = (),
    surveys: Sequence[SurveyFacts] = (),
) -> dict[Metric, Figure]:
    """Every metric over the same facts, in ``Metric`` order."""
    figures = {m: f(cases) for m, f in _BY_CASES.items()}
    figures[Metric.AVERAGE_RESPONSE] = average_response(replies)
    figures |= {m: f(surveys) for m, f in _BY_SURVEYS.items()}
    return {m: figures[m] for m in Metric}
