"""Each rule of spec/norms.md on its own: what breaks it, the subtle replies that do not, its
severity, and spans that point at the characters the agent typed."""

from __future__ import annotations

import pytest

from kefu.norms import RULES, ReplyContext, Turn, check, norm_score

CALM = ReplyContext(turns=(Turn("customer", "请问一下"),), customer_emotion="neutral")


def upset(text: str = "等了一个星期还没到！", emotion: str = "angry") -> ReplyContext:
    return ReplyContext(turns=(Turn("customer", text),), customer_emotion=emotion)


def rules(reply: str, context: ReplyContext = CALM) -> set[str]:
    return {f.rule for f in check(reply, context)}


POSITIVES = {
    "negative_refusal": [
        "这个我们做不到。",
        "积分有效期无法延长。",
        "不行，必须原件。",
        "您的套餐现在不支持改签。",
    ],
    "blame_shifting": [
        "这是银行那边的原因，您问银行吧。",
        "这是规定，我们也没办法。",
        "是您自己操作错了。",
        "这个不归我们管。",
        "系统问题，跟我们没关系。",
        "航班取消是航空公司的原因。",
    ],
    "dismissive": ["您先别激动。", "冷静一点，慢慢说。", "这有什么好生气的。", "至于吗？"],
    "impolite": [
        "你自己去查物流。",
        "你没看说明吗？",
        "呵呵，我是真人。",
        "您好，你的订单已发货。",
    ],
    "jargon": ["已走原路退回，T+1到账。", "您的订单触发了风控。", "包裹已揽收。", "这个SKU缺货。"],
    "vague_commitment": ["我们会尽快处理。", "稍后给您回复。", "回头让同事联系您。"],
    "over_promise": ["保证明天一定送到。", "绝对不会过敏。", "百分之百能通过。"],
    "unfilled_placeholder": [
        "您的订单[单号]已发货。",
        "单号是【单号】。",
        "预计{days}天到账。",
        "请寄到XX路XX号。",
    ],
    "privacy_exposure": [
        "您的手机号13812345678已登记。",
        "身份证号110101199003071234不匹配。",
        "已退到银行卡6217000010001234567。",
        "寄到北京市朝阳区建国路99号2305室。",
    ],
}

SUBTLE_NEGATIVES = {
    "negative_refusal": [
        "虽然不能退款，但可以为您换货。",
        "暂不支持货到付款，您可以使用支付宝或微信付款。",
        "如果今天无法送达，我会第一时间通知您。",
        "您说的手机不能开机的问题，我马上帮您登记检测。",
    ],
    "blame_shifting": ["您好，请问您是不是输错了密码？", "我们已联系快递公司加急处理。"],
    "dismissive": ["您的心情我完全理解，我们一起来解决。"],
    "impolite": ["您好，请问有什么可以帮您？", "这款迷你音箱有货。"],
    "jargon": [
        "“已揽收”就是快递员已经取走包裹了。",
        "订单触发了风控，也就是安全审核，您看这样清楚吗？",
    ],
    "vague_commitment": [
        "会尽快处理，今天18:00前给您答复。",
        "我们会在24小时内核实。",
        "我们会在[处理时限]前答复您，一有进展会第一时间告诉您。",  # a script's time, to fill
    ],
    "over_promise": [
        "我一定会把您的建议转达给产品团队。",
        "我们不能保证航班准点，但会及时通知您。",
        "正品保证，假一赔三。",
    ],
    "unfilled_placeholder": ["这款有XXL码。", "【温馨提示】退款已到账。"],
    "privacy_exposure": [
        "您尾号5678的手机号已登记。",
        "客服电话400-820-1234。",
        "手机号138****5678已登记。",
    ],
}


