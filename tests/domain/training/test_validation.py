"""parse_scenario: a valid scenario parses; a broken one is refused with every problem named."""

from __future__ import annotations

import pytest

from kefu.domain.training.validation import ScenarioError, parse_scenario
from kefu.domain.triage_labels import Emotion
from tests.domain.training.scenario_data import minimal


def _problems(raw: object) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(raw, source="broken.yaml")
    assert str(caught.value).startswith("broken.yaml: ")
    return caught.value.problems


def test_a_valid_scenario_parses() -> None:
    scenario = parse_scenario(minimal())
    assert scenario.persona.emotion is Emotion.ANXIOUS
    assert scenario.state("opening").reactions["question"].next == "offer"
    assert scenario.state("resolved").end == "resolved"
    assert scenario.state("opening").model_reply
    assert [g.id for g in scenario.goals] == ["calm", "close"]


def test_not_a_mapping() -> None:
    assert _problems(["a", "list"]) == ["场景文件的顶层必须是键值表"]


def test_missing_and_unknown_fields_are_all_named() -> None:
    raw = minimal()
    del raw["opening"], raw["patience_out"]
    raw["colour"] = "red"
    problems = _problems(raw)
    assert "缺少字段 opening" in problems
    assert "缺少字段 patience_out" in problems
    assert "未知字段 colour" in problems


def test_unknown_state_target() -> None:
    raw = minimal()
    raw["states"]["offer"]["reactions"]["solution"]["next"] = "nowhere"
    assert "状态 offer.solution 指向未知状态 nowhere" in _problems(raw)


def test_unknown_start_and_patience_out_target() -> None:
    raw = minimal()
    raw["start"] = "hello"
    raw["patience_out"]["next"] = "crisis"
    problems = _problems(raw)
    assert "start 指向未知状态 hello" in problems
    assert "patience_out 指向未知状态 crisis" in problems


def test_unknown_reaction() -> None:
    raw = minimal()
    raw["states"]["offer"]["reactions"]["sarcasm"] = {"say": "呵呵", "next": "offer"}
    assert any("反应「sarcasm」未知" in p for p in _problems(raw))


def test_missing_line_and_missing_other() -> None:
    raw = minimal()
    raw["states"]["offer"]["reactions"]["blame"]["say"] = "  "
    del raw["states"]["agreed"]["reactions"]["other"]
    problems = _problems(raw)
    assert "状态 offer.blame.say（客户台词） 必须是非空文字" in problems
    assert any(p.startswith("状态 agreed 缺少 other 反应") for p in problems)


def test_unreachable_state_is_flagged() -> None:
    raw = minimal()
    raw["states"]["island"] = {"reactions": {"other": {"say": "……", "next": "island"}}}
    assert _problems(raw) == ["状态 island 无法到达"]


def test_cycles_without_an_end_are_fine_when_every_state_is_reachable() -> None:
    raw = minimal()
    raw["states"]["loop"] = {"reactions": {"other": {"say": "再说一遍", "next": "offer"}}}
    raw["states"]["offer"]["reactions"]["other"]["next"] = "loop"
    assert parse_scenario(raw).state("loop").reactions["other"].next == "offer"


def test_both_endings_must_be_reachable() -> None:
    raw = minimal()
    raw["states"]["threat"]["reactions"]["blame"]["next"] = "threat"
    problems = _problems(raw)
    assert "状态 escalated 无法到达" in problems
    assert "没有可到达的 escalated 结束状态" in problems


def test_bad_persona_emotion_and_patience() -> None:
    raw = minimal()
    raw["persona"]["emotion"] = "furious"
    assert any(p.startswith("persona.emotion「furious」不是情绪标签") for p in _problems(raw))
    raw = minimal()
    raw["persona"]["patience"] = 9
    assert _problems(raw) == ["persona.patience 必须是 1–5 的整数"]


def test_bad_emotion_change_and_channel() -> None:
    raw = minimal()
    raw["states"]["offer"]["reactions"]["blame"]["emotion"] = "explode"
    raw["channel"] = "pigeon"
    problems = _problems(raw)
    assert "状态 offer.blame.emotion「explode」应为 rise、fall、same 或情绪标签" in problems
    assert "channel「pigeon」不是已知渠道" in problems


def test_an_ending_state_with_reactions_and_a_bad_ending() -> None:
    raw = minimal()
    raw["states"]["resolved"]["reactions"] = {"other": {"say": "嗯", "next": "agreed"}}
    raw["states"]["escalated"]["end"] = "exploded"
    problems = _problems(raw)
    assert "状态 resolved 是结束状态，不能再有 reactions" in problems
    assert "状态 escalated.end「exploded」应为 resolved 或 escalated" in problems


def test_a_state_neither_ending_nor_reacting() -> None:
    raw = minimal()
    raw["states"]["offer"] = {"model_reply": "好的"}
    assert "状态 offer 既不是结束状态（end），也没有 reactions" in _problems(raw)
