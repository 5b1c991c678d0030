"""Satisfaction surveys and follow-ups (满意度调查与回访): the rules, without I/O or clock reads.

Three kinds of question, as reference 002 defines them:

- CSAT 客户满意度 (1–5): satisfied is 4–5; CSAT % is the satisfied share of the answers.
- NPS 净推荐值 (0–10): promoters 9–10, passives 7–8, detractors 0–6.
- CES 客户费力度 (1–7): asked as agreement with 「解决我的问题很容易」, so a higher score is
  less effort; 5–7 (agree) counts as easy, 1–3 as hard, 4 as neither.

Each channel asks its own kinds in its own way: inline in web chat, a signed link by e-mail
(``survey_links``), a message on WeChat; all of it goes out through the outbox.

When a case is surveyed: a complaint at its 跟进反馈 follow-up (回访), which falls due by default
three days after the solution — the survey is the written form of that call-back and goes out
when it falls due, and the owner is reminded the same moment; an inquiry or any other short-path
case when it is resolved; a VIP customer's case of any kind gets a follow-up too when the team
wants it. One response per case. ``survey_due`` and ``follow_up_due`` return the columns the
sweep reads (DESIGN: the database is the clock). The arithmetic is plain elapsed time: a customer
is asked three days later whatever the team's working hours.

The customer's answer on the follow-up — by phone, in chat or through the survey — becomes the
stage's feedback; "not solved" sends a complaint back to 处理解决 or reopens a resolved case
(``decide_feedback`` returns the case-loop actions; the service applies them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from kefu.domain.case_loop import (
    Action,
    Case,
    CasePath,
    Policy,
    RecordFeedback,
    Reopen,
    SendBack,
    Stage,
)
from kefu.domain.tickets import Channel
from kefu.domain.triage_labels import Sentiment
from kefu.domain.wechat_window import reply_window

MAX_COMMENT_CHARS = 2000


class SurveyRefused(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# Kinds, scales and their words ----------------------------------------------------------------


class SurveyKind(StrEnum):
    CSAT = "csat"
    NPS = "nps"
    CES = "ces"


class Band(StrEnum):
    """Where a score falls, as the KPIs count it."""

    SATISFIED = "satisfied"  # CSAT 4–5
    NEUTRAL = "neutral"  # CSAT 3, CES 4
    DISSATISFIED = "dissatisfied"  # CSAT 1–2
    PROMOTER = "promoter"  # NPS 9–10
    PASSIVE = "passive"  # NPS 7–8
    DETRACTOR = "detractor"  # NPS 0–6
    EASY = "easy"  # CES 5–7
    HARD = "hard"  # CES 1–3


POSITIVE_BANDS = frozenset({Band.SATISFIED, Band.PROMOTER, Band.EASY})
NEGATIVE_BANDS = frozenset({Band.DISSATISFIED, Band.DETRACTOR, Band.HARD})


@dataclass(frozen=True)
class Scale:
    low: int
    high: int
    question_zh: str
    question_en: str
    # The words at each end of the scale (and, for CSAT, at every point).
    point_labels_zh: Mapping[int, str]
    point_labels_en: Mapping[int, str]
    # (lowest score, band) from the top of the scale down: the first whose score is reached.
    bands: tuple[tuple[int, Band], ...]

    @property
    def scores(self) -> range:
        return range(self.low, self.high + 1)


SCALES: Mapping[SurveyKind, Scale] = {
    SurveyKind.CSAT: Scale(
        1,
        5,
        "您对这次服务满意吗?",
        "How satisfied are you with the help you got?",
        {1: "非常不满意", 2: "不满意", 3: "一般", 4: "满意", 5: "非常满意"},
        {
            1: "Very dissatisfied",
            2: "Dissatisfied",
            3: "Neutral",
            4: "Satisfied",
            5: "Very satisfied",
        },
        ((4, Band.SATISFIED), (3, Band.NEUTRAL), (1, Band.DISSATISFIED)),
    ),
    SurveyKind.NPS: Scale(
        0,
        10,
        "您有多大可能把我们推荐给朋友或同事?",
        "How likely are you to recommend us to a friend or colleague?",
        {0: "完全不可能", 10: "非常可能"},
        {0: "Not at all likely", 10: "Extremely likely"},
        ((9, Band.PROMOTER), (7, Band.PASSIVE), (0, Band.DETRACTOR)),
    ),
    SurveyKind.CES: Scale(
        1,
        7,
        "这次我们让解决问题变得很容易。您同意吗?",
        "We made it easy to get your issue solved. Do you agree?",
        {1: "非常不同意", 4: "说不清", 7: "非常同意"},
        {1: "Strongly disagree", 4: "Neither", 7: "Strongly agree"},
        ((5, Band.EASY), (4, Band.NEUTRAL), (1, Band.HARD)),
    ),
}
KIND_NAMES = {
    SurveyKind.CSAT: ("客户满意度", "Customer satisfaction (CSAT)"),
    SurveyKind.NPS: ("净推荐值", "Net Promoter Score (NPS)"),
    SurveyKind.CES: ("客户费力度", "Customer effort (CES)"),
}
BAND_NAMES = {
    Band.SATISFIED: ("满意", "Satisfied"),
    Band.NEUTRAL: ("一般", "Neutral"),
    Band.DISSATISFIED: ("不满意", "Dissatisfied"),
    Band.PROMOTER: ("推荐者", "Promoter"),
    Band.PASSIVE: ("中立者", "Passive"),
    Band.DETRACTOR: ("批评者", "Detractor"),
    Band.EASY: ("轻松", "Easy"),
    Band.HARD: ("费力", "Hard"),
}


def check_score(kind: SurveyKind, score: object) -> int:
    """The score if it is a whole number on the kind's scale; ``SurveyRefused`` otherwise."""
    scale = SCALES[kind]
    if isinstance(score, bool) or not isinstance(score, int):
        raise SurveyRefused("bad_score", f"a {kind.value} score is a whole number")
    if score not in scale.scores:
        raise SurveyRefused(
            "bad_score", f"a {kind.value} score is {scale.low} to {scale.high}, not {score}"
        )
    return score