# Patterns added for replies the rules had not seen (issue #20, tests/norms/data/HOLDOUT.md).
UNSEEN_POSITIVES = {
    "negative_refusal": [
        "一户只能装一个电表，不可以加装。",
        "很抱歉，但我们不能为促销商品提供退款。",
        "报名费一律不退。",
        "票款不退。",
    ],
    "blame_shifting": [
        "退费需要财务审核，流程就是这样的。",
        "這是您家裡路由器太舊的問題。",
        "可能是您误会了。",
        "是您的负债率太高了，怪不得别人。",
        "外送員上樓不是我們的服務範圍。",
        "您开通的时候自己勾选了自动续费。",
        "我们的柜员都是按流程操作的，不可能出错。",
        "信号差是因为周围高楼遮挡，我们也没办法。",
        "航班延误是天气原因，不是我们能控制的。",
        "这个您签合同时应该看到了。",
        "计划检修，公告早就发了。",
        "燃气公司不负责。",
        "作业是助教批改的，不是主讲老师负责的。",
        "商家打包漏了，跟骑手无关。",
        "您密码输错太多次了。",
    ],
    "impolite": ["收款人姓名写错了呗。", "看清楚再转。", "懂？", "这个问题我已经回答过三遍了。"],
    "jargon": ["单月的电费按估抄计算。", "分期费率按MCC浮动。", "已原路退回，T+1到账即可。"],
    "vague_commitment": ["抢修正在进行，有进展了再通知您。", "我们这边会跟进的。"],
    "over_promise": ["航班肯定准点起飞。", "放一百个心，包您满意。"],
    "unfilled_placeholder": [
        "您的退款#refund_amount#元已提交。",
        "您的保单号是〔保单号〕。",
        "入住日期X月X日。",
    ],
}

UNSEEN_NEGATIVES = {
    "negative_refusal": [
        "好的，不会让您白等的，今天下午5点前给您回电。",
        "没有问题，专票会在7个工作日内寄出。",
        "如果电话无法接通的话，您可以直接在这里留言。",
        "虽然我们不为促销商品提供退款，但我可以为您换成其他商品。",
        "您可以选择不退不换的特价款。",
    ],
    "blame_shifting": [
        "讓您自己下樓拿餐，真的不好意思。",
        "区别您可以自己在详情页对比。",
        "您自己看看订单页就能找到。",
        "是我们系统重复扣款，已经为您申请退回。",
        "如果您填错了地址，可以免费修改一次。",
    ],
    "jargon": ["请把APN（上网接入点）改成cmnet。", "通过后换货单号会短信发给您。"],
    "over_promise": ["骑手骂人是绝对不能接受的，非常抱歉。"],
    "unfilled_placeholder": ["请带上X光片。"],
}


def _cases(*tables: dict[str, list[str]]) -> list[tuple[str, str]]:
    return [(rule, text) for table in tables for rule, texts in table.items() for text in texts]


@pytest.mark.parametrize(("rule", "reply"), _cases(POSITIVES, UNSEEN_POSITIVES))
def test_a_reply_breaking_the_rule_is_found(rule, reply):
    assert rule in rules(reply)


@pytest.mark.parametrize(("rule", "reply"), _cases(SUBTLE_NEGATIVES, UNSEEN_NEGATIVES))
def test_a_subtle_reply_does_not_break_the_rule(rule, reply):
    assert rule not in rules(reply)


def test_a_refusal_with_an_alternative_breaks_nothing():
    assert rules("虽然不能退款，但可以为您换货。") == set()


def test_the_error_warning_split_is_the_spec_s():
    errors = {
        "unfilled_placeholder",
        "privacy_exposure",
        "blame_shifting",
        "dismissive",
        "impolite",
    }
    assert {r for r, s in RULES.items() if s == "error"} == errors
    assert len(RULES) == 13
    findings = check("你先别激动，我们会尽快处理。", CALM)
    assert {f.rule: f.severity for f in findings} == {
        "impolite": "error",
        "dismissive": "error",
        "vague_commitment": "warning",
    }


def test_missing_empathy_only_for_an_upset_customer():
    reply = "请提供订单号。"
    assert "missing_empathy" in rules(reply, upset())
    assert "missing_empathy" not in rules(reply, CALM)
    assert "missing_empathy" not in rules("非常抱歉让您久等了，请提供订单号。", upset())
    assert "missing_empathy" not in rules("理解您的着急，请提供订单号。", upset(emotion="anxious"))


def test_missing_empathy_reads_the_customer_with_the_analysis_engine_when_not_told():
    angry = ReplyContext(turns=(Turn("customer", "你们什么破服务！东西坏了没人管！"),))
    assert "missing_empathy" in rules("请提供订单号。", angry)


def test_dismissing_the_feeling_is_no_acknowledgement():
    assert rules("您先别激动，请提供订单号。", upset()) == {"dismissive", "missing_empathy"}


def test_minimising_counts_only_when_the_customer_is_upset():
    assert "dismissive" in rules("就晚了两天而已，还能用的嘛。", upset("快递晚了两天，生日都过了"))
    assert "dismissive" not in rules("一般两天而已就能到。", CALM)


