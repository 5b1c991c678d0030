"""Crisis signals: positives, negations, questions and harmless compounds, per risk.

The sentences are written for these tests (several outside the demo shop: banks, telecom,
food delivery, travel), not taken from the development data.
"""

from __future__ import annotations

import pytest

from kefu.domain.triage_labels import Risk
from kefu.nlp.normalize import normalize
from kefu.nlp.risks import find_risks


def risks_of(text: str) -> set[str]:
    return {hit.risk.value for hit in find_risks(normalize(text).text)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("再不给我处理，我就把聊天记录发微博曝光你们", {"media"}),
        ("外卖里吃出头发，视频我拍好了，等着上热搜吧！", {"media"}),
        ("我已经打了12315，你们看着办", {"regulator"}),
        ("信用卡乱扣年费，我要去银保监投诉", {"regulator"}),
        ("宽带装了一个月都没人来，我准备向工信部和消协反映", {"regulator"}),
        ("機票退款一直不到帳，我已經委託律師了", {"legal"}),
        ("你们不退钱我就起诉到法院", {"legal"}),
        ("充电器插上就冒烟了，差点着火", {"safety"}),
        ("孩子喝了你们的奶粉上吐下泻，现在在医院输液", {"safety"}),
        ("热水器漏电了，我被电了一下", {"safety"}),
        ("刚办完卡就天天接到推销电话，我的信息是不是被泄露了", {"privacy"}),
        ("陌生人打电话说出了我的订单号和地址", {"privacy"}),
        ("就因为我是外地人，你们的工作人员就区别对待", {"discrimination"}),
        ("残疾人就不配办业务吗？", {"discrimination"}),
        ("手机电池鼓包了，我要找记者曝光", {"media", "safety"}),
    ],
)
def test_real_signals_are_found(text, expected):
    assert risks_of(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "我不会去曝光的，只想尽快解决",
        "放心，我没打算找记者，就是想问问进度",
        "我不想走法律途径，咱们好好沟通",
    ],
)
def test_negated_threats_carry_no_risk(text):
    assert risks_of(text) == set()


@pytest.mark.parametrize(
    "text",
    [
        "12315是什么电话？",
        "我要问一下消协在哪里",
        "我想打12315，它的电话是多少来着",
        "消费者协会在哪里？",
        "请问你们官方微博是哪个？",
        "这个电暖器会不会漏电？家里有老人",
        "你们会不会把我的手机号给别人？",
        "听说空气炸锅第一次用会冒烟吗",
    ],
)
def test_questions_about_the_thing_carry_no_risk(text):
    assert risks_of(text) == set()


@pytest.mark.parametrize(
    "text",
    [
        "相机的曝光补偿怎么调？",
        "工商银行的信用卡能分期吗",
        "律师事务所采购十台电脑，能开专票吗",
        "爆炸盐能洗彩色衣服吗",
        "家用灭火器推荐哪款",
        "我是过敏体质，这款面霜含酒精吗",
        "这个多媒体音箱怎么连电视",
    ],
)
def test_harmless_compounds_carry_no_risk(text):
    assert risks_of(text) == set()


def test_hit_points_at_the_sentence_that_raised_it():
    assert risks_of("再不退款，我就发微博，还要打12315！") == {Risk.MEDIA, Risk.REGULATOR}
    text = normalize("你好。快递一直不到，我要打12315投诉你们！谢谢").text
    [hit] = find_risks(text)
    assert hit.risk == Risk.REGULATOR and hit.trigger == "12315"
    assert (
        hit.explanation(text)
        == "威胁向市场监管部门或消协投诉：「快递一直不到,我要打12315投诉你们!」"
    )


def test_traditional_input_is_read_after_normalization():
    assert risks_of("我要發微博曝光你們") == {"media"}
