"""read_reply: a trainee's reply read by the norms checker into the simulated customer's signals."""

from __future__ import annotations

import pytest

from kefu.domain.triage_labels import Emotion
from kefu.services.training.reading import read_reply

LATE = [("customer", "我的快递一个星期了还没到，你们到底怎么回事！")]


def _signals(reply: str, emotion: Emotion = Emotion.ANGRY) -> set[str]:
    return set(read_reply(reply, turns=LATE, emotion=emotion).signals)


@pytest.mark.parametrize(
    ("reply", "signals"),
    [
        ("非常理解您着急的心情，请提供一下订单号好吗？", {"empathy", "question"}),
        ("这是快递公司的问题，跟我们没关系。", {"blame", "no_empathy"}),
        ("不好意思，您别激动，这种事很正常的。", {"blame", "empathy"}),
        ("你自己去查物流吧。", {"blame", "no_empathy"}),
        ("不能退款。", {"blame", "no_empathy"}),
        ("我们会尽快处理的。", {"vague", "no_empathy"}),
        ("抱歉让您久等了，我保证明天一定送到。", {"vague", "empathy", "solution"}),
        ("抱歉让您久等，包裹在分拨中心等干线运输。", {"jargon", "empathy"}),
        ("抱歉让您久等了，我已为您申请补发，今天下午6点前发出。", {"solution", "empathy"}),
    ],
)
def test_signals_of_a_reply_to_an_angry_customer(reply: str, signals: set[str]) -> None:
    assert _signals(reply) == signals


def test_the_customers_own_problem_restated_is_no_solution() -> None:
    # 取消 here is what happened to the customer, not something the agent does
    assert "solution" not in _signals("航班突然取消还赶着开会，确实着急。请问您的航班号是多少？")


def test_checking_is_a_question_not_a_solution() -> None:
    reply = "非常抱歉，方便私信告诉我们订单号吗？我们马上核实。"
    assert _signals(reply) == {"empathy", "question"}


def test_a_close_asks_whether_anything_else_is_needed() -> None:
    reply = "好的，请问还有其他需要帮您的吗？祝您生活愉快！"
    assert _signals(reply, Emotion.SATISFIED) == {"closing"}
    assert "closing" not in _signals("补发今天下午发出，您看可以吗？", Emotion.NEUTRAL)


def test_no_empathy_only_when_the_customer_is_upset() -> None:
    reply = "请提供一下订单号。"
    assert _signals(reply, Emotion.NEUTRAL) == {"question"}
    assert _signals(reply, Emotion.ANXIOUS) == {"question", "no_empathy"}
    assert "empathy" in _signals("不好意思让您久等了。", Emotion.NEUTRAL)


def test_the_findings_are_kept_for_the_score_card() -> None:
    reading = read_reply("这是快递公司的问题。", turns=LATE, emotion=Emotion.ANGRY)
    assert {"blame_shifting", "missing_empathy"} <= {f.rule for f in reading.findings}
    assert reading.norm_score == 100 - 20 - 8
