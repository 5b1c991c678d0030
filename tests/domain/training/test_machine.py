"""The simulated customer's state machine: which reaction wins, emotion and patience, endings."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.domain.training.machine import (
    PRECEDENCE,
    Progress,
    begin,
    choose_reaction,
    move_emotion,
    step,
)
from kefu.domain.training.scenario import REACTIONS
from kefu.domain.training.validation import parse_scenario
from kefu.domain.triage_labels import Emotion
from tests.domain.training.scenario_data import minimal

SCENARIO = parse_scenario(minimal())
A, N, S = Emotion.ANXIOUS, Emotion.NEUTRAL, Emotion.SATISFIED


def test_begin_at_the_persona() -> None:
    assert begin(SCENARIO) == Progress(state="opening", emotion=A, patience=2)


def test_blame_beats_empathy_and_question() -> None:
    state = SCENARIO.state("opening")
    assert choose_reaction(state, frozenset({"empathy", "question", "blame"})) == "blame"
    assert choose_reaction(state, frozenset({"empathy", "question"})) == "question"
    assert choose_reaction(state, frozenset({"empathy"})) == "empathy"


def test_a_signal_the_state_does_not_know_falls_to_the_next_then_other() -> None:
    offer = SCENARIO.state("offer")
    assert choose_reaction(offer, frozenset({"question", "empathy"})) == "other"
    assert choose_reaction(offer, frozenset({"jargon", "solution"})) == "solution"
    assert choose_reaction(offer, frozenset()) == "other"


def test_precedence_covers_every_reaction_but_other() -> None:
    assert set(PRECEDENCE) == set(REACTIONS) - {"other"}
    assert PRECEDENCE[0] == "blame"


def test_the_good_path_calms_and_resolves() -> None:
    first = step(SCENARIO, begin(SCENARIO), frozenset({"empathy", "question"}))
    assert (first.customer_line, first.progress.state, first.progress.emotion) == (
        "订单号 123。",
        "offer",
        N,
    )
    second = step(SCENARIO, first.progress, frozenset({"solution"}))
    assert second.progress.emotion is S
    last = step(SCENARIO, second.progress, frozenset({"closing"}))
    assert last.ended and last.progress.outcome == "resolved"
    assert last.progress.emotion is S  # the bottom of the ladder holds
    with pytest.raises(ValueError, match="already ended"):
        step(SCENARIO, last.progress, frozenset({"closing"}))


def test_patience_runs_out_into_the_threat_once() -> None:
    first = step(SCENARIO, begin(SCENARIO), frozenset({"blame"}))
    assert (first.reaction, first.progress.emotion, first.progress.patience) == (
        "blame",
        Emotion.ANGRY,
        1,
    )
    second = step(SCENARIO, first.progress, frozenset({"vague"}))
    assert second.reaction == "patience_out"
    assert second.customer_line == "我要去12315投诉！"
    assert (second.progress.state, second.progress.emotion) == ("threat", Emotion.ANGRY)
    assert second.progress.threatened and not second.ended
    # no second threat: the threat state's own reactions decide from here
    third = step(SCENARIO, second.progress, frozenset({"blame"}))
    assert third.reaction == "blame"
    assert third.progress.outcome == "escalated"


def test_the_threat_can_still_be_talked_down() -> None:
    progress = Progress(state="threat", emotion=Emotion.ANGRY, patience=0, threatened=True)
    calmer = step(SCENARIO, progress, frozenset({"solution", "empathy"}))
    assert (calmer.progress.state, calmer.progress.emotion) == (
        "agreed",
        A,
    )  # down to the persona's hurt


def test_emotion_ladder() -> None:
    assert move_emotion(A, "rise", A) is Emotion.ANGRY
    assert move_emotion(A, "fall", A) is N
    assert move_emotion(Emotion.ANGRY, "fall", Emotion.ANGRY) is Emotion.DISAPPOINTED
    assert move_emotion(Emotion.ANGRY, "rise", A) is Emotion.ANGRY
    assert move_emotion(N, "same", A) is N
    assert move_emotion(N, "angry", A) is Emotion.ANGRY  # a label sets it


@given(st.lists(st.frozensets(st.sampled_from(REACTIONS[:-1])), max_size=30))
def test_no_sequence_of_replies_breaks_the_machine(replies: list[frozenset[str]]) -> None:
    progress = begin(SCENARIO)
    for signals in replies:
        if progress.ended:
            break
        result = step(SCENARIO, progress, signals)
        progress = result.progress
        assert progress.state in SCENARIO.states
        assert 0 <= progress.patience <= SCENARIO.persona.patience
        assert result.customer_line
        assert progress.ended == (SCENARIO.state(progress.state).end is not None)
