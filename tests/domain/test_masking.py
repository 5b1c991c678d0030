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


# --- redaction (the case library) ---------------------------------------------------------------

from kefu.domain.masking import redact_personal_data  # noqa: E402


def test_redaction_removes_numbers_however_they_are_written():
    cases = {
        "电话１３８１２３４５６７８": "电话【手机号】",  # full-width digits
        "打 +86 138-1234-5678 找我": "打 【手机号】 找我",
        "1 3 8 1 2 3 4 5 6 7 8 打我": "【号码】 打我",  # spaced out
        "座机 010-12345678": "座机 【电话】",
        "身份证11010119900307123X": "身份证【证件号】",
        "卡号 6222 0212 3456 7890 123": "卡号 【卡号】",
        "订单号：SL2024061512": "订单号：【单号】",
        "快递单号是 YT7788123": "快递单号是 【单号】",
        "单号75123456": "单号【单号】",
        "订单 JD0012345 没到": "订单 【单号】 没到",
        "微信号 wxid_abc123，QQ：12345": "微信号 【账号】，QQ：【账号】",
        "邮箱 wang.xm (at) example.cn": "邮箱 【邮箱】",
        "mail Wang_X@Example.COM now": "mail 【邮箱】 now",
    }
    for raw, expected in cases.items():
        assert redact_personal_data(raw) == expected, raw


def test_redaction_removes_addresses_and_names():
    assert redact_personal_data("收货地址：北京市朝阳区建国路88号院3号楼2单元501室，谢谢") == (
        "收货地址：【地址】，谢谢"
    )
    assert redact_personal_data("送到杭州市西湖区文三路100号了") == "送到【地址】了"
    assert redact_personal_data("阳光小区5栋2单元301室门口") == "【地址】门口"
    assert redact_personal_data("王先生和欧阳女士都说过") == "【姓名】和【姓名】都说过"
    assert redact_personal_data("我叫张伟，收件人：李小红") == "我叫【姓名】，收件人：【姓名】"
    known = [("陈静", "【客户】"), ("cj_2024", "【账号】")]
    assert redact_personal_data("陈静（cj_2024）又来问了", known) == "【客户】（【账号】）又来问了"


def test_redaction_leaves_the_problem_readable():
    for text in (
        "大促期间运力没有提前加派，联系快递加急派送",
        "2026-12-07 下单，金额299元，共3件，等了5天",
        "退还差价并说明计费明细，补发新品",
        "为什么漏检？该批次抽检比例偏低",
    ):
        assert redact_personal_data(text) == text


@given(st.text())
def test_redaction_never_raises_and_is_idempotent(text):
    once = redact_personal_data(text)
    assert redact_personal_data(once) == once


def test_agents_read_numbers_masked_and_supervisors_in_full():
    from kefu.domain.masking import mask_numbers, sees_full_numbers
    from kefu.domain.roles import Role

    assert [sees_full_numbers(r) for r in Role] == [False, False, True, True]
    text = "电话 13812345678，身份证 110101199003071234，卡号 6222 0200 1234 5678，邮箱 a@b.cn"
    assert mask_numbers(text) == (
        "电话 138****5678，身份证 110101********1234，卡号 ****5678，邮箱 a@b.cn"
    )
    assert mask_numbers("订单 2024-05-06 已发货") == "订单 2024-05-06 已发货"
