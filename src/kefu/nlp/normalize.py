"""Normalisation: the one form of a customer message every model and rule reads.

What it does, in order:

1. cleans: control characters and lone surrogates go, whitespace runs become one space;
2. truncates to ``MAX_CHARS`` (and says so): analysis time stays bounded;
3. NFKC: full-width Latin letters, digits and punctuation become half-width (！→!, ３→3);
4. lower-cases Latin letters, after counting shouted words (WTF, NMSL);
5. replaces personal data and long numbers by tokens (<phone>, <idcard>, <card>,
   <email>, <order>, <num>): the models learn "a phone number", not one phone number,
   and nothing personal reaches a model or a log;
6. converts traditional characters to simplified (OpenCC t2s);
7. spells out common slang and pinyin abbreviations (yyds → 永远的神, tmd → 他妈的);
8. collapses runs: more than three of one character become three (啊啊啊啊啊 → 啊啊啊),
   after counting repeated !/? as intensity;
9. reads emoji as signals (😡 angry, 🙏 pleading, 👍 positive …), kept in the text too.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import opencc

from kefu.domain.masking import PERSONAL_DATA_PATTERNS

MAX_CHARS = 2_000

# Control and format characters, variation selectors, and lone surrogates (a valid pair is
# one code point in a Python string, so any surrogate left is broken).
_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufe0e\ufe0f\ufeff\ud800-\udfff]"
)
_SPACES = re.compile(r"[ \t\r\n\u3000]+")
_SHOUTED = re.compile(r"(?<![A-Za-z])[A-Z]{3,}(?![A-Za-z])")
_ORDER_NUMBER = re.compile(r"(?<![a-z0-9])[a-z]{1,4}\d{6,}(?![0-9])|(?<![0-9])\d{10,}(?![0-9])")
_LONG_NUMBER = re.compile(r"(?<![0-9.])\d{5,}(?![0-9])")
# Public service hotlines are words, not numbers: 12315 is a complaint to the regulator
# (market 12315/12358/12365, city 12345, tourism 12301, spam reports 12321, finance
# 12378/12363/12386, telecom 12300, post 12305, rail 12306, urban construction 12319,
# health 12320, aviation 12326, transport 12328, food 12331, labour 12333, legal aid 12348,
# cyberspace 12377, energy 12398, tax 12366, anti-fraud 12381).
HOTLINES = frozenset(
    {
        "12300", "12301", "12305", "12306", "12315", "12319", "12320", "12321", "12326", "12328", "12331", "12333",
        "12345", "12348", "12358", "12363", "12365", "12366", "12377", "12378", "12381",
        "12386", "12398",
    }
)  # fmt: skip
_PUNCT_RUN = re.compile(r"[!?]{2,}")
_CHAR_RUN = re.compile(r"(.)\1{3,}")
_LATIN_WORD = re.compile(r"[a-z][a-z0-9]*")

# Slang and pinyin abbreviations customers type, spelled out so models see the words.
SLANG = {
    "yyds": "永远的神",
    "nb": "牛逼",
    "nbcs": "没人关心",
    "tmd": "他妈的",
    "nmd": "你妈的",
    "cnm": "操你妈",
    "nmsl": "你妈死了",
    "sb": "傻逼",
    "nt": "脑瘫",
    "wtf": "搞什么",
    "xswl": "笑死我了",
    "dbq": "对不起",
    "u1s1": "有一说一",
    "awsl": "啊我死了",
    "zqsg": "真情实感",
    "bhys": "不好意思",
    "xjj": "小姐姐",
    "xgg": "小哥哥",
    "kf": "客服",
    "pyq": "朋友圈",
    "dd": "订单",
    "kd": "快递",
    "tk": "退款",
    "hp": "好评",
    "cp": "差评",
    "ok": "好的",
    "thx": "谢谢",
    "thanks": "谢谢",
    "pls": "请",
    "plz": "请",
    "asap": "尽快",
}

# Emoji (and a few emoticons) as signals for the models and the rules.
EMOJI_SIGNALS = {
    "angry": "😡😠🤬👿💢😤🖕",
    "sad": "😢😭😞😔😟💔🥺😿☹🙁",
    "anxious": "😰😱😨😧😥⏰🆘",
    "pleading": "🙏",
    "contempt": "🙄😒💩🤡🙃",
    "positive": "👍😊😄😁😀🥰😍❤💕👏💯🎉🌹😘☺🤗✌👌",
}
_EMOJI_TO_SIGNAL = {ch: name for name, chars in EMOJI_SIGNALS.items() for ch in chars}


@dataclass(frozen=True)
class Normalized:
    text: str  # what models and rules read
    original_length: int
    truncated: bool
    traditional: bool  # had traditional characters, converted
    shouted_words: int  # Latin words in capitals (WTF)
    exclamation_runs: int  # !! or more
    question_runs: int  # ?? or more
    emoji: tuple[str, ...]  # signal names, in order of appearance: ("angry", "angry", "pleading")

    @property
    def intensity(self) -> int:
        """How loud the message is: repeated punctuation, shouting and angry emoji."""
        return (
            self.exclamation_runs
            + self.question_runs
            + self.shouted_words
            + self.emoji.count("angry")
        )


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def clean(text: str) -> str:
    """Valid text without control characters, lone surrogates or runs of whitespace."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    text = _CONTROL.sub("", text)
    return _SPACES.sub(" ", text).strip()


