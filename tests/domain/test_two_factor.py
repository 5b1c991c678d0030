"""TOTP codes and recovery codes: the drift either side, no step twice, what a code looks like."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
from hypothesis import given
from hypothesis import strategies as st

from kefu.domain import two_factor as rules

NOW = datetime(2026, 12, 7, 12, 0, 10, tzinfo=UTC)
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _code(at: datetime) -> str:
    return pyotp.TOTP(SECRET).at(at)


def test_the_code_of_now_and_of_one_step_either_side_match_their_steps():
    step = pyotp.TOTP(SECRET).timecode(NOW)
    assert rules.matching_step(SECRET, _code(NOW), NOW, after=None) == step
    assert (
        rules.matching_step(SECRET, _code(NOW - timedelta(seconds=30)), NOW, after=None) == step - 1
    )
    assert (
        rules.matching_step(SECRET, _code(NOW + timedelta(seconds=30)), NOW, after=None) == step + 1
    )
    assert rules.matching_step(SECRET, _code(NOW - timedelta(seconds=60)), NOW, after=None) is None
    assert rules.matching_step(SECRET, _code(NOW + timedelta(seconds=90)), NOW, after=None) is None


def test_a_step_used_already_or_an_earlier_one_is_refused():
    step = pyotp.TOTP(SECRET).timecode(NOW)
    assert rules.matching_step(SECRET, _code(NOW), NOW, after=step) is None
    assert rules.matching_step(SECRET, _code(NOW - timedelta(seconds=30)), NOW, after=step) is None
    later = NOW + timedelta(seconds=30)
    assert rules.matching_step(SECRET, _code(later), later, after=step) == step + 1


def test_typed_spaces_are_ignored_and_other_shapes_refused():
    code = _code(NOW)
    assert rules.matching_step(SECRET, f" {code[:3]} {code[3:]} ", NOW, after=None) is not None
    for typed in ("", "12345", "1234567", "abcdef", code + "0"):
        assert rules.matching_step(SECRET, typed, NOW, after=None) is None


def test_recovery_codes_are_ten_distinct_readable_codes():
    codes = rules.new_recovery_codes()
    assert len(codes) == 10 == len(set(codes))
    for code in codes:
        assert len(code) == 11 and code[5] == "-"
        assert rules.looks_like_recovery_code(code)
        assert rules.looks_like_recovery_code(code.upper().replace("-", " "))
        assert not set(code) & set("01lio")
    assert not rules.looks_like_recovery_code("123456")


def test_the_provisioning_uri_names_kefu_and_the_account():
    uri = rules.provisioning_uri(SECRET, "agent@example.cn")
    assert uri.startswith("otpauth://totp/kefu:agent%40example.cn?")
    assert f"secret={SECRET}" in uri and "issuer=kefu" in uri
    assert len(rules.new_secret()) == 32


@given(st.text(max_size=30))
def test_no_typed_text_breaks_the_check(typed):
    near = {_code(NOW + timedelta(seconds=30 * k)) for k in (-1, 0, 1)}
    result = rules.matching_step(SECRET, typed, NOW, after=None)
    assert (result is not None) == (rules.normal_code(typed) in near)
