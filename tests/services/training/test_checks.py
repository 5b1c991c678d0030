"""scenario_warnings: the analysis engine reads each shipped scenario as its persona says."""

from __future__ import annotations

from dataclasses import replace

from kefu.domain.triage_labels import Emotion
from kefu.services.training.checks import scenario_warnings
from kefu.training.loader import shipped


def test_every_shipped_scenario_reads_as_written() -> None:
    assert {s.id: scenario_warnings(s) for s in shipped()} == {s.id: [] for s in shipped()}


def test_a_calm_threat_and_a_wrong_persona_are_reported() -> None:
    scenario = shipped()[0]
    calm = replace(
        scenario,
        persona=replace(scenario.persona, emotion=Emotion.SATISFIED),
        patience_out=replace(scenario.patience_out, say="好的，我再等等。"),
    )
    warnings = scenario_warnings(calm)
    assert len(warnings) == 2
    assert "与客户画像的情绪「satisfied」不一致" in warnings[0]
    assert warnings[1].startswith("patience_out 的台词没有被识别为危机")
