"""What a question and an article are read as: normalised text and its index terms.

Text is normalised as analysis reads it (NFKC, lower case, traditional → simplified). Each run
of CJK characters gives its jieba words (function words dropped) and its character bigrams; each
Latin or digit run is kept whole. Words carry meaning; bigrams find what a segmenter splits
differently in a question and an article (退款到账 / 退款 到账). The lexicon adds the article-side
words of colloquial forms (退钱 → 退款), and the sound of each bigram (tui kuan) finds what voice
input or a slip of the keyboard wrote with other characters (运废险 → 运费险), with the initials
and finals many speakers merge (zh/z, ch/c, sh/s, n/l, -ng/-n) read as one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING

from kefu.nlp.normalize import clean, simplify
from kefu.retrieval import lexicon

if TYPE_CHECKING:
    from kefu.retrieval.vectors import WordVectors

MAX_CHARS = 2_000  # of a question: a longer story is read by its start
MAX_ARTICLE_CHARS = 100_000  # of an article: beyond this its text is not searched

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(rf"[{_CJK}]+|[a-z0-9]+")
STOP_WORDS = frozenset(
    "的 了 吗 呢 吧 啊 呀 哦 嘛 啦 么 哈 嗯 是 在 有 和 与 或 就 都 也 还 又 才 要 会 能 可 "
    "可以 能否 能不能 可不可以 是不是 有没有 怎么 怎么办 怎样 如何 什么 为什么 哪 哪里 哪儿 "
    "多少 几 一下 一个 这个 那个 这 那 这样 那样 请问 你好 您好 谢谢 麻烦 我 我们 你 你们 您 "
    "他 她 它 他们 自己 给 把 被 让 对 从 到 跟 呗 不 没 没有 个 下 想 问 说 点 样 吧 啥 咋 "
    "我家 我的 你家 一直 已经 现在 还是 但是 然后 所以 因为 如果 的话 时候 之前 之后 以后 "
    "就是 就是说 呃 额 哎 诶 喂 嗨 那么 这边 那边 其实 反正 对吧 好吧 好的 嗯嗯 哈哈 亲 "
    "问一下 想问 咨询 咨询一下 请教".split()
)


def normalize(text: str, limit: int = MAX_CHARS) -> str:
    return simplify(clean(text)[:limit])


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


_MERGED_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("l", "n"), ("r", "n"), ("f", "h"))
_MERGED_FINALS = (("ang", "an"), ("eng", "en"), ("ing", "in"), ("iong", "ong"))


@lru_cache(maxsize=65_536)
def sound(ch: str) -> str:
    """A character's syllable without tone, with the commonly merged sounds made one."""
    from pypinyin import lazy_pinyin

    syllable = lazy_pinyin(ch)[0]
    if not syllable.isascii() or not syllable.isalpha():
        return ch
    for long, short in _MERGED_INITIALS:
        if syllable.startswith(long):
            syllable = short + syllable[len(long) :]
            break
    for long, short in _MERGED_FINALS:
        if syllable.endswith(long):
            syllable = syllable[: -len(long)] + short
            break
    return syllable


def sounds(text: str) -> list[str]:
    """The sound of each CJK bigram: 运费险 → yun-fei, fei-xian."""
    out: list[str] = []
    for run in re.findall(rf"[{_CJK}]+", text):
        syllables = [sound(ch) for ch in run]
        out.extend(f"{a}-{b}" for a, b in zip(syllables, syllables[1:], strict=False))
    return out


@dataclass(frozen=True)
class Reading:
    """One text read for search."""

    text: str  # normalised
    words: tuple[str, ...]  # content words, then the lexicon's words for what it says
    bigrams: tuple[str, ...]
    sounds: tuple[str, ...]
    asks: str = ""  # of a long message, what it asks (``focus``); empty: all of it

    @property
    def terms(self) -> list[str]:
        return [*self.words, *self.bigrams]

    @property
    def asked(self) -> Reading:
        """The reading of what the message asks."""
        return read_normalised(self.asks) if self.asks else self


def joined(parts: Iterable[Reading], *, text: str | None = None) -> Reading:
    """Several readings as one (an article read sentence by sentence)."""
    parts = list(parts)
    return Reading(
        text="".join(p.text for p in parts) if text is None else text,
        words=tuple(w for p in parts for w in p.words),
        bigrams=tuple(b for p in parts for b in p.bigrams),
        sounds=tuple(s for p in parts for s in p.sounds),
    )


