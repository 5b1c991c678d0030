"""Sessions played end to end: real trainee replies read by reading.py drive a shipped scenario
along its empathetic, blaming and crisis paths; every shipped scenario can be won."""

from __future__ import annotations

import pytest

from kefu.domain.training.machine import Progress, Step, begin, step
from kefu.domain.training.scenario import Scenario
from kefu.domain.triage_labels import Emotion
from kefu.services.training.reading import read_reply
from kefu.training.loader import shipped

SCENARIOS = {s.id: s for s in shipped()}
PARCEL = SCENARIOS["retail-parcel-late"]
ANGRY, ANXIOUS = Emotion.ANGRY, Emotion.ANXIOUS


def play(scenario: Scenario, replies: list[str]) -> list[Step]:
    """The customer's answers to ``replies``, each read in the conversation so far."""
    progress = begin(scenario)
    turns = [("customer", scenario.opening)]
    steps = []
    for i, reply in enumerate(replies):
        reading = read_reply(reply, turns=turns, emotion=progress.emotion, first_reply=i == 0)
        result = step(scenario, progress, reading.signals)
        steps.append(result)
        progress = result.progress
        turns += [("agent", reply), ("customer", result.customer_line)]
    return steps


def _emotions(steps: list[Step]) -> list[Emotion]:
    return [s.progress.emotion for s in steps]


def test_the_empathetic_path_calms_the_customer_and_resolves() -> None:
    steps = play(
        PARCEL,
        [
            "您好，非常抱歉让您等了这么久，您着急的心情我完全理解。请您告诉我订单号，我马上帮您查。",
            "谢谢您，给您添麻烦了。包裹在中转站耽误了，我已为您申请加急补发，今天下午5点前发出，明天送到。",
            "好的，补发单号出来我马上发给您。请问还有其他需要帮您的吗？祝您生活愉快！",
        ],
    )
    assert [s.reaction for s in steps] == ["question", "solution", "closing"]
    assert steps[0].customer_line.startswith("订单号是 20261201335")
    assert steps[1].customer_line == "明天能到的话那还来得及……好吧，就按你说的办。"
    assert steps[2].customer_line == "没有了，谢谢你，希望明天真能到。"
    assert _emotions(steps) == [Emotion.NEUTRAL, Emotion.SATISFIED, Emotion.SATISFIED]
    assert steps[-1].progress.outcome == "resolved"


def test_the_blaming_path_raises_the_customers_emotion() -> None:
    steps = play(
        PARCEL,
        [
            "这是快递公司的问题，跟我们没关系。",
            "我们会尽快处理的。",
        ],
    )
    assert [s.reaction for s in steps] == ["blame", "no_empathy"]
    assert steps[0].customer_line == "什么叫快递的问题？我是在你们店买的，我只找你们！"
    assert steps[1].customer_line == "你有没有在听我说话？后天就要用了！"
    assert PARCEL.persona.emotion is ANXIOUS
    assert _emotions(steps) == [ANGRY, ANGRY]
    assert [s.progress.patience for s in steps] == [2, 1]
    assert not steps[-1].ended


def test_the_crisis_path_escalates_to_the_threat_and_ends_escalated() -> None:
    steps = play(
        PARCEL,
        [
            "这是快递公司的问题，跟我们没关系。",
            "您别激动，物流慢很正常的。",
            "规定就是这样，您自己去问快递吧。",
            "我们也没办法，您等通知吧。",
        ],
    )
    assert [s.reaction for s in steps] == ["blame", "blame", "patience_out", "blame"]
    threat = steps[2]
    assert threat.customer_line == PARCEL.patience_out.say
    assert "12315" in threat.customer_line
    assert (threat.progress.state, threat.progress.emotion) == ("threat", ANGRY)
    assert threat.progress.threatened and not threat.ended
    assert steps[3].customer_line == "行，那我们12315见。"
    assert steps[3].progress.outcome == "escalated"


def test_the_threat_talked_down_by_a_concrete_solution() -> None:
    steps = play(
        PARCEL,
        [
            "这是快递公司的问题，跟我们没关系。",
            "您别激动，物流慢很正常的。",
            "规定就是这样。",
            "非常抱歉，是我们没做好。我现在就为您加急补发，今天下午5点前发出，明天送到。",
            "补发单号我马上发给您。请问还有其他需要帮您的吗？",
        ],
    )
    assert [s.reaction for s in steps][2:] == ["patience_out", "solution", "closing"]
    assert steps[3].customer_line == "好吧，我再给你们一次机会，明天必须送到。"
    assert steps[3].progress.emotion is ANXIOUS  # down one step from angry
    assert steps[-1].progress.outcome == "resolved"


@pytest.mark.parametrize("scenario_id", sorted(SCENARIOS))
def test_a_scripted_good_trainee_completes_every_scenario(scenario_id: str) -> None:
    """Answering each state with its model reply resolves the case without trying patience."""
    scenario = SCENARIOS[scenario_id]
    progress: Progress = begin(scenario)
    turns = [("customer", scenario.opening)]
    for turn in range(8):
        reply = scenario.state(progress.state).model_reply
        assert reply is not None
        reading = read_reply(reply, turns=turns, emotion=progress.emotion, first_reply=turn == 0)
        result = step(scenario, progress, reading.signals)
        assert result.reaction in {"question", "solution", "closing"}, (progress.state, reading)
        progress = result.progress
        turns += [("agent", reply), ("customer", result.customer_line)]
        if progress.ended:
            break
    assert progress.outcome == "resolved"
    assert progress.patience == scenario.persona.patience
    assert progress.emotion is Emotion.SATISFIED


@pytest.mark.parametrize("scenario_id", sorted(SCENARIOS))
def test_every_threat_has_a_model_reply_that_talks_it_down(scenario_id: str) -> None:
    scenario = SCENARIOS[scenario_id]
    crisis = scenario.state(scenario.patience_out.next)
    assert crisis.model_reply is not None
    reading = read_reply(
        crisis.model_reply, turns=[("customer", scenario.patience_out.say)], emotion=ANGRY
    )
    threatened = Progress(state=crisis.id, emotion=ANGRY, patience=0, threatened=True)
    result = step(scenario, threatened, reading.signals)
    assert result.reaction == "solution"
    assert not result.ended and result.progress.emotion is not ANGRY