def simplify(text: str) -> str:
    """A word in the form rules read, without masking: NFKC, lower case, simplified."""
    simplified: str = _converter().convert(unicodedata.normalize("NFKC", text).lower())
    return simplified


def normalize(text: str) -> Normalized:
    text = clean(text)
    original_length = len(text)
    truncated = original_length > MAX_CHARS
    if truncated:
        text = text[:MAX_CHARS]
    text = unicodedata.normalize("NFKC", text)
    shouted = len(_SHOUTED.findall(text))
    text = text.lower()
    text = _tokenise_numbers(text)
    simplified = _converter().convert(text)
    traditional = simplified != text
    text = _LATIN_WORD.sub(_spell_out, simplified)
    exclamations = sum(1 for run in _PUNCT_RUN.findall(text) if "!" in run)
    questions = sum(1 for run in _PUNCT_RUN.findall(text) if "!" not in run)
    if "★" in text or "⭐" in text:
        text = _SPACES.sub(" ", _STARS.sub(_rating, text)).strip()
    text = _CHAR_RUN.sub(lambda m: m.group(1) * 3, text)
    emoji = tuple(_EMOJI_TO_SIGNAL[ch] for ch in text if ch in _EMOJI_TO_SIGNAL)
    return Normalized(
        text=text,
        original_length=original_length,
        truncated=truncated,
        traditional=traditional,
        shouted_words=shouted,
        exclamation_runs=exclamations,
        question_runs=questions,
        emoji=emoji,
    )


# A review's stars (★★★★☆, ⭐⭐⭐⭐⭐) said in words (四星, 五星): the run of characters would
# otherwise be cut to three like any repeated character, and five stars would read as three.
_STARS = re.compile(r"[★⭐]+[☆✩]*")
_STAR_WORDS = "一二三四五"


def _rating(match: re.Match[str]) -> str:
    stars = sum(ch in "★⭐" for ch in match.group(0))
    return f" {_STAR_WORDS[min(stars, 5) - 1]}星 "


def _tokenise_numbers(text: str) -> str:
    for token, pattern in PERSONAL_DATA_PATTERNS:
        text = pattern.sub(f" <{token}> ", text)
    text = _ORDER_NUMBER.sub(" <order> ", text)
    text = _LONG_NUMBER.sub(lambda m: m.group(0) if m.group(0) in HOTLINES else " <num> ", text)
    return _SPACES.sub(" ", text).strip()


_AMOUNT_AFTER = re.compile(r"\s?[$\d]")  # NT$360, nt 500: Taiwan dollars, not slang


def _spell_out(match: re.Match[str]) -> str:
    word = match.group(0)
    if word == "nt" and _AMOUNT_AFTER.match(match.string, match.end()):
        return word
    return SLANG.get(word, word)
