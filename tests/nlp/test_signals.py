"""Dense signals: the word groups count what they name and not its look-alikes."""

from __future__ import annotations

import pytest

from kefu.nlp.signals import SIGNALS, read


def _signal(name: str, text: str) -> float:
    return SIGNALS[name](read(text))


@pytest.mark.parametrize(
    "text",
    [
        "我的快递一周了还没到！",
        "外卖迟迟不到",
        "退款至今未到账",
        "订单一直没发货",
        "说好回电，到现在都没有人联系我",
        "還沒有人回覆我",  # traditional, simplified first
        "發貨都一個禮拜了還沒收到",
        "訂咗嘅嘢仲未到",  # Cantonese
        "上門安裝約咗兩次都冇人嚟",
        "工单提交了一个月，石沉大海",
        "宽带装机约了三天都没人上门",
    ],
)
def test_overdue_counts_what_is_still_not_done(text):
    assert _signal("lex_overdue", text) > 0


@pytest.mark.parametrize(
    "text", ["我还没决定买哪个", "都没问题，谢谢", "还没用过，不知道好不好", "快递到了，谢谢"]
)
def test_overdue_is_silent_on_what_was_never_due(text):
    assert _signal("lex_overdue", text) == 0


@pytest.mark.parametrize(
    "text", ["快递还没到", "请尽快处理", "快点发货", "手机快没电了", "牛奶漏了"]
)
def test_praise_skips_words_that_only_look_like_it(text):
    """快 of 快递 or 尽快 and 牛 of 牛奶 praise nothing: counted as praise, they made
    「我的快递一周了还没到！」 read as praise."""
    assert _signal("lex_praise", text) == 0


@pytest.mark.parametrize("text", ["发货很快", "速度快，好评", "师傅太牛了"])
def test_praise_still_counts_speed_and_admiration(text):
    assert _signal("lex_praise", text) > 0