_CLAUSE = re.compile(r"[，。！？,.!?；;、\n~～…]+")
_ASKS = re.compile(
    r"[吗嘛么呢?？]|怎|如何|多久|多少|几|哪|什么|啥|能不能|可不可以|是不是|有没有|是否|可以|能否|要不要"
)
FOCUS_FROM = 30  # characters: a question at least this long is a story with a question in it


def focus(normalised: str) -> str:
    """What a long message asks: its last clause that asks something, with the clause before
    it (鞋子挤脚想换个码子，寄回去的运费谁出); a short message is all question."""
    if len(normalised) < FOCUS_FROM:
        return ""
    clauses = [c for c in _CLAUSE.split(normalised) if c.strip()]
    asking = [i for i, c in enumerate(clauses) if _ASKS.search(c)]
    last = asking[-1] if asking else len(clauses) - 1
    return "，".join(clauses[max(0, last - 1) : last + 1])


def read(text: str) -> Reading:
    """A question as search reads it; in a long story, what it asks counts twice."""
    normalised = normalize(text)
    reading = read_normalised(normalised)
    asked = focus(normalised)
    if not asked or asked == normalised:
        return reading
    return replace(joined([reading, read_normalised(asked)], text=normalised), asks=asked)


def read_article_body(body: str) -> list[Reading]:
    """An article's body sentence by sentence, normalised once as a whole."""
    normalised = normalize(body, MAX_ARTICLE_CHARS)
    return [read_normalised(s) for s in _SENTENCE_END.split(normalised) if s.strip()]


_SENTENCE_END = re.compile(r"(?<=[。！？；!?;\n])")


def read_normalised(normalised: str) -> Reading:
    found = words(normalised)
    meant = lexicon.default().expand(normalised, found)
    return Reading(
        text=normalised,
        words=(*found, *meant),
        bigrams=(*bigrams(normalised), *(b for m in meant for b in bigrams(m))),
        sounds=tuple(sounds(normalised)),
    )


def _sound_of(word: str) -> str:
    return "-".join(sound(ch) for ch in word)


def title_pieces(title: str) -> list[str]:
    """Every stretch of three or four characters of a title's CJK runs: a title names its
    subject in words a segmenter may split (退货运费险 → 运费 险), and a slip is looked up whole."""
    out: list[str] = []
    for run in re.findall(rf"[{_CJK}]+", normalize(title)):
        out.extend(run[a : a + n] for n in (3, 4) for a in range(len(run) - n + 1))
    return out


def words_by_sound(vocabulary: Iterable[str]) -> dict[str, str]:
    """The knowledge base's CJK words of two to four characters by their sound; a sound two
    words share is left out (no guessing between them)."""
    found: dict[str, str | None] = {}
    for word in vocabulary:
        if 2 <= len(word) <= 4 and re.fullmatch(rf"[{_CJK}]+", word):
            key = _sound_of(word)
            found[key] = None if key in found and found[key] != word else word
    return {k: w for k, w in found.items() if w is not None}


COMMON_WORDS = 10_000  # the commonest words of the word vectors are real words, not slips


def _stretches(run: str) -> list[str]:
    """Where a slip may hide: runs of whole jieba words (two to four characters; at least one of
    them two characters or more, so that a row of single characters is not re-read), and the
    parts of two characters or more of a word of three or more."""
    tokens = list(_jieba().cut(run))
    out: list[str] = []
    for i in range(len(tokens)):
        joined = ""
        for token in tokens[i : i + 3]:
            joined += token
            if 2 <= len(joined) <= 4 and any(len(t) > 1 for t in tokens[i : i + 3]):
                out.append(joined)
        word = tokens[i]
        if len(word) >= 3:
            out.extend(
                word[a:b]
                for a in range(len(word))
                for b in range(a + 2, len(word) + 1)
                if (a, b) != (0, len(word))
            )
    return out


def corrected(reading: Reading, by_sound: dict[str, str], common: WordVectors | None) -> Reading:
    """The reading plus the knowledge base's words that a stretch of the question sounds like
    when that stretch is no word anyone writes (运废险 → 运费): voice input and pinyin typing put
    the right sound in the wrong characters. A stretch that is a word of the knowledge base or
    a common word is left as it is."""
    if not by_sound:
        return reading
    found: list[str] = []
    for run in re.findall(rf"[{_CJK}]+", reading.text):
        for piece in _stretches(run):
            if common is not None and common.ids.get(piece, COMMON_WORDS) < COMMON_WORDS:
                continue
            word = by_sound.get(_sound_of(piece))
            if word is not None and word != piece and word not in found:
                found.append(word)
    if not found:
        return reading
    return replace(
        reading,
        words=(*reading.words, *found),
        bigrams=(*reading.bigrams, *(b for w in found for b in bigrams(w))),
    )