def test_greeting_only_on_the_first_reply_and_closing_only_when_closing():
    first = ReplyContext(first_reply=True, customer_emotion="neutral")
    assert "missing_greeting" in rules("什么事？", first)
    assert "missing_greeting" not in rules("您好，请问有什么可以帮您？", first)
    assert "missing_greeting" not in rules("什么事？", CALM)
    closing = ReplyContext(closing=True, customer_emotion="neutral")
    assert "missing_closing" in rules("已退款。", closing)
    assert "missing_closing" in rules("不客气，祝您生活愉快。", closing)
    assert "missing_closing" not in rules("已退款，请问还有其他可以帮您的吗？", closing)
    assert "missing_closing" not in rules("已退款。", CALM)


def test_too_long_by_length_or_by_sentences_without_line_breaks():
    assert "too_long" in rules("好的。" * 70)
    assert "too_long" in rules("第一句。第二句。第三句。第四句。")
    assert "too_long" not in rules(
        "步骤如下：\n1. 打开订单。\n2. 点申请售后。\n3. 提交。\n4. 等审核。"
    )
    assert "too_long" not in rules("第一句。第二句。第三句。")
    mail = ReplyContext(channel="email", customer_emotion="neutral")
    assert "too_long" not in rules("第一句。第二句。第三句。第四句。", mail)


def test_traditional_and_full_width_input():
    assert "vague_commitment" in rules("我們會盡快處理。")
    assert "impolite" in rules("你自己去查物流。")
    assert "privacy_exposure" in rules("您的手機號１３８１２３４５６７８已登記。")
    assert "blame_shifting" in rules("這是快遞的問題，跟我們沒關係。")
    assert "jargon" in rules("已走原路退回，Ｔ＋１到帳。")


def test_spans_point_at_the_characters_typed():
    reply = "😊您好，這是銀行那邊的原因，退款我們會盡快處理。"
    findings = {f.rule: f for f in check(reply, CALM)}
    for finding in findings.values():
        assert reply[finding.start : finding.end] == finding.text
    assert findings["vague_commitment"].text == "盡快"
    assert "銀行" in findings["blame_shifting"].text
    wide = "您的手機號１３８１２３４５６７８已登記。"
    (privacy,) = [f for f in check(wide, CALM) if f.rule == "privacy_exposure"]
    assert privacy.text == "１３８１２３４５６７８"


def test_each_informal_you_is_its_own_finding_with_a_rewrite():
    findings = [f for f in check("你好，你的订单已发货。", CALM) if f.rule == "impolite"]
    assert [(f.start, f.rewrite) for f in findings] == [(0, "您"), (3, "您")]


def test_findings_carry_chinese_explanations_and_rewrites():
    (refusal,) = [f for f in check("这个无法办理。", CALM) if f.rule == "negative_refusal"]
    assert refusal.text == "无法" and "消极拒绝" in refusal.explanation
    assert refusal.rewrite and "马上为您办理" in refusal.rewrite
    (term,) = [f for f in check("已走原路退回。", CALM) if f.rule == "jargon"]
    assert "原路退回" in term.explanation and term.rewrite == "退回您付款时使用的账户"


def test_norm_score_weighs_each_rule_once_and_floors_at_zero():
    assert norm_score(check("您好，已为您办理。", CALM)) == 100
    one_error = check("你好，已为您办理。", CALM)
    assert norm_score(one_error) == 80
    many = check("你自己去查，别激动，这是规定，[单号]，13812345678，呵呵。", upset())
    assert norm_score(many) == 0


@pytest.mark.parametrize("reply", ["", " ", "😀😀😀", "？？？", "a" * 3000, "\x00\ud800"])
def test_odd_input_never_raises(reply):
    for finding in check(reply, CALM):
        assert 0 <= finding.start <= finding.end <= len(reply)


def said(text: str, emotion: str | None = "neutral", **options) -> ReplyContext:
    return ReplyContext(turns=(Turn("customer", text),), customer_emotion=emotion, **options)


def test_a_refusal_echoing_the_customer_s_question_is_still_a_refusal():
    asked = said("能不能延期交电费")
    assert "negative_refusal" in rules("电费不能延期缴纳。", asked)
    assert "negative_refusal" not in rules(
        "您说的不能开机，我马上帮您登记检测。", said("手机不能开机了")
    )


def test_a_term_the_customer_used_is_no_jargon_to_them():
    assert "jargon" in rules("超售后可以改乘下一班。")
    assert "jargon" not in rules("超售后可以改乘下一班。", said("我被超售了，登不上飞机"))


