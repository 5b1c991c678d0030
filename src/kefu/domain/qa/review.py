"""The review of a conversation: one verdict per criterion of docs/qa.md, with the evidence.

The criteria about what the agent wrote read the norms findings the service attached to each
agent turn (the norms checker ran on it with the conversation so far: the first reply checked
for a greeting, the last for a closing, each reply to a negative customer turn for empathy).
The others read the times, the customer's emotions, the loop's steps and the survey answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from kefu.domain.case_loop import Stage
from kefu.domain.qa.conversation import AGENT, CUSTOMER, Conversation, Found, Turn
from kefu.domain.qa.criteria import Criterion, CriterionResult, Evidence, Verdict
from kefu.domain.translatable import N_
from kefu.domain.triage_labels import Emotion

# The norms rules whose finding in an agent turn fails a criterion.
RULES: dict[Criterion, frozenset[str]] = {
    Criterion.GREETING: frozenset({"missing_greeting"}),
    Criterion.CLOSING: frozenset({"missing_closing"}),
    Criterion.EMPATHY: frozenset({"missing_empathy"}),
    Criterion.COURTESY: frozenset({"blame_shifting", "dismissive", "impolite"}),
    Criterion.JARGON: frozenset({"jargon"}),
    Criterion.COMMITMENTS: frozenset({"vague_commitment", "over_promise"}),
    Criterion.PRIVACY: frozenset({"privacy_exposure"}),
}
COMPLAINT_STEPS = (Stage.REGISTERED, Stage.ANALYSING, Stage.RESOLVING, Stage.FOLLOWING_UP,
                   Stage.ARCHIVED)  # fmt: skip
# How unsettled each emotion is: the trend compares the first and the last customer turn.
UNREST = {
    Emotion.SATISFIED.value: 0,
    Emotion.NEUTRAL.value: 1,
    Emotion.ANXIOUS.value: 2,
    Emotion.DISAPPOINTED.value: 2,
    Emotion.ANGRY.value: 3,
}

_PASS_TEXT = {
    Criterion.GREETING: N_("首次回复有问候。"),
    Criterion.CLOSING: N_("结束前确认了客户是否满意或还需帮助。"),
    Criterion.EMPATHY: N_("客户有负面情绪时，下一条回复回应了感受或致歉。"),
    Criterion.COURTESY: N_("没有推卸责任、否定情绪或不礼貌的说法。"),
    Criterion.JARGON: N_("没有未加解释的专业术语。"),
    Criterion.COMMITMENTS: N_("承诺有时限或明确的下一步，没有过度保证。"),
    Criterion.PRIVACY: N_("回复中没有完整的手机号、证件号、银行卡号或住址。"),
}
_FAIL_TEXT = {
    Criterion.GREETING: N_("首次回复没有问候，直接进入正题。"),
    Criterion.CLOSING: N_("结束时没有确认客户是否满意，也没有询问是否还需其他帮助。"),
    Criterion.EMPATHY: N_("客户表达了负面情绪，回复没有回应感受或致歉。"),
    Criterion.COURTESY: N_("回复中有推卸责任、否定客户情绪或不礼貌的说法。"),
    Criterion.JARGON: N_("使用了客户不易理解的术语，没有解释。"),
    Criterion.COMMITMENTS: N_("承诺含糊（没有时限）或做了无法保证的承诺。"),
    Criterion.PRIVACY: N_("回复暴露了客户的完整隐私信息，应脱敏显示。"),
}

_CSAT_TEXT = {
    Verdict.PASS: N_("客户满意度评分 {score}，满意。"),
    Verdict.FAIL: N_("客户满意度评分 {score}，不满意。"),
    Verdict.NA: N_("客户满意度评分 {score}，态度中立。"),
}
_NPS_TEXT = {
    Verdict.PASS: N_("客户推荐度评分 {score}，满意。"),
    Verdict.FAIL: N_("客户推荐度评分 {score}，不满意。"),
    Verdict.NA: N_("客户推荐度评分 {score}，态度中立。"),
}


def review(conversation: Conversation) -> list[CriterionResult]:
    """Every criterion's verdict, in the order of ``Criterion``."""
    return [JUDGES[c](conversation) for c in Criterion]


def _evidence(turns: Sequence[Turn], index: int, found: Found) -> Evidence:
    return Evidence(index, found.start, found.end, found.text, turns[index].message_id)


def _by_rules(
    criterion: Criterion, turns: Sequence[int], conversation: Conversation
) -> CriterionResult:
    """Fail with every finding of the criterion's rules in ``turns``; pass when there is none."""
    if not turns:
        return CriterionResult(criterion, Verdict.NA, N_("没有需要评估的客服回复。"))
    rules = RULES[criterion]
    evidence = tuple(
        _evidence(conversation.turns, i, f)
        for i in turns
        for f in conversation.turns[i].findings
        if f.rule in rules
    )
    if evidence:
        return CriterionResult(criterion, Verdict.FAIL, _FAIL_TEXT[criterion], evidence)
    return CriterionResult(criterion, Verdict.PASS, _PASS_TEXT[criterion])


def greeting(c: Conversation) -> CriterionResult:
    return _by_rules(Criterion.GREETING, c.agent_turns[:1], c)


def closing(c: Conversation) -> CriterionResult:
    return _by_rules(Criterion.CLOSING, c.agent_turns[-1:], c)


