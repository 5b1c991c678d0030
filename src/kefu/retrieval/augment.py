"""Harder copies of labelled questions, for training the ranker to read what customers send.

Development questions are short and typed; customers also send what voice input makes of
speech (no punctuation, fillers), traditional characters, and stories with the question at the
end. ``variants`` writes each of those from a question, deterministically from a seed; the
stories' openings are kefu's own: circumstance that asks nothing, some of it in words the
articles use (客服, 订单, 积分), so that the ranker learns to read past it to the question.
"""

from __future__ import annotations

import random
import re
from functools import lru_cache

import opencc

FILLERS = ("那个", "就是", "然后", "嗯", "呃", "就是说", "你好我想问一下", "喂", "这个")
OPENINGS = (
    "我上个月在你们这里买了东西，",
    "我老公让我来问一下，",
    "之前也问过别家，说法都不一样，",
    "我平时很少在网上买东西，",
    "早上打电话没人接，只好在这里留言，",
    "朋友推荐我来你们家买的，",
    "我妈年纪大了不会弄，我帮她问，",
    "昨天晚上折腾了半天也没弄明白，",
    "我是你们家的老顾客了，买了好几年，",
    "不好意思打扰了，事情有点多，",
    "刚下班回来看到消息，",
    "我在外地出差，手机信号不太好，",
    "上次找你们客服处理过一个订单，",
    "快递小哥挺好的，这个不是问题，",
    "你们APP我一直在用，积分也攒了不少，",
    "本来想在别的平台买，最后还是下单了你们的，",
    "之前退过一次货，那次挺顺利的，",
    "我是会员，家里的东西基本都在你们这买，",
)
_PUNCTUATION = re.compile(r"[，。？！,.?!、；;：:“”\"'‘’（）()\s]")


@lru_cache(maxsize=1)
def _traditional() -> opencc.OpenCC:
    return opencc.OpenCC("s2twp")


def voice(text: str, rng: random.Random) -> str:
    """As voice input writes it: no punctuation, two fillers where the speaker paused."""
    chars = list(_PUNCTUATION.sub("", text))
    for _ in range(2):
        chars.insert(rng.randint(0, len(chars)), rng.choice(FILLERS))
    return "".join(chars)


def story(text: str, rng: random.Random) -> str:
    """The question after one or two sentences of circumstance."""
    return "".join(rng.sample(OPENINGS, rng.randint(1, 2))) + text


KINDS = ("traditional", "voice", "story")


def variants(text: str, seed: int) -> dict[str, str]:
    rng = random.Random(seed)  # noqa: S311  (training data, not secrets)
    return {
        "traditional": _traditional().convert(text),
        "voice": voice(text, rng),
        "story": story(text, rng),
    }
