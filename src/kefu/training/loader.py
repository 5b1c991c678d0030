"""Reading scenario YAML (``yaml.safe_load``) into validated scenarios; every problem of a file
is reported with the file's name."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml

from kefu.domain.training.scenario import Scenario
from kefu.domain.training.validation import ScenarioError, parse_scenario


def load_text(text: str, *, source: str = "scenario") -> Scenario:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"第 {mark.line + 1} 行" if mark is not None else ""
        raise ScenarioError(source, [f"YAML 格式错误{where}：{getattr(e, 'problem', e)}"]) from e
    return parse_scenario(raw, source=source)


def load_file(path: Path) -> Scenario:
    return load_text(path.read_text(encoding="utf-8"), source=path.name)


def shipped() -> list[Scenario]:
    """Every scenario kefu ships, by file name; two files with one id are refused."""
    folder = resources.files("kefu.training").joinpath("scenarios")
    scenarios: list[Scenario] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            scenarios.append(load_text(entry.read_text(encoding="utf-8"), source=entry.name))
    seen: set[str] = set()
    for scenario in scenarios:
        if scenario.id in seen:
            raise ScenarioError("scenarios", [f"场景 id {scenario.id} 重复"])
        seen.add(scenario.id)
    return scenarios
