"""The pure rules of one customer across channels: contacts compared, what proves one, decisions."""

from __future__ import annotations

import pytest

from kefu.domain import customer_joins as rules
from kefu.domain.customer_joins import ContactKind, Decision, JoinState, Proof


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812345678", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("0086 13812345678", "13812345678"),
        ("８６１３８１２３４５６７８", "13812345678"),  # full-width digits
        ("021-6543 2100", "02165432100"),
        ("1234", None),
        ("", None),
    ],
)
def test_phone_numbers_are_compared_as_digits_without_the_country_code(raw, expected) -> None:
    assert rules.normalize_phone(raw) == expected


def test_email_addresses_are_compared_in_lower_case_and_half_width() -> None:
    assert rules.normalize_email(" Li.Lei@Example.COM ") == "li.lei@example.com"
    assert rules.normalize_email("<li＠example.com>") == "li@example.com"
    assert rules.normalize_email("not an address") is None
    assert rules.normalize_email("a@b") is None


def test_only_e_mail_phone_and_sms_identities_are_contacts() -> None:
    assert rules.contact_of_identity("email", "A@x.cn") == (ContactKind.EMAIL, "a@x.cn")
    assert rules.contact_of_identity("sms", "+8613812345678") == (ContactKind.PHONE, "13812345678")
    assert rules.contact_of_identity("wechat", "oAbc123") is None
    assert rules.contact_of_identity("email", "garbage") is None


def test_what_proves_a_contact() -> None:
    assert {p for p in Proof if p.verified} == {Proof.SIGNED_CLAIM, Proof.BOUND, Proof.CODE}
    assert not Proof.HEADER.verified  # a From header proves nothing


@pytest.mark.parametrize(
    ("this", "other", "earlier", "expected"),
    [
        (True, True, None, Decision.JOIN),
        (True, False, None, Decision.SUGGEST),
        (False, True, None, Decision.SUGGEST),
        (False, False, None, Decision.SUGGEST),
        (True, True, JoinState.SUGGESTED, Decision.JOIN),  # proven since the suggestion
        (False, True, JoinState.SUGGESTED, Decision.NOTHING),  # suggested once is enough
        (True, True, JoinState.DISMISSED, Decision.NOTHING),  # people decided
        (True, True, JoinState.UNDONE, Decision.NOTHING),
        (True, True, JoinState.JOINED, Decision.NOTHING),
    ],
)
def test_only_both_sides_proven_join_automatically(this, other, earlier, expected) -> None:
    assert rules.decide(this_verified=this, other_verified=other, earlier=earlier) == expected


def test_the_older_profile_absorbs_the_newer() -> None:
    assert rules.join_direction(9, 4) == (4, 9)


def test_codes_are_found_in_what_customers_write() -> None:
    assert rules.codes_in("验证码是 482913，谢谢") == ["482913"]
    assert rules.codes_in("４８２９１３") == ["482913"]
    assert rules.codes_in("482 913") == ["482913"]
    assert (
        rules.codes_in("订单号 20261207001，电话 13812345678") == []
    )  # longer numbers are not codes
    code = rules.new_code()
    assert len(code) == 6 and code.isdigit()
