"""Each criterion of the review on hand-built conversations (docs/qa.md): its pass, its fail
with the evidence, and its n/a."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kefu.domain.qa.conversation import AGENT, CUSTOMER, Conversation, Found, SurveyAnswer, Turn
from kefu.domain.qa.criteria import Criterion, Verdict
from kefu.domain.qa.review import review

T0 = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


def _c(text: str, minute: int = 0, emotion: str = "neutral") -> Turn:
    return Turn(CUSTOMER, text, T0 + timedelta(minutes=minute), emotion=emotion)


def _a(text: str, minute: int = 1, *rules: tuple[str, int, int]) -> Turn:
    found = tuple(Found(rule, s, e, text[s:e]) for rule, s, e in rules)
    return Turn(AGENT, text, T0 + timedelta(minutes=minute), findings=found, message_id=minute)


def _verdicts(conversation: Conversation) -> dict[Criterion, Verdict]:
    return {r.criterion: r.verdict for r in review(conversation)}


GOOD = Conversation(
    turns=(
        _c("快递一周没动了！！", 0, "angry"),
        _a("您好，非常理解您的着急，我马上查。", 2),
        _c("好的，谢谢", 5, "neutral"),
        _a("已为您加急，预计明天18点前送达。请问还有其他可以帮您的吗？", 6),
    ),
    first_response_target=timedelta(minutes=5),
    complaint=True,
    loop_stages=("registered", "analyzing", "resolving", "following_up", "archived"),
    survey=SurveyAnswer(csat=5),
)


def test_a_good_conversation_passes_every_criterion():
    assert set(_verdicts(GOOD).values()) == {Verdict.PASS}


def test_the_norms_findings_fail_their_criteria_with_the_evidence():
    text = "你自己去查，我们会尽快处理，您手机13812345678，走原路退回。"

    def at(rule: str, words: str) -> tuple[str, int, int]:
        start = text.index(words) if words else 0
        return rule, start, start + len(words)

    bad = Conversation(
        turns=(
            _c("怎么还没退款？太过分了", 0, "angry"),
            _a(text, 3, at("missing_greeting", ""), at("missing_empathy", ""),
               at("impolite", "你自己去查"), at("vague_commitment", "尽快"),
               at("privacy_exposure", "13812345678"), at("jargon", "原路退回"),
               at("missing_closing", "")),
        ),
    )  # fmt: skip
    results = {r.criterion: r for r in review(bad)}
    for criterion in (Criterion.GREETING, Criterion.CLOSING, Criterion.EMPATHY,
                      Criterion.COURTESY, Criterion.JARGON, Criterion.COMMITMENTS,
                      Criterion.PRIVACY):  # fmt: skip
        assert results[criterion].verdict == Verdict.FAIL, criterion
        assert results[criterion].explanation
    privacy = results[Criterion.PRIVACY].evidence[0]
    assert (privacy.turn, privacy.text, privacy.message_id) == (1, "13812345678", 3)
    assert results[Criterion.COURTESY].evidence[0].text == "你自己去查"
    assert results[Criterion.RESPONSE_TIME].verdict == Verdict.NA  # no SLA
    assert results[Criterion.EMOTION_TREND].verdict == Verdict.NA  # one customer turn
    assert results[Criterion.LOOP_COMPLETE].verdict == Verdict.NA  # not a complaint
    assert results[Criterion.SURVEY].verdict == Verdict.NA


def test_greeting_reads_the_first_reply_and_closing_the_last_only():
    turns = (
        _c("在吗"),
        _a("您好", 1),
        _c("查订单"),
        _a("订单号？", 2, ("missing_greeting", 0, 0), ("missing_closing", 0, 0)),
        _a("已发货，还有其他问题吗？", 3),
    )
    verdicts = _verdicts(Conversation(turns))
    assert verdicts[Criterion.GREETING] == Verdict.PASS
    assert verdicts[Criterion.CLOSING] == Verdict.PASS


def test_empathy_is_judged_on_the_reply_to_each_upset_turn_and_na_when_nobody_was_upset():
    upset_later = (
        _c("你好", 0),
        _a("您好", 1),
        _c("等了三天了，很失望", 2, "disappointed"),
        _a("请提供订单号", 3, ("missing_empathy", 0, 0)),
    )
    assert _verdicts(Conversation(upset_later))[Criterion.EMPATHY] == Verdict.FAIL
    calm = (_c("你好", 0), _a("您好", 1, ("missing_empathy", 0, 0)))
    assert _verdicts(Conversation(calm))[Criterion.EMPATHY] == Verdict.NA


def test_response_time_counts_each_wait_from_the_first_unanswered_customer_turn():
    turns = (_c("在吗", 0), _c("有人吗", 4), _a("您好", 6), _c("谢谢", 30))
    five = timedelta(minutes=5)
    late = review(Conversation(turns, first_response_target=five))
    result = next(r for r in late if r.criterion == Criterion.RESPONSE_TIME)
    assert result.verdict == Verdict.FAIL and result.evidence[0].turn == 2  # 6 min after 在吗
    on_time = Conversation(turns, first_response_target=timedelta(minutes=10))
    assert _verdicts(on_time)[Criterion.RESPONSE_TIME] == Verdict.PASS  # 谢谢 ends it
    unanswered = Conversation((_c("在吗", 0),), first_response_target=five)
    assert _verdicts(unanswered)[Criterion.RESPONSE_TIME] == Verdict.NA


def test_emotion_trend_from_the_first_to_the_last_customer_turn():
    def trend(first: str, last: str) -> Verdict:
        turns = (_c("a", 0, first), _a("您好", 1), _c("b", 2, last))
        return _verdicts(Conversation(turns))[Criterion.EMOTION_TREND]

    assert trend("angry", "neutral") == Verdict.PASS
    assert trend("neutral", "neutral") == Verdict.PASS
    assert trend("neutral", "satisfied") == Verdict.PASS
    assert trend("anxious", "anxious") == Verdict.FAIL  # upset and still upset
    assert trend("neutral", "angry") == Verdict.FAIL
    assert trend("anxious", "angry") == Verdict.FAIL


def test_the_loop_needs_every_step_in_order_for_a_complaint_only():
    def loop(stages: tuple[str, ...], complaint: bool = True) -> Verdict:
        return _verdicts(Conversation((), complaint=complaint, loop_stages=stages))[
            Criterion.LOOP_COMPLETE
        ]

    assert (
        loop(("registered", "analyzing", "resolving", "following_up", "archived")) == Verdict.PASS
    )
    assert loop(("registered", "resolving", "following_up", "archived")) == Verdict.FAIL
    assert (
        loop(("registered", "resolving", "analyzing", "following_up", "archived")) == Verdict.FAIL
    )
    assert loop((), complaint=False) == Verdict.NA
    skipped = review(Conversation((), complaint=True, loop_stages=("registered",)))
    text = next(r for r in skipped if r.criterion == Criterion.LOOP_COMPLETE).explanation
    assert "分析评估" in text and "总结归档" in text


def test_the_survey_answer_satisfied_dissatisfied_or_neutral():
    def answered(answer: SurveyAnswer | None) -> Verdict:
        return _verdicts(Conversation((), survey=answer))[Criterion.SURVEY]

    assert answered(SurveyAnswer(csat=4)) == Verdict.PASS
    assert answered(SurveyAnswer(csat=2)) == Verdict.FAIL
    assert answered(SurveyAnswer(csat=3)) == Verdict.NA
    assert answered(SurveyAnswer(nps=10)) == Verdict.PASS
    assert answered(SurveyAnswer(nps=6)) == Verdict.FAIL
    assert answered(SurveyAnswer(csat=5, nps=0)) == Verdict.PASS  # CSAT decides when asked
    assert answered(None) == Verdict.NA


def test_no_agent_reply_makes_the_reply_criteria_not_applicable():
    verdicts = _verdicts(Conversation((_c("在吗", 0, "angry"),)))
    for criterion in (Criterion.GREETING, Criterion.CLOSING, Criterion.EMPATHY,
                      Criterion.COURTESY, Criterion.JARGON, Criterion.PRIVACY):  # fmt: skip
        assert verdicts[criterion] == Verdict.NA, criterion
