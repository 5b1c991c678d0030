"""The bot's pure decisions: asking for a person, feedback, contact details, excerpts, and the
conversation's state machine with every hand-off trigger."""

from __future__ import annotations

import pytest

from kefu.domain import bot
from kefu.domain.bot import BotState, Found, HandoffReason, ReplyKind, Stage, Turn

ARTICLE = bot.Article(
    "kb-001",
    "发货时间",
    "## 发货\n\n**现货**当天发货。\n\n预售以[商品页](/x)为准。",
    "/help/a/kb-001",
    0.9,
)
NEXT = bot.Article("kb-002", "配送时效", "江浙沪1-2天。", "/help/a/kb-002", 0.6)
WEAK = bot.Article("kb-003", "其他", "无关。", "/help/a/kb-003", 0.05)


@pytest.mark.parametrize(
    "text",
    ["转人工", "人工客服", "找真人", "真人", "人工", "客服在吗", "轉人工", "人工客服！！", "砖人工",
     "转人功", "客服再吗", "我要找客服", "麻烦 转 人工", "TALK TO AN AGENT", "人工服務"],
)  # fmt: skip
def test_asking_for_a_person(text):
    assert bot.asks_for_person(text)


@pytest.mark.parametrize(
    "text", ["什么时候发货", "人工智能音箱怎么连wifi", "不用转人工了", "", "🙂"]
)
def test_not_asking_for_a_person(text):
    assert not bot.asks_for_person(text)


def test_feedback_words():
    assert bot.feedback_of("解决了") == "solved"
    assert bot.feedback_of("解決了！") == "solved"
    assert bot.feedback_of("没解决") == "unsolved"
    assert bot.feedback_of("沒解決") == "unsolved"
    assert bot.feedback_of("还是不知道怎么退货") is None


@pytest.mark.parametrize(
    ("text", "found"),
    [("手机 138 0013 8000", "13800138000"), ("+8613800138000", "13800138000"),
     ("邮箱 Li.Ming@Example.com", "li.ming@example.com"), ("座机 021-12345678", "02112345678"),
     ("电话12345", None), ("1380013800", None), ("a@b", None)],
)  # fmt: skip
def test_contact_details(text, found):
    assert bot.find_contact(text) == found


def test_an_excerpt_is_the_articles_text_without_markdown():
    assert bot.excerpt("发货", ARTICLE.body_markdown) == "现货当天发货。"
    assert bot.excerpt("预售", ARTICLE.body_markdown) == "预售以商品页为准。"
    long = "第一句很长" * 10 + "。" + "第二句" * 30 + "。"
    cut = bot.excerpt("", long, limit=80)
    assert len(cut) <= 80 and cut.endswith("。")
    assert bot.excerpt("", "无标点" * 60, limit=40).endswith("…")


def test_bot_modes():
    assert not bot.bot_takes(bot.BotMode.OFF, in_working_hours=False)
    assert bot.bot_takes(bot.BotMode.FIRST, in_working_hours=True)
    assert bot.bot_takes(bot.BotMode.OUTSIDE_HOURS, in_working_hours=False)
    assert not bot.bot_takes(bot.BotMode.OUTSIDE_HOURS, in_working_hours=True)


def _turn(text, *, hours=True, **kw):
    return Turn(text, hours, **kw)


def test_a_confident_answer_then_solved():
    first = bot.decide(BotState(), _turn("什么时候发货"), Found((ARTICLE,), True))
    assert first.reply.kind is ReplyKind.ANSWER and first.state.stage is Stage.FEEDBACK
    assert first.reply.quick_replies == ("解决了", "没解决", "转人工")
    text = bot.reply_text(first.reply)
    assert "现货当天发货。" in text and "/help/a/kb-001" in text
    solved = bot.decide(first.state, _turn("解决了"))
    assert solved.solved and solved.feedback == ("kb-001", "solved") and solved.handoff is None