def classify(kind: SurveyKind, score: int) -> Band:
    score = check_score(kind, score)
    return next(band for lowest, band in SCALES[kind].bands if score >= lowest)


def kind_name(kind: SurveyKind, language: str = "zh") -> str:
    zh, en = KIND_NAMES[kind]
    return en if language == "en" else zh


def band_name(band: Band, language: str = "zh") -> str:
    zh, en = BAND_NAMES[band]
    return en if language == "en" else zh


def point_label(kind: SurveyKind, score: int, language: str = "zh") -> str:
    """The words shown under a score button ("" where the scale has none)."""
    scale = SCALES[kind]
    labels = scale.point_labels_en if language == "en" else scale.point_labels_zh
    return labels.get(check_score(kind, score), "")


# How each channel asks ------------------------------------------------------------------------


class AskVia(StrEnum):
    INLINE = "inline"  # buttons in the web chat conversation
    LINK = "link"  # a signed link in an e-mail (or a text message)
    MESSAGE = "message"  # a message with the link on WeChat, inside its reply window
    TEMPLATE = "template"  # WeChat's template message (模板消息) with the link, after the window


# Which ways each channel can carry; the first is its default. Channels missing here (phone,
# staff-made, API, app reviews) are not surveyed automatically: the follow-up call records it.
CHANNEL_WAYS: Mapping[Channel, tuple[AskVia, ...]] = {
    Channel.WEBCHAT: (AskVia.INLINE, AskVia.LINK),
    Channel.EMAIL: (AskVia.LINK,),
    Channel.WECHAT: (AskVia.MESSAGE,),
    Channel.SMS: (AskVia.LINK,),
    Channel.SOCIAL: (AskVia.MESSAGE,),
}
DEFAULT_LINK_LIFETIME = timedelta(days=7)


