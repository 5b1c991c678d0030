"""Script effectiveness (domain/script_effectiveness.py): a hand-computed fixture, matching by
category × priority, small samples, duplicates, no comparison cases, and properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.domain.matched_comparison import Cell
from kefu.domain.script_effectiveness import (
    Measure,
    ScriptEffect,
    ScriptUse,
    TicketOutcome,
    WeakReason,
    effectiveness,
    judge,
)

EASY = ("退款", "P3")
HARD = ("投诉", "P1")


def _ticket(
    ticket_id: int,
    stratum: tuple[str, str],
    resolved: bool,
    *,
    fcr: bool = False,
    csat: int | None = None,
) -> TicketOutcome:
    return TicketOutcome(ticket_id, stratum[0], stratum[1], resolved, fcr, csat)


# Twenty cases. EASY: 1–10, resolved 1–9. HARD: 11–20, resolved 11–15.
# First contact resolved: 1, 3, 4, 5, 11, 14.
# CSAT: 1:5, 2:4, 3:5, 4:2 (EASY); 11:3, 12:5, 14:4, 15:2, 16:1 (HARD); the others unanswered.
_FCR = {1, 3, 4, 5, 11, 14}
_CSAT = {1: 5, 2: 4, 3: 5, 4: 2, 11: 3, 12: 5, 14: 4, 15: 2, 16: 1}
FIXTURE = [
    _ticket(i, EASY if i <= 10 else HARD, i <= 9 or 11 <= i <= 15, fcr=i in _FCR, csat=_CSAT.get(i))
    for i in range(1, 21)
]
# Script 7 on 1, 2 (EASY) and 11, 12, 13, 16 (HARD), with 12 used twice; script 8 only on hard
# cases 14, 15, 17, 18; script 9 on case 99, which has no known outcome.
USES = [
    ScriptUse(7, t) for t in (1, 2, 11, 12, 12, 13, 16)
] + [ScriptUse(8, t) for t in (14, 15, 17, 18)] + [ScriptUse(9, 99)]  # fmt: skip


def _by_id(effects: list[ScriptEffect]) -> dict[int, ScriptEffect]:
    return {e.script_id: e for e in effects}


def test_hand_computed_fixture() -> None:
    effect = _by_id(effectiveness(FIXTURE, USES))[7]
    # Six distinct cases (12 counted once), all known.
    assert (effect.uses, effect.tickets) == (6, 6)

    # Resolution. Script: 1, 2, 11, 12, 13 of 6 → 5/6. Mix: EASY 2/6, HARD 4/6.
    # Comparison EASY 3–10: 7 of 8 resolved; HARD 14, 15, 17–20: 2 of 6.
    # Baseline 2/6·7/8 + 4/6·2/6 = 7/24 + 2/9 = 37/72; difference 60/72 − 37/72 = 23/72.
    # (Unmatched, the other cases resolve 9/14 = 0.643: the mix matters.)
    r = effect.resolution
    assert r.rate == pytest.approx(5 / 6)
    assert r.baseline == pytest.approx(37 / 72)
    assert r.difference == pytest.approx(23 / 72)
    assert (r.n, r.n_matched, r.n_baseline) == (6, 6, 14)
    assert r.test == "exact"  # far too few cases for the normal approximation
    assert r.rate_low is not None and r.rate_high is not None
    assert r.rate_low < 5 / 6 < r.rate_high

    # FCR. Script: 1, 11 → 2/6. Comparison EASY: 3, 4, 5 → 3/8; HARD: 14 → 1/6.
    # Baseline 2/6·3/8 + 4/6·1/6 = 1/8 + 1/9 = 17/72; difference 24/72 − 17/72 = 7/72.
    f = effect.first_contact_resolution
    assert f.rate == pytest.approx(2 / 6)
    assert f.baseline == pytest.approx(17 / 72)
    assert f.difference == pytest.approx(7 / 72)

    # CSAT %. Script's answered cases 1:5, 2:4, 11:3, 12:5, 16:1 → 3 of 5 satisfied.
    # Mix of answered cases: EASY 2/5, HARD 3/5. Comparison EASY 3:5, 4:2 → 1/2;
    # HARD 14:4, 15:2 → 1/2. Baseline 2/5·1/2 + 3/5·1/2 = 1/2; difference 0.6 − 0.5 = 0.1.
    c = effect.csat_satisfied
    assert c.rate == pytest.approx(0.6)
    assert c.baseline == pytest.approx(0.5)
    assert c.difference == pytest.approx(0.1)
    assert (c.n, c.n_matched, c.n_baseline) == (5, 5, 4)

    # CSAT average. Script (5 + 4 + 3 + 5 + 1)/5 = 3.6. Comparison EASY (5 + 2)/2 = 3.5,
    # HARD (4 + 2)/2 = 3. Baseline 2/5·3.5 + 3/5·3 = 3.2; difference 0.4.
    a = effect.csat_average
    assert a.rate == pytest.approx(3.6)
    assert a.baseline == pytest.approx(3.2)
    assert a.difference == pytest.approx(0.4)
    assert a.test == "t"

    # Six cases: nothing is significant, and the script is too little used to judge.
    assert not any(x.significant for x in (r, f, c, a))
    assert effect.weak_reasons == (WeakReason.TOO_FEW_USES,)
    assert effect.weak


def test_judging_tallies_summed_elsewhere_gives_the_same_figures() -> None:
    # What a GROUP BY would give for script 7's resolution: EASY 2 cases, 2 resolved; HARD 4
    # cases, 3 resolved (values 0/1, so the sum of squares is the sum); everyone EASY 10 / 9,
    # HARD 10 / 5.
    group = {Measure.RESOLUTION: {EASY: Cell(2, 2.0, 2.0), HARD: Cell(4, 3.0, 3.0)}}
    everyone = {Measure.RESOLUTION: {EASY: Cell(10, 9.0, 9.0), HARD: Cell(10, 5.0, 5.0)}}
    judged = judge(7, uses=6, group=group, everyone=everyone)
    assert judged.resolution == _by_id(effectiveness(FIXTURE, USES))[7].resolution
    assert judged.tickets == 6 and judged.csat_satisfied.n == 0


def test_matching_compares_hard_cases_with_hard_cases() -> None:
    # Script 8 is used on hard cases 14, 15, 17, 18: 2 of 4 resolved. The other hard cases
    # (11, 12, 13, 16, 19, 20) resolve 3 of 6, so the baseline is 1/2 and the difference 0,
    # though all other cases together resolve 12 of 16.
    effect = _by_id(effectiveness(FIXTURE, USES, min_uses=1))[8]
    assert effect.resolution.baseline == pytest.approx(0.5)
    assert effect.resolution.difference == pytest.approx(0.0)
    assert effect.resolution.n_baseline == 6
    assert not effect.weak


def test_script_on_hard_cases_is_not_weak_even_with_many_of_them() -> None:
    # 200 easy cases resolve 95 %; 200 hard cases 50 %. Script 1 is used on 100 hard cases, 50 of
    # them resolved: like the other hard cases, though the other cases together resolve
    # (190 + 50)/300 = 80 %.
    outcomes = [_ticket(i, EASY, i % 20 != 0) for i in range(200)]
    outcomes += [_ticket(i, HARD, i % 2 == 0) for i in range(200, 400)]
    effect = effectiveness(outcomes, [ScriptUse(1, t) for t in range(200, 300)])[0]
    assert effect.resolution.rate == pytest.approx(0.5)
    assert effect.resolution.baseline == pytest.approx(0.5)
    assert effect.resolution.test == "cmh"
    assert effect.resolution.p_value == pytest.approx(1.0)
    assert WeakReason.WORSE_RESOLUTION not in effect.weak_reasons
    assert not effect.weak


def test_significantly_worse_script_is_weak() -> None:
    # One stratum of 300 cases; the 100 with script 3 resolve 60 %, the other 200 resolve 90 %.
    outcomes = [_ticket(i, EASY, i % 10 < 6) for i in range(100)]
    outcomes += [_ticket(i, EASY, i % 10 != 0, csat=5) for i in range(100, 300)]
    effect = effectiveness(outcomes, [ScriptUse(3, t) for t in range(100)])[0]
    assert effect.resolution.difference == pytest.approx(-0.3)
    assert effect.resolution.significant
    assert effect.resolution.p_value is not None and effect.resolution.p_value < 1e-6
    # No surveys on the script's cases: nothing to say about CSAT.
    assert effect.csat_satisfied.rate is None and effect.csat_satisfied.baseline is None
    assert effect.weak_reasons == (WeakReason.WORSE_RESOLUTION,)


def test_small_sample_is_not_significant() -> None:
    # Three cases, all resolved, against 20 others of which 10 resolved. Fisher's exact test:
    # 13 resolved among 23, 3 drawn; P(3) = C(13,3)/C(23,3) = 286/1771, P(0) = 120/1771,
    # P(1) = 585/1771, P(2) = 780/1771; two-sided p = (286 + 120)/1771 = 0.229.
    outcomes = [_ticket(i, EASY, i < 3 or i % 2 == 1) for i in range(23)]
    effect = effectiveness(outcomes, [ScriptUse(5, t) for t in range(3)])[0]
    r = effect.resolution
    assert r.difference == pytest.approx(0.5)
    assert r.test == "exact"
    assert r.p_value == pytest.approx(406 / 1771)
    assert not r.significant


def test_ranking_does_not_reward_tiny_samples() -> None:
    # Baseline 70 % on 400 cases; script 1: 300 cases at 85 %; script 2: 3 cases, all resolved.
    outcomes = [_ticket(i, EASY, i % 10 < 7, fcr=i % 10 < 7) for i in range(400)]
    outcomes += [_ticket(i, EASY, i % 20 < 17, fcr=i % 20 < 17) for i in range(400, 700)]
    outcomes += [_ticket(i, EASY, True, fcr=True) for i in range(700, 703)]
    uses = [ScriptUse(1, t) for t in range(400, 700)] + [ScriptUse(2, t) for t in range(700, 703)]
    ranked = effectiveness(outcomes, uses)
    tiny, proven = _by_id(ranked)[2], _by_id(ranked)[1]
    assert tiny.resolution.difference is not None and proven.resolution.difference is not None
    assert tiny.resolution.difference > proven.resolution.difference
    assert [e.script_id for e in ranked] == [1, 2]
    assert proven.score is not None and proven.score > 0


def test_script_with_no_comparison_cases() -> None:
    outcomes = [_ticket(i, EASY, i % 2 == 0, csat=4) for i in range(40)]
    uses = [ScriptUse(4, t) for t in range(40)] + [ScriptUse(6, t) for t in range(5)]
    ranked = effectiveness(outcomes, uses)
    everywhere = _by_id(ranked)[4]
    for figure in (everywhere.resolution, everywhere.csat_satisfied, everywhere.csat_average):
        assert figure.baseline is None and figure.difference is None
        assert figure.p_value is None and not figure.significant
        assert figure.n == 40 and figure.n_baseline == 0
    assert everywhere.resolution.rate == pytest.approx(0.5)
    assert everywhere.score is None and not everywhere.weak
    assert ranked[-1] is everywhere  # no score: ranked last


def test_duplicates_count_once_and_unknown_cases_are_uses_only() -> None:
    effects = _by_id(effectiveness(FIXTURE, USES + USES))
    assert effects == _by_id(effectiveness(FIXTURE, USES))
    assert (effects[9].uses, effects[9].tickets) == (1, 0)
    assert effects[9].resolution.rate is None and effects[9].score is None


def test_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="between 1 and 5"):
        _ticket(1, EASY, True, csat=6)
    with pytest.raises(ValueError, match="two outcomes"):
        effectiveness([_ticket(1, EASY, True), _ticket(1, HARD, False)], [])


_outcomes = st.lists(
    st.builds(
        TicketOutcome,
        ticket_id=st.integers(0, 40),
        category=st.sampled_from(["退款", "物流", "质量"]),
        priority=st.sampled_from(["P1", "P3"]),
        resolved=st.booleans(),
        first_contact_resolved=st.booleans(),
        csat=st.none() | st.integers(1, 5),
    ),
    max_size=40,
    unique_by=lambda o: o.ticket_id,
)
_uses = st.lists(st.builds(ScriptUse, st.integers(0, 5), st.integers(0, 45)), max_size=60)


@settings(max_examples=60, deadline=None)
@given(_outcomes, _uses)
def test_relabelling_scripts_changes_no_figure(
    outcomes: list[TicketOutcome], uses: list[ScriptUse]
) -> None:
    relabelled = [ScriptUse(1000 - u.script_id, u.ticket_id) for u in uses]
    before = _by_id(effectiveness(outcomes, uses))
    after = _by_id(effectiveness(outcomes, relabelled))
    assert {1000 - k for k in before} == set(after)
    for script_id, effect in before.items():
        moved = after[1000 - script_id]
        assert moved == ScriptEffect(**{**effect.__dict__, "script_id": moved.script_id})


@settings(max_examples=60, deadline=None)
@given(_outcomes, _uses)
def test_figures_are_consistent(outcomes: list[TicketOutcome], uses: list[ScriptUse]) -> None:
    every_case = [ScriptUse(77, o.ticket_id) for o in outcomes]
    for effect in effectiveness(outcomes, uses + every_case):
        figures = (effect.resolution, effect.first_contact_resolution, effect.csat_satisfied)
        for figure in (*figures, effect.csat_average):
            assert figure.n_matched <= figure.n <= effect.tickets <= effect.uses
            if figure.p_value is not None:
                assert 0.0 <= figure.p_value <= 1.0
                assert figure.significant == (figure.p_value < 0.05)
            if figure.difference_low is not None and figure.difference_high is not None:
                assert figure.difference is not None
                assert figure.difference_low <= figure.difference + 1e-9
                assert figure.difference <= figure.difference_high + 1e-9
        if effect.script_id == 77:  # used on every case: nothing to compare with
            assert all(f.baseline is None for f in figures)
            assert effect.score is None