def test_unsolved_offers_the_next_confident_article_else_asks_again():
    answered = bot.decide(BotState(), _turn("发货"), Found((ARTICLE, NEXT), True)).state
    nxt = bot.decide(answered, _turn("没解决"), Found((ARTICLE, NEXT), True))
    assert nxt.reply.kind is ReplyKind.NEXT_ANSWER and nxt.reply.article == NEXT
    assert nxt.feedback == ("kb-001", "unsolved")
    # no other confident article: one miss — the bot asks again and offers 转人工
    none_left = bot.decide(answered, _turn("没解决"), Found((ARTICLE, WEAK), True))
    assert none_left.handoff is None and none_left.reply.kind is ReplyKind.RETRY
    assert none_left.reply.quick_replies == ("转人工",)
    assert none_left.feedback == ("kb-001", "unsolved")
    # and a second miss hands off
    again = bot.decide(none_left.state, _turn("积分"), Found((WEAK,), False))
    assert again.handoff is HandoffReason.LOW_CONFIDENCE
    # 没解决 then a question with no good answer: two misses
    low = bot.decide(nxt.state, _turn("积分"), Found((WEAK,), False))
    assert low.handoff is HandoffReason.LOW_CONFIDENCE


def test_low_confidence_twice():
    once = bot.decide(BotState(), _turn("积分"), Found((WEAK,), False))
    assert once.reply.kind is ReplyKind.RETRY and once.handoff is None
    assert bot.decide(once.state, _turn("会员"), Found()).handoff is HandoffReason.LOW_CONFIDENCE


def test_triggers_in_order_risk_priority_angry_asked():
    assert bot.decide(BotState(), _turn("转人工", risks=("media",))).handoff is HandoffReason.RISK
    assert bot.decide(BotState(), _turn("发货", priority="P2")).handoff is HandoffReason.PRIORITY
    assert (
        bot.decide(BotState(), _turn("发货", priority="P3", emotion="angry")).handoff
        is HandoffReason.ANGRY
    )
    assert bot.decide(BotState(), _turn("转人工")).handoff is HandoffReason.CUSTOMER_ASKED


def test_out_of_hours_collects_the_contact_then_the_problem():
    asked = bot.decide(BotState(), _turn("转人工", hours=False))
    assert asked.reply.kind is ReplyKind.ASK_CONTACT and asked.handoff is None
    bad = bot.decide(asked.state, _turn("不告诉你", hours=False))
    assert bad.reply.kind is ReplyKind.CONTACT_INVALID and bad.state.stage is Stage.CONTACT
    contact = bot.decide(bad.state, _turn("13800138000", hours=False))
    assert contact.reply.kind is ReplyKind.ASK_PROBLEM
    opened = bot.decide(contact.state, _turn("耳机没声音", hours=False))
    assert opened.handoff is HandoffReason.OUT_OF_HOURS_CONTACT
    assert opened.state.contact == "13800138000" and opened.state.question == "耳机没声音"
    # the contact form sends the problem with the contact: nothing more to ask
    both = bot.decide(bad.state, _turn("13800138000\n耳机没声音", hours=False))
    assert (
        both.handoff is HandoffReason.OUT_OF_HOURS_CONTACT and both.state.question == "耳机没声音"
    )
    assert bot.problem_beside_contact("电话：138 0013 8000") is None
    # a crisis is not kept for the morning
    assert (
        bot.decide(asked.state, _turn("曝光", hours=False, risks=("media",))).handoff
        is HandoffReason.RISK
    )


def test_a_finished_conversation_says_nothing():
    done = BotState(stage=Stage.HANDED_OFF)
    assert bot.decide(done, _turn("转人工")).reply is None
    assert bot.search_text(done, "发货") is None


def test_state_round_trips_through_json():
    state = BotState(Stage.FEEDBACK, 1, ("kb-001",), "发货", "a@b.cn", "angry")
    assert BotState.from_json(state.to_json()) == state


def test_the_fixed_phrases_are_norm_clean():
    from kefu.norms import check

    found = {kind: [f.rule for f in check(phrase)] for kind, phrase in bot.PHRASES.items()}
    found["ask"] = [f.rule for f in check(bot.ASK_FEEDBACK)]
    assert all(not rules for rules in found.values()), found