def wechat_way(
    last_customer_message_at: datetime | None, now: datetime, *, template_ready: bool
) -> AskVia | None:
    """How a WeChat survey reaches the follower at ``now``: a plain message while the 48-hour
    window is open, else a template message if the account has one set up, else not at all
    (a complaint's follow-up three days on is then a task for its owner)."""
    if reply_window(last_customer_message_at, now).open:
        return AskVia.MESSAGE
    return AskVia.TEMPLATE if template_ready else None


@dataclass(frozen=True)
class ChannelSurveys:
    """What one channel asks and how (an admin's switch per channel)."""

    channel: Channel
    kinds: tuple[SurveyKind, ...] = (SurveyKind.CSAT,)
    via: AskVia | None = None  # None: the channel's default way
    enabled: bool = True
    link_lifetime: timedelta = DEFAULT_LINK_LIFETIME

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "channel", Channel(self.channel))
            object.__setattr__(self, "kinds", tuple(SurveyKind(k) for k in self.kinds))
            if self.via is not None:
                object.__setattr__(self, "via", AskVia(self.via))
        except ValueError as e:
            raise SurveyRefused("bad_config", str(e)) from e
        ways = CHANNEL_WAYS.get(self.channel, ())
        if self.via is None and ways:
            object.__setattr__(self, "via", ways[0])
        if len(set(self.kinds)) != len(self.kinds):
            raise SurveyRefused("bad_config", "a kind is asked once")
        if not self.enabled:
            return
        if not ways:
            raise SurveyRefused("bad_config", f"the {self.channel.value} channel cannot ask")
        if self.via not in ways:
            raise SurveyRefused(
                "bad_config", f"the {self.channel.value} channel cannot ask by {self.via}"
            )
        if not self.kinds:
            raise SurveyRefused("bad_config", "an enabled channel asks at least one kind")
        if not timedelta(hours=1) <= self.link_lifetime <= timedelta(days=90):
            raise SurveyRefused("bad_config", "a link lasts between an hour and 90 days")

    @property
    def asks(self) -> bool:
        return self.enabled and bool(self.kinds)

    def link_expires_at(self, sent_at: datetime) -> datetime:
        """When a link sent at ``sent_at`` stops working (``survey_links.make_token``)."""
        return sent_at + self.link_lifetime

    def to_json(self) -> dict[str, Any]:
        return {
            "channel": self.channel.value,
            "kinds": [k.value for k in self.kinds],
            "via": self.via.value if self.via else None,
            "enabled": self.enabled,
            "link_lifetime_hours": self.link_lifetime / timedelta(hours=1),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChannelSurveys:
        """Read an admin's form or a stored row; ``SurveyRefused`` for anything off."""
        unknown = set(data) - {"channel", "kinds", "via", "enabled", "link_lifetime_hours"}
        if unknown:
            raise SurveyRefused("bad_config", f"unknown field(s): {', '.join(sorted(unknown))}")
        hours = data.get("link_lifetime_hours")
        kinds = data.get("kinds", ["csat"])
        enabled = data.get("enabled", True)
        if not isinstance(kinds, list) or not isinstance(enabled, bool):
            raise SurveyRefused("bad_config", "kinds is a list, enabled true or false")
        try:
            lifetime = DEFAULT_LINK_LIFETIME if hours is None else timedelta(hours=float(hours))
            return cls(data["channel"], tuple(kinds), data.get("via"), enabled, lifetime)
        except SurveyRefused:
            raise
        except (KeyError, TypeError, ValueError, OverflowError) as e:
            raise SurveyRefused("bad_config", f"not a survey setting: {e!r}") from e


def channel_surveys(
    channel: Channel | str, configured: Mapping[Channel, ChannelSurveys]
) -> ChannelSurveys:
    """The channel's setting: the admin's, else CSAT by its default way, else not asked."""
    channel = Channel(channel)
    if channel in configured:
        return configured[channel]
    return ChannelSurveys(channel, enabled=channel in CHANNEL_WAYS)


# When a case is surveyed and followed up -------------------------------------------------------


@dataclass(frozen=True)
class FeedbackPolicy:
    """The team's timing of follow-ups and surveys."""

    follow_up_after: timedelta = timedelta(days=3)  # 回访: after the solution
    survey_after: timedelta = timedelta(0)  # short-path cases: after they are resolved
    vip_follow_up: bool = True  # VIP customers get a follow-up on any case
    vip_follow_up_after: timedelta = timedelta(days=1)

    def __post_init__(self) -> None:
        if min(self.follow_up_after, self.survey_after, self.vip_follow_up_after) < timedelta(0):
            raise SurveyRefused("bad_config", "a delay is not negative")


@dataclass(frozen=True)
class SurveyFacts:
    """What the due times are derived from (the case's stored facts)."""

    path: CasePath
    stage: Stage
    resolved_at: datetime | None  # when the solution was given (entry to 跟进反馈 / 已解决)
    customer_vip: bool = False
    survey_sent: bool = False
    survey_answered: bool = False  # one response per case
    feedback_recorded: bool = False  # the follow-up has the customer's confirmation or rating

    @classmethod
    def of(cls, case: Case, **extra: bool) -> SurveyFacts:
        recorded = case.customer_confirmed or case.rating is not None
        return cls(case.path, case.stage, case.resolved_at, feedback_recorded=recorded, **extra)


_SURVEYED_STAGES = {
    CasePath.COMPLAINT: frozenset({Stage.FOLLOWING_UP}),
    CasePath.SHORT: frozenset({Stage.RESOLVED, Stage.CLOSED}),
}


def follow_up_due(facts: SurveyFacts, policy: FeedbackPolicy) -> datetime | None:
    """When the owner must have the customer's feedback (回访), or None when none is owed:
    a complaint at 跟进反馈, or a VIP customer's resolved short-path case."""
    if facts.resolved_at is None or facts.feedback_recorded:
        return None
    if facts.path == CasePath.COMPLAINT:
        if facts.stage != Stage.FOLLOWING_UP:
            return None
        return facts.resolved_at + policy.follow_up_after
    if facts.customer_vip and policy.vip_follow_up and facts.stage == Stage.RESOLVED:
        return facts.resolved_at + policy.vip_follow_up_after
    return None


def survey_due(
    facts: SurveyFacts, policy: FeedbackPolicy, surveys: ChannelSurveys
) -> datetime | None:
    """When the case's one survey goes out, or None: not on this channel, not yet, or done.

    A complaint is surveyed as its follow-up falls due; a short-path case once resolved (still
    owed if it was closed before the sweep came round); a VIP case at its follow-up."""
    if not surveys.asks or facts.survey_sent or facts.survey_answered:
        return None
    if facts.resolved_at is None or facts.stage not in _SURVEYED_STAGES[facts.path]:
        return None
    if facts.path == CasePath.COMPLAINT:
        return facts.resolved_at + policy.follow_up_after
    if facts.customer_vip and policy.vip_follow_up:
        return facts.resolved_at + policy.vip_follow_up_after
    return facts.resolved_at + policy.survey_after


# The answer --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """One customer's checked answer: a score per kind asked, whether the problem is solved
    (when asked), and an optional comment."""

    scores: Mapping[SurveyKind, int] = field(default_factory=dict)
    solved: bool | None = None
    comment: str = ""

    @property
    def rating(self) -> int | None:
        """The case-loop rating (1–5) is the CSAT score."""
        return self.scores.get(SurveyKind.CSAT)


def check_answer(
    asked: tuple[SurveyKind, ...],
    scores: Mapping[str, object],
    *,
    solved: bool | None = None,
    comment: str = "",
    already_answered: bool = False,
) -> Answer:
    """Validate an answer to a survey that asked ``asked``: every asked kind scored on its
    scale, nothing else, a comment of at most MAX_COMMENT_CHARS. A second answer is refused."""
    if already_answered:
        raise SurveyRefused("already_answered", "this survey has been answered")
    try:
        given = {SurveyKind(k): v for k, v in scores.items()}
    except ValueError as e:
        raise SurveyRefused("bad_score", f"unknown survey kind: {e}") from e
    if set(given) != set(asked):
        raise SurveyRefused("bad_score", "every question asked is answered, and only those")
    comment = comment.strip()
    if len(comment) > MAX_COMMENT_CHARS:
        raise SurveyRefused("comment_too_long", f"a comment is at most {MAX_COMMENT_CHARS} chars")
    checked = {kind: check_score(kind, score) for kind, score in given.items()}
    return Answer(checked, solved, comment)


class FeedbackOutcome(StrEnum):
    RECORD = "record"  # the feedback is written on the case
    SEND_BACK = "send_back"  # complaint at 跟进反馈, not solved: back to 处理解决
    REOPEN = "reopen"  # a resolved or closed case, not solved: reopened (counted)
    NEW_LINKED_CASE = "new_linked_case"  # not solved, after the reopen window: a new case
    NOTHING = "nothing"  # the case is open again already, or the answer says nothing


@dataclass(frozen=True)
class FeedbackDecision:
    outcome: FeedbackOutcome
    actions: tuple[Action, ...] = ()  # case-loop actions for the service to apply, in order


def decide_feedback(
    case: Case, *, solved: bool | None, rating: int | None, at: datetime, policy: Policy
) -> FeedbackDecision:
    """What the customer's follow-up answer does to the case (from a call, a chat or a survey).

    ``rating`` is a CSAT score (1–5) or None. "Not solved" on a complaint at 跟进反馈 sends it
    back to 处理解决; on a resolved or closed case it reopens it within the reopen window, and
    asks for a new linked case after it. An archived complaint reopens to 处理解决 likewise."""
    if rating is not None:
        check_score(SurveyKind.CSAT, rating)
    stage = case.stage
    if stage not in (Stage.FOLLOWING_UP, Stage.ARCHIVED, Stage.RESOLVED, Stage.CLOSED):
        return FeedbackDecision(FeedbackOutcome.NOTHING)
    if solved is False:
        if stage == Stage.FOLLOWING_UP:
            return FeedbackDecision(FeedbackOutcome.SEND_BACK, (SendBack(),))
        resolved = case.resolved_at
        if resolved is not None and at - resolved > policy.reopen_window:
            return FeedbackDecision(FeedbackOutcome.NEW_LINKED_CASE)
        return FeedbackDecision(FeedbackOutcome.REOPEN, (Reopen(),))
    if stage in (Stage.ARCHIVED, Stage.CLOSED) or (not solved and rating is None):
        return FeedbackDecision(FeedbackOutcome.NOTHING)  # the answer is stored, the case is done
    return FeedbackDecision(
        FeedbackOutcome.RECORD, (RecordFeedback(confirmed=bool(solved), rating=rating),)
    )


# A comment that says the opposite of its score ------------------------------------------------------


class CommentFlag(StrEnum):
    NEGATIVE_ON_POSITIVE = "negative_on_positive"  # 「满意」 but the words complain
    POSITIVE_ON_NEGATIVE = "positive_on_negative"  # a low score with praise: likely a mis-tap


def comment_flag(
    kind: SurveyKind, score: int, sentiment: Sentiment | str | None
) -> CommentFlag | None:
    """Flag a comment whose sentiment (``Analysis.sentiment`` of kefu.nlp.analysis) contradicts
    the score's band; None when they agree, the comment is neutral, or there is no comment."""
    if sentiment is None:
        return None
    band = classify(kind, score)
    sentiment = Sentiment(sentiment)
    if band in POSITIVE_BANDS and sentiment == Sentiment.NEGATIVE:
        return CommentFlag.NEGATIVE_ON_POSITIVE
    if band in NEGATIVE_BANDS and sentiment == Sentiment.POSITIVE:
        return CommentFlag.POSITIVE_ON_NEGATIVE
    return None
