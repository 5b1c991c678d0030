"""Scenario YAML: malformed files refused with clear errors; every shipped scenario loads."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from kefu.domain.training.validation import ScenarioError
from kefu.training.loader import load_file, load_text, shipped

REPO = Path(__file__).resolve().parents[2]
CASE_TYPES = {
    "物流延误",
    "重复扣款",
    "退款被拒",
    "质量投诉",
    "话费账单异常",
    "外卖超时送错",
    "航班取消",
    "课程退费",
    "停电",
    "水费账单异常",
    "服务态度",
    "媒体曝光威胁/12315",
    "社交媒体热帖",
}
INDUSTRIES = {"retail", "finance", "telecom", "food_delivery", "travel", "education", "utilities"}


def _problems(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_text(text, source="team.yaml")
    return caught.value.problems


def test_broken_yaml_is_refused_with_its_line() -> None:
    problems = _problems("id: x\ntitle: [unclosed\n")
    assert len(problems) == 1 and problems[0].startswith("YAML 格式错误第 3 行")


def test_an_empty_file_is_refused() -> None:
    assert _problems("") == ["场景文件的顶层必须是键值表"]


def test_a_file_missing_most_fields_names_them() -> None:
    problems = _problems("id: x\ntitle: 测试\n")
    assert "缺少字段 states" in problems and "缺少字段 persona" in problems


def test_safe_load_refuses_python_tags() -> None:
    problems = _problems("!!python/object/apply:os.system ['true']\n")
    assert problems[0].startswith("YAML 格式错误")


def test_load_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("id: mine\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"^mine\.yaml: 缺少字段"):
        load_file(path)


def test_every_shipped_scenario_loads_and_covers_the_case_types() -> None:
    scenarios = shipped()
    assert len(scenarios) >= 12
    assert {s.case_type for s in scenarios} >= CASE_TYPES
    assert {s.industry for s in scenarios} >= INDUSTRIES
    assert sum(s.case_type in {"媒体曝光威胁/12315", "社交媒体热帖"} for s in scenarios) >= 2


def test_every_shipped_scenario_has_the_drill_shape() -> None:
    for scenario in shipped():
        playable = [s for s in scenario.states.values() if s.end is None]
        assert len(playable) >= 4, scenario.id
        reactions = {name for s in playable for name in s.reactions}
        assert reactions >= {"empathy", "blame", "vague", "solution", "closing"}, scenario.id
        assert {s.end for s in scenario.states.values()} >= {"resolved", "escalated"}, scenario.id
        for state in playable:
            assert state.model_reply, f"{scenario.id}.{state.id} has no model reply"


def test_every_state_of_every_shipped_scenario_is_reachable() -> None:
    # parse_scenario refuses unreachable states; this walks the graph again independently.
    for scenario in shipped():
        seen = {scenario.start, scenario.patience_out.next}
        todo = list(seen)
        while todo:
            for reaction in scenario.state(todo.pop()).reactions.values():
                if reaction.next not in seen:
                    seen.add(reaction.next)
                    todo.append(reaction.next)
        assert seen == set(scenario.states), scenario.id


def test_the_scenarios_ship_in_the_wheel() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert "training/scenarios/*.yaml" in config["tool"]["setuptools"]["package-data"]["kefu"]
