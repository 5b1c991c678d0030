"""Composition: the opener by emotion and first reply, the closing by stage, one natural reply."""

from __future__ import annotations

import pytest

from kefu.domain.scripts.compose import closing_wanted, join_reply, opener_wanted, tidy


@pytest.mark.parametrize("emotion", ["angry", "anxious", "disappointed"])
def test_a_negative_emotion_gets_empathy_even_on_a_first_reply(emotion):
    assert opener_wanted(emotion, first_reply=True) == "empathy"
    assert opener_wanted(emotion, first_reply=False) == "empathy"


def test_a_calm_first_reply_greets_and_a_calm_follow_up_has_no_opener():
    assert opener_wanted("neutral", first_reply=True) == "greeting"
    assert opener_wanted(None, first_reply=True) == "greeting"
    assert opener_wanted("neutral", first_reply=False) is None
    assert opener_wanted("satisfied", first_reply=False) == "thanks"


@pytest.mark.parametrize(
    ("stage", "wanted"),
    [("registered", "in_progress"), ("analyzing", "in_progress"), ("resolving", "in_progress"),
     ("open", "in_progress"), ("following_up", "solved"), ("resolved", "solved"),
     ("archived", "solved"), ("closed", "solved"), (None, "in_progress")],
)  # fmt: skip
def test_the_closing_follows_the_case_stage(stage, wanted):
    assert closing_wanted(stage) == wanted


def test_a_reply_greets_only_once():
    reply = join_reply(
        ["王女士，您好！我是客服小周。", "您好，您的订单已经发出。", "你好，还有问题随时找我。"]
    )
    assert reply.count("好") == 1
    assert reply == "王女士，您好！我是客服小周。您的订单已经发出。还有问题随时找我。"


def test_a_reply_apologises_only_once_and_keeps_what_the_apology_explained():
    reply = join_reply(
        [
            "非常理解您的心情，真的很抱歉让您久等了。",
            "非常抱歉，由于暴雨，您的包裹晚到了两天。",
            "再次向您致歉。",
        ]
    )
    assert sum(reply.count(w) for w in ("抱歉", "致歉")) == 1
    assert "由于暴雨，您的包裹晚到了两天。" in reply
    assert reply.endswith("晚到了两天。")


def test_punctuation_and_spacing_are_made_right():
    assert tidy("您好 , 订单 已经发出!  Order SL123 ok.") == "您好，订单已经发出！Order SL123 ok."
    assert join_reply(["我来帮您查", "", "  稍等一下  "]) == "我来帮您查。稍等一下。"
    assert join_reply(["好的。。", "。谢谢！"]) == "好的。谢谢！"


def test_a_part_made_empty_by_the_rules_leaves_no_trace():
    assert join_reply(["您好！", "您好！"]) == "您好！"
    assert join_reply(["很抱歉。", "对不起。", "我们马上处理"]) == "很抱歉。我们马上处理。"


def test_a_first_reply_greets_even_when_it_opens_with_empathy():
    parts = ["王女士，非常理解您的心情。", "您的订单已经加急处理。"]
    assert join_reply(parts, greet=True) == "您好，王女士，非常理解您的心情。您的订单已经加急处理。"
    assert (
        join_reply(["王女士，您好！", "订单已发出。"], greet=True) == "王女士，您好！订单已发出。"
    )
    assert join_reply(parts) == "王女士，非常理解您的心情。您的订单已经加急处理。"


def test_parts_on_lines_of_their_own_when_asked():
    reply = join_reply(["您好！", "您好，订单已发出", "还有问题随时找我"], separator="\n")
    assert reply == "您好！\n订单已发出。\n还有问题随时找我。"
