"""The priority cues read from the text (sentences written for these tests).

Each cue has positives from several industries (shop, food delivery, telecom, bank and insurer,
travel, education and software, local services), in traditional characters with Taiwanese or
Cantonese wording, and as voice-to-text without punctuation; the traps are negatives.
"""

from __future__ import annotations

import pytest

from kefu.nlp.cues import CUE_PATTERNS, _first_chars, find_cue_spans, find_cues
from kefu.nlp.normalize import normalize


def cues_of(text: str) -> tuple[bool, bool, bool]:
    found = find_cues(normalize(text).text)
    return found.money_lost, found.repeat_contact, found.deadline


MONEY_LOST = [
    "话费被扣了两次，赶紧退给我",  # telecom
    "退款到现在还没到账，都一周了",  # shop
    "机票改签多收了200元手续费",  # travel
    "昨天刚买今天就降价100，价保也不给",  # shop
    "外卖取消了十天，退回的钱一分钱没见到",  # food
    "信用卡年费说好免的，这个月又扣了300",  # bank
    "退保款说好七个工作日，至今未退回",  # insurer
    "网课停了，剩下的学费也不退，你们就这样？",  # education
    "租车押金一个月了都没返还，违章我自己查过没有",  # travel
    "装空调的师傅收了我150块调试费，说明书写着免费",  # services
    "會員明明取消了，這個月還是被扣款NT$199",  # TW software, traditional
    "搬走之後按金一直冇退返俾我",  # HK property, Cantonese
    "我那个宽带销户退费说十天到账今天都第十五天了卡里还是没看到钱",  # voice, telecom
]

REPEAT_CONTACT = [
    "这是我第三次打电话了，宽带还是没人来修",  # telecom
    "催了好几次了，外卖还没送到",  # food
    "同样的问题我说了多少遍了",  # shop
    "转了四个客服都没解决",  # shop
    "理赔的事我已经致电贵司三次，每次都说在审核",  # insurer
    "报修过两回了，暖气还是不热",  # services
    "上周就跟你们反映过发票抬头错了",  # travel
    "退费的事前前后后问了不下五次",  # education
    "我打咗三次電話約技術員，都冇人嚟",  # HK telecom, Cantonese
    "已經寫信兩次，貴公司都沒有回覆",  # TW software, traditional
    "我之前已经打过两次了那个补发的教材到现在还没寄出来",  # voice, education
]

DEADLINE = [
    "明天一早要出差，充电器今天能到吗",  # shop
    "周五前必须拿到发票，公司要报销",  # shop
    "活动今晚12点结束，现在下单来得及吗",  # shop
    "下午三点前必须把保证金转过去，转账一直失败",  # bank
    "生日蛋糕是今晚七点的派对用的，能准时送到吗",  # food
    "明早8点的航班，护照还在你们快递手上",  # courier / travel
    "车还有二十分钟就开了，闸机刷不过去怎么办",  # travel
    "如本周内仍不退还定金，我将起诉",  # car dealer, dated ultimatum
    "下禮拜三就要飛，訂位姓名拼錯了可以改嗎",  # HK travel, traditional
    "請於七日內答覆，否則向消保官申訴",  # TW, traditional ultimatum
    "账号登不上了明天早上还有直播课帮我看看",  # voice, education
]

NONE = [
    "請問這款耳機有現貨嗎",
    "页面上又没写清楚尺码",
    # A fee or price asked about before paying is not money lost.
    "报名以后不想上了可以退吗，要不要扣手续费",
    "想問下張卡去日本碌有冇手續費",
    "中途升级套餐的话差价怎么算",
    "海外购的东西需要另外付关税吗",
    "师傅很好，没多收一分钱",
    "打包费一个盒子两块，快赶上一个菜钱了",
    # A third purchase, stay or order is not a contact.
    "回购第三次了，一如既往的好吃",
    "第三次入住了，房间还是那么干净",
    "我是第三次买你们的理财了，这次起投多少",
    "这是我第二次点这家的烤鱼，味道没变",
    # Not a deadline: a remark today, a train already missed, a fee comparison.
    "今天必须说一下，你们的骑手服务态度真好",
    "火车晚点害我没赶上转车，真倒霉",
]


@pytest.mark.parametrize("text", MONEY_LOST)
def test_money_lost(text: str) -> None:
    assert cues_of(text)[0], normalize(text).text


@pytest.mark.parametrize("text", REPEAT_CONTACT)
def test_repeat_contact(text: str) -> None:
    assert cues_of(text)[1], normalize(text).text


@pytest.mark.parametrize("text", DEADLINE)
def test_deadline(text: str) -> None:
    assert cues_of(text)[2], normalize(text).text


@pytest.mark.parametrize("text", NONE)
def test_no_cue(text: str) -> None:
    assert cues_of(text) == (False, False, False), find_cue_spans(normalize(text).text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("话费被扣了两次，赶紧退给我", (True, False, False)),
        ("这是我第三次打电话了，宽带还是没人来修", (False, True, False)),
        ("明天一早要出差，充电器今天能到吗", (False, False, True)),
        (
            "退款说好三天到账，到现在还没到，这是我第四次来问了，今天再不处理我就投诉",
            (True, True, True),
        ),
    ],
)
def test_cues_are_told_apart(text: str, expected: tuple[bool, bool, bool]) -> None:
    assert cues_of(text) == expected


def test_traditional_and_full_width_input() -> None:
    assert cues_of("已經第３次聯絡你們了，退款還沒收到") == (True, True, False)


def test_span_points_at_the_words() -> None:
    text = normalize("外卖很好吃，就是退款还没到账").text
    start, end = find_cue_spans(text)["money_lost"]
    assert text[start:end].startswith("退款")


def test_patterns_lead_with_a_first_character_lookahead() -> None:
    for pattern in CUE_PATTERNS.values():
        assert pattern.pattern.startswith("(?=[")


@pytest.mark.parametrize("branch", [r"(?<!x)第", r"(?:退)?款", r"\w+", "[^a]b", "a?b"])
def test_branches_must_start_with_something_scannable(branch: str) -> None:
    with pytest.raises(ValueError):
        _first_chars(branch)
