"""Survey rules: scales and bands, channel settings, due times, answers and the follow-up."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from kefu.domain.case_loop import (
    Advance,
    Case,
    CasePath,
    Policy,
    RecordFeedback,
    Reopen,
    SendBack,
    Stage,
    apply,
)
from kefu.domain.surveys import (
    AskVia,
    Band,
    ChannelSurveys,
    CommentFlag,
    FeedbackOutcome,
    FeedbackPolicy,
    SurveyFacts,
    SurveyKind,
    SurveyRefused,
    band_name,
    channel_surveys,
    check_answer,
    check_score,
    classify,
    comment_flag,
    decide_feedback,
    follow_up_due,
    kind_name,
    point_label,
    survey_due,
    wechat_way,
)
from kefu.domain.tickets import Channel
from kefu.domain.triage_labels import Sentiment

SOLVED_AT = datetime(2026, 3, 6, 17, 45, tzinfo=UTC)  # a Friday evening: no business hours
POLICY = FeedbackPolicy()
EMAIL = ChannelSurveys(Channel.EMAIL)

# Scales and bands -------------------------------------------------------------------------------

EDGES = [
    (SurveyKind.CSAT, 1, Band.DISSATISFIED),
    (SurveyKind.CSAT, 2, Band.DISSATISFIED),
    (SurveyKind.CSAT, 3, Band.NEUTRAL),
    (SurveyKind.CSAT, 4, Band.SATISFIED),
    (SurveyKind.CSAT, 5, Band.SATISFIED),
    (SurveyKind.NPS, 0, Band.DETRACTOR),
    (SurveyKind.NPS, 6, Band.DETRACTOR),
    (SurveyKind.NPS, 7, Band.PASSIVE),
    (SurveyKind.NPS, 8, Band.PASSIVE),
    (SurveyKind.NPS, 9, Band.PROMOTER),
    (SurveyKind.NPS, 10, Band.PROMOTER),
    (SurveyKind.CES, 1, Band.HARD),
    (SurveyKind.CES, 3, Band.HARD),
    (SurveyKind.CES, 4, Band.NEUTRAL),
    (SurveyKind.CES, 5, Band.EASY),
    (SurveyKind.CES, 7, Band.EASY),
]


@pytest.mark.parametrize(("kind", "score", "band"), EDGES)
def test_every_scale_edge_falls_in_its_band(kind: SurveyKind, score: int, band: Band) -> None:
    assert classify(kind, score) == band


@pytest.mark.parametrize(
    ("kind", "score"),
    [
        (SurveyKind.CSAT, 0),
        (SurveyKind.CSAT, 6),
        (SurveyKind.NPS, -1),
        (SurveyKind.NPS, 11),
        (SurveyKind.CES, 0),
        (SurveyKind.CES, 8),
        (SurveyKind.CSAT, True),
        (SurveyKind.CSAT, 4.0),
        (SurveyKind.CSAT, "4"),
        (SurveyKind.NPS, None),
    ],
)
def test_scores_off_the_scale_are_refused(kind: SurveyKind, score: object) -> None:
    with pytest.raises(SurveyRefused) as refused:
        check_score(kind, score)
    assert refused.value.code == "bad_score"


def test_every_band_and_kind_has_words_in_both_languages() -> None:
    for kind in SurveyKind:
        assert kind_name(kind) != kind_name(kind, "en")
    for band in Band:
        assert band_name(band) and band_name(band, "en").isascii()
    assert point_label(SurveyKind.CSAT, 5) == "非常满意"
    assert point_label(SurveyKind.NPS, 10, "en") == "Extremely likely"
    assert point_label(SurveyKind.NPS, 5) == ""
    assert point_label(SurveyKind.CES, 7) == "非常同意"


# Channel settings -------------------------------------------------------------------------------


def test_each_channel_has_its_default_way() -> None:
    assert channel_surveys(Channel.WEBCHAT, {}).via == AskVia.INLINE
    assert channel_surveys("email", {}).via == AskVia.LINK
    assert channel_surveys(Channel.WECHAT, {}).via == AskVia.MESSAGE
    assert channel_surveys(Channel.WECHAT, {}).kinds == (SurveyKind.CSAT,)
    assert not channel_surveys(Channel.PHONE, {}).asks  # the follow-up call records it


def test_an_admins_setting_wins() -> None:
    mine = ChannelSurveys(Channel.WEBCHAT, (SurveyKind.CSAT, SurveyKind.CES), AskVia.LINK)
    assert channel_surveys(Channel.WEBCHAT, {Channel.WEBCHAT: mine}) is mine
    off = ChannelSurveys(Channel.EMAIL, enabled=False)
    assert not channel_surveys(Channel.EMAIL, {Channel.EMAIL: off}).asks


@pytest.mark.parametrize(
    "make",
    [
        lambda: ChannelSurveys(Channel.EMAIL, via=AskVia.INLINE),
        lambda: ChannelSurveys(Channel.PHONE),
        lambda: ChannelSurveys(Channel.EMAIL, kinds=()),
        lambda: ChannelSurveys(Channel.EMAIL, kinds=(SurveyKind.NPS, SurveyKind.NPS)),
        lambda: ChannelSurveys(Channel.EMAIL, link_lifetime=timedelta(minutes=5)),
        lambda: ChannelSurveys(Channel.EMAIL, link_lifetime=timedelta(days=365)),
        lambda: ChannelSurveys("fax"),  # type: ignore[arg-type]
        lambda: ChannelSurveys(Channel.EMAIL, via="pigeon"),  # type: ignore[arg-type]
    ],
)
def test_impossible_settings_are_refused(make: object) -> None:
    with pytest.raises(SurveyRefused) as refused:
        make()  # type: ignore[operator]
    assert refused.value.code == "bad_config"


def test_a_setting_round_trips_through_json_and_refuses_junk() -> None:
    mine = ChannelSurveys(Channel.WECHAT, (SurveyKind.NPS,), link_lifetime=timedelta(days=3))
    assert ChannelSurveys.from_json(mine.to_json()) == mine
    for junk in (
        {"channel": "fax"},
        {"channel": "email", "kinds": ["csat", "happiness"]},
        {"channel": "email", "kinds": "csat"},
        {"channel": "email", "colour": "blue"},
        {"channel": "email", "link_lifetime_hours": "soon"},
        {"channel": "email", "link_lifetime_hours": "inf"},
        {"channel": "email", "enabled": "false"},
        {"channel": "email", "via": "pigeon"},
        {},
    ):
        with pytest.raises(SurveyRefused):
            ChannelSurveys.from_json(junk)


def test_a_link_expires_after_the_channels_lifetime() -> None:
    assert EMAIL.link_expires_at(SOLVED_AT) == SOLVED_AT + timedelta(days=7)


def test_wechat_asks_by_message_inside_the_window_and_by_template_after() -> None:
    last = SOLVED_AT - timedelta(hours=1)
    assert wechat_way(last, SOLVED_AT, template_ready=False) == AskVia.MESSAGE
    three_days_on = SOLVED_AT + timedelta(days=3)
    assert wechat_way(last, three_days_on, template_ready=True) == AskVia.TEMPLATE
    assert wechat_way(last, three_days_on, template_ready=False) is None
    assert wechat_way(None, SOLVED_AT, template_ready=False) is None


# Due times --------------------------------------------------------------------------------------


def facts(path: CasePath, stage: Stage, **kw: object) -> SurveyFacts:
    return SurveyFacts(path, stage, kw.pop("resolved_at", SOLVED_AT), **kw)  # type: ignore[arg-type]


def test_a_complaint_is_followed_up_and_surveyed_three_days_after_the_solution() -> None:
    f = facts(CasePath.COMPLAINT, Stage.FOLLOWING_UP)
    # Plain elapsed time: Friday 17:45 + 3 days is Monday 17:45, the weekend counts.
    assert follow_up_due(f, POLICY) == datetime(2026, 3, 9, 17, 45, tzinfo=UTC)
    assert survey_due(f, POLICY, EMAIL) == datetime(2026, 3, 9, 17, 45, tzinfo=UTC)


def test_the_team_sets_the_follow_up_delay() -> None:
    f = facts(CasePath.COMPLAINT, Stage.FOLLOWING_UP)
    policy = FeedbackPolicy(follow_up_after=timedelta(hours=36))
    assert follow_up_due(f, policy) == SOLVED_AT + timedelta(hours=36)
    with pytest.raises(SurveyRefused):
        FeedbackPolicy(survey_after=-timedelta(hours=1))


@pytest.mark.parametrize(
    "stage", [Stage.REGISTERED, Stage.ANALYSING, Stage.RESOLVING, Stage.ARCHIVED]
)
def test_a_complaint_outside_its_follow_up_owes_nothing(stage: Stage) -> None:
    f = facts(CasePath.COMPLAINT, stage)
    assert follow_up_due(f, POLICY) is None
    assert survey_due(f, POLICY, EMAIL) is None


def test_a_short_case_is_surveyed_when_resolved_and_not_followed_up() -> None:
    f = facts(CasePath.SHORT, Stage.RESOLVED)
    assert survey_due(f, POLICY, EMAIL) == SOLVED_AT
    assert follow_up_due(f, POLICY) is None
    later = FeedbackPolicy(survey_after=timedelta(hours=2))
    assert survey_due(f, later, EMAIL) == SOLVED_AT + timedelta(hours=2)
    # closed by the auto-close before the sweep came round: still owed its one survey
    assert survey_due(replace(f, stage=Stage.CLOSED), POLICY, EMAIL) == SOLVED_AT
    assert survey_due(replace(f, stage=Stage.OPEN, resolved_at=None), POLICY, EMAIL) is None


def test_a_vip_customer_gets_a_follow_up_on_any_case() -> None:
    f = facts(CasePath.SHORT, Stage.RESOLVED, customer_vip=True)
    assert follow_up_due(f, POLICY) == SOLVED_AT + timedelta(days=1)
    assert survey_due(f, POLICY, EMAIL) == SOLVED_AT + timedelta(days=1)
    no_vip = FeedbackPolicy(vip_follow_up=False)
    assert follow_up_due(f, no_vip) is None
    assert survey_due(f, no_vip, EMAIL) == SOLVED_AT


def test_one_response_per_case_and_nothing_once_done() -> None:
    f = facts(CasePath.COMPLAINT, Stage.FOLLOWING_UP)
    assert survey_due(replace(f, survey_sent=True), POLICY, EMAIL) is None
    assert survey_due(replace(f, survey_answered=True), POLICY, EMAIL) is None
    assert follow_up_due(replace(f, feedback_recorded=True), POLICY) is None
    assert survey_due(f, POLICY, ChannelSurveys(Channel.EMAIL, enabled=False)) is None


def test_a_complaint_sent_back_is_followed_up_again_but_not_surveyed_twice() -> None:
    case = Case(CasePath.COMPLAINT, Stage.FOLLOWING_UP, solution="补发", resolved_at=SOLVED_AT)
    case = apply(case, SendBack(), SOLVED_AT + timedelta(days=3)).case
    again = SOLVED_AT + timedelta(days=5)
    case = apply(case, Advance(), again).case
    f = SurveyFacts.of(case, survey_sent=True, survey_answered=True)
    assert follow_up_due(f, POLICY) == again + timedelta(days=3)  # the owner calls again
    assert survey_due(f, POLICY, EMAIL) is None


def test_facts_of_a_case_read_its_feedback() -> None:
    case = Case(CasePath.COMPLAINT, Stage.FOLLOWING_UP, resolved_at=SOLVED_AT, rating=4)
    f = SurveyFacts.of(case, customer_vip=True)
    assert f.feedback_recorded and f.customer_vip and f.resolved_at == SOLVED_AT


# Answers ----------------------------------------------------------------------------------------


def test_an_answer_scores_every_kind_asked() -> None:
    asked = (SurveyKind.CSAT, SurveyKind.NPS)
    answer = check_answer(asked, {"csat": 5, "nps": 9}, solved=True, comment="  谢谢  ")
    assert answer.rating == 5 and answer.comment == "谢谢" and answer.solved
    for scores in ({"csat": 5}, {"csat": 5, "nps": 9, "ces": 2}, {"csat": 5, "nps": 11}):
        with pytest.raises(SurveyRefused):
            check_answer(asked, scores)
    with pytest.raises(SurveyRefused, match="unknown"):
        check_answer(asked, {"csat": 5, "mood": 9})


def test_a_second_answer_and_a_long_comment_are_refused() -> None:
    with pytest.raises(SurveyRefused) as refused:
        check_answer((SurveyKind.CSAT,), {"csat": 5}, already_answered=True)
    assert refused.value.code == "already_answered"
    with pytest.raises(SurveyRefused) as refused:
        check_answer((SurveyKind.CSAT,), {"csat": 5}, comment="长" * 2001)
    assert refused.value.code == "comment_too_long"


# The follow-up answer ---------------------------------------------------------------------------

LOOP = Policy()
AT = SOLVED_AT + timedelta(days=3)


def complaint_at_follow_up() -> Case:
    return Case(
        CasePath.COMPLAINT,
        Stage.FOLLOWING_UP,
        facts="迟到三天",
        category="logistics",
        root_cause="仓库漏发",
        solution="补发并赠券",
        resolved_at=SOLVED_AT,
    )


def test_not_solved_sends_a_complaint_back_to_resolving() -> None:
    case = complaint_at_follow_up()
    decision = decide_feedback(case, solved=False, rating=2, at=AT, policy=LOOP)
    assert decision.outcome == FeedbackOutcome.SEND_BACK
    assert decision.actions == (SendBack(),)
    assert apply(case, decision.actions[0], AT).case.stage == Stage.RESOLVING


def test_solved_records_the_feedback_and_lets_the_complaint_be_archived() -> None:
    case = complaint_at_follow_up()
    decision = decide_feedback(case, solved=True, rating=5, at=AT, policy=LOOP)
    assert decision.outcome == FeedbackOutcome.RECORD
    assert decision.actions == (RecordFeedback(confirmed=True, rating=5),)
    after = apply(case, decision.actions[0], AT).case
    assert after.customer_confirmed and after.rating == 5


def test_a_rating_alone_is_recorded_without_confirmation() -> None:
    case = complaint_at_follow_up()
    decision = decide_feedback(case, solved=None, rating=3, at=AT, policy=LOOP)
    assert decision.actions == (RecordFeedback(confirmed=False, rating=3),)
    empty = decide_feedback(case, solved=None, rating=None, at=AT, policy=LOOP)
    assert empty.outcome == FeedbackOutcome.NOTHING


@pytest.mark.parametrize("stage", [Stage.RESOLVED, Stage.CLOSED])
def test_not_solved_reopens_a_short_case_within_the_window(stage: Stage) -> None:
    case = Case(CasePath.SHORT, stage, resolved_at=SOLVED_AT)
    decision = decide_feedback(case, solved=False, rating=None, at=AT, policy=LOOP)
    assert decision.outcome == FeedbackOutcome.REOPEN
    assert decision.actions == (Reopen(),)
    assert apply(case, Reopen(), AT).case.stage == Stage.OPEN


def test_not_solved_after_the_reopen_window_asks_for_a_new_linked_case() -> None:
    case = Case(CasePath.SHORT, Stage.CLOSED, resolved_at=SOLVED_AT)
    late = SOLVED_AT + LOOP.reopen_window + timedelta(seconds=1)
    decision = decide_feedback(case, solved=False, rating=1, at=late, policy=LOOP)
    assert decision.outcome == FeedbackOutcome.NEW_LINKED_CASE and decision.actions == ()


def test_not_solved_reopens_an_archived_complaint() -> None:
    case = replace(complaint_at_follow_up(), stage=Stage.ARCHIVED, lesson="核对出库")
    decision = decide_feedback(case, solved=False, rating=None, at=AT, policy=LOOP)
    assert decision.actions == (Reopen(),)
    assert apply(case, Reopen(), AT).case.stage == Stage.RESOLVING


def test_an_answer_on_a_finished_or_open_case_changes_nothing() -> None:
    closed = Case(CasePath.SHORT, Stage.CLOSED, resolved_at=SOLVED_AT)
    assert decide_feedback(closed, solved=True, rating=5, at=AT, policy=LOOP).actions == ()
    reopened = Case(CasePath.SHORT, Stage.OPEN)
    decision = decide_feedback(reopened, solved=False, rating=1, at=AT, policy=LOOP)
    assert decision.outcome == FeedbackOutcome.NOTHING


def test_a_short_case_records_a_resolved_rating() -> None:
    case = Case(CasePath.SHORT, Stage.RESOLVED, resolved_at=SOLVED_AT)
    decision = decide_feedback(case, solved=True, rating=4, at=AT, policy=LOOP)
    assert apply(case, decision.actions[0], AT).case.rating == 4


def test_a_rating_off_the_csat_scale_is_refused() -> None:
    with pytest.raises(SurveyRefused):
        decide_feedback(complaint_at_follow_up(), solved=True, rating=9, at=AT, policy=LOOP)


# Comments against scores ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "score", "sentiment", "flag"),
    [
        (SurveyKind.CSAT, 5, Sentiment.NEGATIVE, CommentFlag.NEGATIVE_ON_POSITIVE),
        (SurveyKind.CSAT, 4, "negative", CommentFlag.NEGATIVE_ON_POSITIVE),
        (SurveyKind.CSAT, 3, Sentiment.NEGATIVE, None),
        (SurveyKind.CSAT, 5, Sentiment.POSITIVE, None),
        (SurveyKind.CSAT, 5, Sentiment.NEUTRAL, None),
        (SurveyKind.CSAT, 1, Sentiment.POSITIVE, CommentFlag.POSITIVE_ON_NEGATIVE),
        (SurveyKind.NPS, 9, Sentiment.NEGATIVE, CommentFlag.NEGATIVE_ON_POSITIVE),
        (SurveyKind.NPS, 8, Sentiment.NEGATIVE, None),
        (SurveyKind.CES, 6, Sentiment.NEGATIVE, CommentFlag.NEGATIVE_ON_POSITIVE),
        (SurveyKind.CES, 2, Sentiment.POSITIVE, CommentFlag.POSITIVE_ON_NEGATIVE),
        (SurveyKind.CSAT, 5, None, None),
    ],
)
def test_a_comment_contradicting_its_score_is_flagged(
    kind: SurveyKind, score: int, sentiment: Sentiment | str | None, flag: CommentFlag | None
) -> None:
    assert comment_flag(kind, score, sentiment) == flag