def empathy(c: Conversation) -> CriterionResult:
    """The agent turn after each negative customer turn (once per run of customer turns)."""
    answers = sorted(
        {
            answer
            for i, turn in enumerate(c.turns)
            if turn.negative and (answer := c.next_agent_turn(i)) is not None
        }
    )
    if not answers:
        return CriterionResult(Criterion.EMPATHY, Verdict.NA, N_("客户没有表达负面情绪。"))
    return _by_rules(Criterion.EMPATHY, answers, c)


def _everywhere(criterion: Criterion) -> Callable[[Conversation], CriterionResult]:
    def judge(c: Conversation) -> CriterionResult:
        return _by_rules(criterion, c.agent_turns, c)

    judge.__name__ = criterion.value
    return judge


def response_time(c: Conversation) -> CriterionResult:
    """Each customer turn (the first of a run) waits for the next agent turn at most the
    target; customer turns after the agent's last reply are the conversation's end."""
    target = c.first_response_target
    if target is None:
        return CriterionResult(Criterion.RESPONSE_TIME, Verdict.NA, N_("该工单没有响应时限。"))
    late: list[Evidence] = []
    waiting: int | None = None
    answered_any = False
    for i, turn in enumerate(c.turns):
        if turn.role == CUSTOMER and waiting is None:
            waiting = i
        elif turn.role == AGENT and waiting is not None:
            answered_any = True
            if turn.at - c.turns[waiting].at > target:
                late.append(Evidence(i, 0, 0, "", turn.message_id))
            waiting = None
    if not answered_any:
        return CriterionResult(Criterion.RESPONSE_TIME, Verdict.NA, N_("没有需要回复的客户消息。"))
    minutes = int(target.total_seconds() // 60)
    if late:
        return CriterionResult(Criterion.RESPONSE_TIME, Verdict.FAIL,
                               N_("有回复超过了 {minutes} 分钟的响应时限。"), tuple(late),
                               {"minutes": minutes})  # fmt: skip
    return CriterionResult(Criterion.RESPONSE_TIME, Verdict.PASS,
                           N_("每次回复都在 {minutes} 分钟的响应时限内。"), (),
                           {"minutes": minutes})  # fmt: skip


def emotion_trend(c: Conversation) -> CriterionResult:
    customer = [(i, t) for i, t in enumerate(c.turns) if t.role == CUSTOMER and t.emotion]
    if len(customer) < 2:
        return CriterionResult(Criterion.EMOTION_TREND, Verdict.NA, N_("客户只发言一次。"))
    (_, first), (last_index, last) = customer[0], customer[-1]
    before, after = UNREST.get(first.emotion or "", 1), UNREST.get(last.emotion or "", 1)
    evidence = (Evidence(last_index, 0, len(last.text), last.text, last.message_id),)
    if after < before or (after == before and not first.negative):
        return CriterionResult(Criterion.EMOTION_TREND, Verdict.PASS,
                               N_("客户结束时的情绪不比开始时差。"), evidence)  # fmt: skip
    return CriterionResult(Criterion.EMOTION_TREND, Verdict.FAIL,
                           N_("客户结束时的情绪没有好转。"), evidence)  # fmt: skip


def loop_complete(c: Conversation) -> CriterionResult:
    if not c.complaint:
        return CriterionResult(Criterion.LOOP_COMPLETE, Verdict.NA, N_("不是投诉工单。"))
    missing = [s for s in COMPLAINT_STEPS if s.value not in c.loop_stages]
    seen = [s for s in c.loop_stages if s in {step.value for step in COMPLAINT_STEPS}]
    if not missing and seen == [s.value for s in COMPLAINT_STEPS]:
        return CriterionResult(
            Criterion.LOOP_COMPLETE, Verdict.PASS, N_("投诉闭环的五个步骤都已完成。")
        )
    if missing:
        steps = tuple(s.value for s in missing)
        return CriterionResult(Criterion.LOOP_COMPLETE, Verdict.FAIL,
                               N_("投诉闭环缺少步骤：{steps}"), (), {"steps": steps})  # fmt: skip
    return CriterionResult(Criterion.LOOP_COMPLETE, Verdict.FAIL, N_("投诉闭环的步骤顺序不对。"))


def survey(c: Conversation) -> CriterionResult:
    answer = c.survey
    if answer is None or (answer.csat is None and answer.nps is None):
        return CriterionResult(Criterion.SURVEY, Verdict.NA, N_("客户没有回答满意度调查。"))
    if answer.csat is not None:
        score, good, bad = answer.csat, answer.csat >= 4, answer.csat <= 2
        texts = _CSAT_TEXT
    else:
        score = answer.nps or 0
        good, bad, texts = score >= 9, score <= 6, _NPS_TEXT
    verdict = Verdict.PASS if good else Verdict.FAIL if bad else Verdict.NA
    return CriterionResult(Criterion.SURVEY, verdict, texts[verdict], (), {"score": score})


JUDGES: dict[Criterion, Callable[[Conversation], CriterionResult]] = {
    Criterion.GREETING: greeting,
    Criterion.CLOSING: closing,
    Criterion.EMPATHY: empathy,
    Criterion.COURTESY: _everywhere(Criterion.COURTESY),
    Criterion.JARGON: _everywhere(Criterion.JARGON),
    Criterion.COMMITMENTS: _everywhere(Criterion.COMMITMENTS),
    Criterion.PRIVACY: _everywhere(Criterion.PRIVACY),
    Criterion.RESPONSE_TIME: response_time,
    Criterion.EMOTION_TREND: emotion_trend,
    Criterion.LOOP_COMPLETE: loop_complete,
    Criterion.SURVEY: survey,
}
