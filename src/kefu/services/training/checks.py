"""``scenario_warnings``: where a scenario and kefu's analysis engine disagree, for the team
writing it. The simulated customer should read to kefu as the persona says: its opening with
the persona's emotion, its ``patience_out`` threat as a crisis (media, regulator or legal)."""

from __future__ import annotations

from kefu.domain.training.scenario import Scenario
from kefu.domain.triage_labels import Risk
from kefu.nlp.analysis import analyze

CRISIS_RISKS = frozenset({Risk.MEDIA, Risk.REGULATOR, Risk.LEGAL})


def scenario_warnings(scenario: Scenario) -> list[str]:
    warnings = []
    opening = analyze(scenario.opening).emotion
    if opening is not scenario.persona.emotion:
        warnings.append(
            f"开场白被分析为「{opening.value}」，与客户画像的情绪「{scenario.persona.emotion.value}」不一致"
        )
    if not CRISIS_RISKS & set(analyze(scenario.patience_out.say).risks):
        warnings.append("patience_out 的台词没有被识别为危机（媒体、监管或法律）")
    return warnings
