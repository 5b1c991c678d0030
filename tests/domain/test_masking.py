from hypothesis import given
from hypothesis import strategies as st

from kefu.domain.masking import mask_personal_data


def test_mobile_numbers():
    assert mask_personal_data("电话13812345678") == "电话138****5678"
    assert mask_personal_data("+86 138 1234 5678") == "138****5678"
    assert mask_personal_data("138-1234-5678 call me") == "138****5678 call me"


def test_id_card_keeps_region_and_last_four():
    assert mask_personal_data("身份证110101199003071234") == "身份证110101********1234"
    assert mask_personal_data("11010119900307123X") == "110101********123X"


def test_bank_card():
    assert mask_personal_data("卡号6222021234567890123") == "卡号6222********0123"
    assert mask_personal_data("6222 0212 3456 7890") == "6222********7890"


def test_email():
    assert mask_personal_data("mail wang.xm@example.cn") == "mail w***@example.cn"


def test_order_numbers_and_short_numbers_stay():
    text = "订单SL2024061512 金额299元 共3件，快递单号 75123456"
    assert mask_personal_data(text) == text


@given(st.text())
def test_never_raises_and_is_idempotent(text):
    once = mask_personal_data(text)
    assert mask_personal_data(once) == once
