"""The priority cues read from the text (sentences written for these tests)."""

from __future__ import annotations

import pytest

from kefu.nlp.cues import find_cues
from kefu.nlp.normalize import normalize


def cues_of(text: str) -> tuple[bool, bool, bool]:
    found = find_cues(normalize(text).text)
    return found.money_lost, found.repeat_contact, found.deadline


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("话费被扣了两次，赶紧退给我", (True, False, False)),
        ("退款到现在还没到账，都一周了", (True, False, False)),
        ("机票改签多收了200元手续费", (True, False, False)),
        ("昨天刚买今天就降价100，价保也不给", (True, False, False)),
        ("这是我第三次打电话了，宽带还是没人来修", (False, True, False)),
        ("催了好几次了，外卖还没送到", (False, True, False)),
        ("同样的问题我说了多少遍了", (False, True, False)),
        ("转了四个客服都没解决", (False, True, False)),
        ("明天一早要出差，充电器今天能到吗", (False, False, True)),
        ("周五前必须拿到发票，公司要报销", (False, False, True)),
        ("活动今晚12点结束，现在下单来得及吗", (False, False, True)),
        ("請問這款耳機有現貨嗎", (False, False, False)),
        ("回购第三次了，一如既往的好吃", (False, False, False)),
        ("页面上又没写清楚尺码", (False, False, False)),
    ],
)
def test_cues(text, expected):
    assert cues_of(text) == expected


def test_traditional_and_full_width_input():
    assert cues_of("已經第３次聯絡你們了，退款還沒收到") == (True, True, False)
