"""Ranking: a failed condition excludes a script; met conditions add up; ties go to the older."""

from __future__ import annotations

from kefu.domain.scripts.ranking import Conditions, Situation, best, score

ANGRY_LOGISTICS = Situation(
    intent="complaint", category="logistics", emotion="angry", stage="registered",
    profiles=frozenset({"vip"}),
)  # fmt: skip


def test_a_condition_the_situation_does_not_meet_excludes_the_script():
    assert score(Conditions.of({"categories": ["quality"]}), ANGRY_LOGISTICS) is None
    assert score(Conditions.of({"profiles": ["repeat_complaint"]}), ANGRY_LOGISTICS) is None
    assert score(Conditions.of({"first_reply": True}), ANGRY_LOGISTICS) is None


def test_more_specific_scripts_score_higher():
    general = Conditions.of({"intents": ["complaint"]})
    specific = Conditions.of({"intents": ["complaint"], "categories": ["logistics"]})
    angry = Conditions.of(
        {"intents": ["complaint"], "categories": ["logistics"], "emotions": ["angry", "anxious"]}
    )
    ranked = best([("g", general, 1), ("s", specific, 2), ("a", angry, 3)], ANGRY_LOGISTICS, 3)
    assert [name for name, _ in ranked] == ["a", "s", "g"]


def test_ties_go_to_the_older_script_and_the_limit_holds():
    same = Conditions.of({"categories": ["logistics"]})
    ranked = best([("new", same, 9), ("old", same, 2), ("mid", same, 5)], ANGRY_LOGISTICS, 2)
    assert [name for name, _ in ranked] == ["old", "mid"]


def test_conditions_round_trip_and_drop_empty_lists():
    data = {"intents": ["complaint"], "emotions": [], "first_reply": False}
    assert Conditions.of(data).as_dict() == {"intents": ["complaint"], "first_reply": False}
    assert Conditions.of(None) == Conditions()