def test_a_promise_without_a_time_answers_no_question_of_time():
    when = said("买的冰箱到了，什么时候装")
    assert "vague_commitment" in rules("我们会安排师傅上门。", when)
    assert "vague_commitment" not in rules("我们会安排师傅明天上午上门。", when)
    assert "vague_commitment" not in rules("我们会安排师傅上门。", said("冰箱能安装吗"))


def test_telling_the_customer_how_to_take_it_is_dismissive():
    for reply in [
        "您想开点。",
        "您太敏感了。",
        "您别想太多。",
        "不至于这么较真吧。",
        "您淡定一点。",
    ]:
        assert "dismissive" in rules(reply), reply
    angry = upset("我被超售了，登不上飞机！")
    assert "dismissive" in rules("超售是行业惯例。", angry)
    assert "dismissive" in rules("大家都是这样等的，又不是只有您一个。", angry)
    assert "dismissive" not in rules("超售是行业惯例。", CALM)


def test_granting_a_feeling_is_no_minimising():
    angry = upset("你们这课也太水了")
    reply = "您有这样的失望很正常，也怪我们没有及时反馈。"
    assert rules(reply, angry) == set()


def test_empathy_said_in_other_ways_counts():
    angry = upset("退费一个月还没到账！！")
    for reply in [
        "换作是我也会着急，我查到还在审核，本周五前退到您的账户。",
        "这确实太耽误事了，我查到还在审核，本周五前退到您的账户。",
        "是我们没做好，我查到还在审核，本周五前退到您的账户。",
        "給您添麻煩了，我查到還在審核，本週五前退到您的帳戶。",
    ]:
        assert "missing_empathy" not in rules(reply, angry), reply
    # a denial of scope is no acknowledgement, though it contains 是我们的
    assert "missing_empathy" in rules("上楼不是我们的服务范围。", angry)
    # nor is a denial of fault, or a slip put on someone else
    for reply in ["行李可能被别的旅客拿错了，这不是我们的问题。", "送错是骑手个人失误，稍等。"]:
        assert "missing_empathy" in rules(reply, angry), reply
    for reply in ["是我们的问题，马上给您补发。", "这次是我们的失误，马上给您补发。"]:
        assert "missing_empathy" not in rules(reply, angry), reply


def test_an_upset_customer_read_by_the_learned_head_when_the_stored_emotion_is_calm():
    reply = "提前还款审批需要走流程，请耐心等待。"
    for turn in [
        "我的房贷提前还款申请提交一周了，一点消息都没有",
        "外卖里吃出了头发",
        "我女儿一个人坐飞机，到现在联系不上她，是不是出事了",
        "买的衣服洗了一次就掉色了",
    ]:
        assert "missing_empathy" in rules(reply, said(turn)), turn
    for calm in [
        "延误险怎么理赔",
        "这个面霜敏感肌用会过敏吗",
        "优惠券怎么用不了",
        "电费怎么比上个月多了一倍",
    ]:
        assert "missing_empathy" not in rules(reply, said(calm)), calm


def test_other_checks_of_satisfaction_close_the_conversation():
    closing = ReplyContext(closing=True, customer_emotion="neutral")
    for reply in [
        "不客气，之后用电上有什么问题随时打95598找我们。",
        "好的，收到后您看看尺码合不合适，不合适再来找我～",
    ]:
        assert "missing_closing" not in rules(reply, closing), reply
    assert "missing_closing" in rules("不客气，给您带来不便了。", closing)


def test_the_learned_vague_head_takes_back_a_listed_word_that_promises_nothing():
    """The shipped vague head vetoes below its threshold (models/norms-learned.npz, chosen out
    of fold): 尽早, 回头, 改天 said of the customer's own plans, not of a promise."""
    from kefu.norms import learned
    from kefu.norms.checker import clear_caches

    harmless = [
        "您可以尽早预约，名额有限。",
        "很多回头客都说好穿，您可以放心选。",
        "改天您路过门店也可以直接试穿。",
    ]
    with learned.using({"upset": learned.heads()["upset"]}):  # the patterns alone
        clear_caches()
        assert all("vague_commitment" in rules(reply) for reply in harmless)
    clear_caches()
    for reply in harmless:
        assert "vague_commitment" not in rules(reply), reply
    for reply in ["我们会尽快处理。", "稍后给您回复。", "我们尽快安排。"]:
        assert "vague_commitment" in rules(reply), reply
