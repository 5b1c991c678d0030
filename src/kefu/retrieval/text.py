"""What a question and an article are read as: normalised text and its index terms.

Text is normalised as analysis reads it (NFKC, lower case, traditional → simplified), then
each run of CJK characters gives its jieba words (function words dropped) and its character
bigrams, and each Latin or digit run is kept whole. Words carry meaning; bigrams find what a
segmenter splits differently in a question and an article (退款到账 / 退款 到账).
"""

from __future__ import annotations

import re
from functools import lru_cache

from kefu.nlp.normalize import clean, simplify

MAX_CHARS = 2_000  # of a question: a longer story is read by its start

_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z0-9]+")
STOP_WORDS = frozenset(
    "的 了 吗 呢 吧 啊 呀 哦 嘛 啦 么 哈 嗯 是 在 有 和 与 或 就 都 也 还 又 才 要 会 能 可 "
    "可以 能否 能不能 可不可以 是不是 有没有 怎么 怎么办 怎样 如何 什么 为什么 哪 哪里 哪儿 "
    "多少 几 一下 一个 这个 那个 这 那 这样 那样 请问 你好 您好 谢谢 麻烦 我 我们 你 你们 您 "
    "他 她 它 他们 自己 给 把 被 让 对 从 到 跟 吧 呗 不 没 没有".split()
)


def normalize(text: str) -> str:
    return simplify(clean(text)[:MAX_CHARS])


@lru_cache(maxsize=1)
def _jieba():  # type: ignore[no-untyped-def]  # rjieba ships no types
    import rjieba

    return rjieba


def words(text: str) -> list[str]:
    """The content words of normalised text, in order."""
    out: list[str] = []
    for run in _RUN.findall(text):
        if run[0].isascii():
            out.append(run)
            continue
        out.extend(w for w in _jieba().cut(run) if w not in STOP_WORDS)
    return out


def bigrams(text: str) -> list[str]:
    """Character bigrams of each CJK run (a lone character stands for itself); Latin runs whole."""
    out: list[str] = []
    for run in _RUN.findall(text):
        if run[0].isascii() or len(run) == 1:
            out.append(run)
        else:
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out
