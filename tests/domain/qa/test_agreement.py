import pytest

from kefu.domain.qa.agreement import agreement


def test_agreement_and_kappa_of_a_worked_example():
    # 10 pairs: 4 pass/pass, 3 fail/fail, 1 pass/fail, 2 fail/pass → observed 0.7;
    # automatic: pass 5, fail 5; people: pass 6, fail 4 → chance (5·6 + 5·4)/100 = 0.5
    pairs = [("pass", "pass")] * 4 + [("fail", "fail")] * 3 + [("pass", "fail")]
    pairs += [("fail", "pass")] * 2
    got = agreement(pairs)
    assert got.pairs == 10 and got.agreement == pytest.approx(0.7)
    assert got.kappa == pytest.approx(0.4)
    assert not got.trusted


def test_perfect_chance_and_empty():
    assert agreement([("pass", "pass")] * 3).kappa == 1.0
    assert agreement([("pass", "pass"), ("fail", "fail")]).kappa == 1.0
    assert agreement([]).agreement is None
    same_side = agreement([("pass", "pass"), ("pass", "fail")])
    assert same_side.agreement == 0.5 and same_side.kappa == 0.0
