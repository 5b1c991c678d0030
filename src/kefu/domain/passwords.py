"""The password policy for staff accounts: long enough, not a password known from breaches, none
of the context-specific words (``context_words``: the product's own words, the organisation's
name, the account's e-mail name and domain, the person's name and its pinyin; the list is
documented in docs/security.md). The breached list is zxcvbn's 30,000 most common passwords of
public breaches (``zxcvbn.frequency_lists``), with the most common ones of Chinese sites'
breaches, which it misses, added below."""

from __future__ import annotations

import re
from functools import cache

MIN_LENGTH = 8
MAX_LENGTH = 200
# Frequent in Chinese sites' leaked password lists and absent from zxcvbn's.
CHINESE_COMMON = frozenset({
    "woaini1314", "woaini520", "5201314520", "1314520520", "dearbook", "xiazhili",
    "qq123456", "qq123456789", "aa123456", "a1234567", "a12345678", "abc123456",
    "123456abc", "123456aa", "110110110", "147258369", "789456123", "123654789",
    "12344321", "31415926", "woaiwojia", "wodemima", "mima123456", "zhang123456",
    "wang123456", "li123456", "88888888a", "1314521", "52013145201314",
})  # fmt: skip


# The product's own words: every kefu installation's staff would think of them first.
PRODUCT_WORDS = ("kefu", "客服")
# Shorter derived words (an e-mail name "li") would bar too many good passwords; a Chinese word
# of two characters is as specific as four letters.
MIN_ASCII_WORD = 4
MIN_CJK_WORD = 2
_SEPARATORS = re.compile(r"[\s._\-+']+")


@cache
def breached() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"]) | CHINESE_COMMON


def _specific(word: str) -> bool:
    return len(word) >= (MIN_ASCII_WORD if word.isascii() else MIN_CJK_WORD)


def _forms(text: str) -> list[str]:
    """``text`` lowered as written, without separators, and (for Chinese) in toneless pinyin."""
    lowered = text.strip().lower()
    forms = [lowered, _SEPARATORS.sub("", lowered)]
    if lowered and not lowered.isascii():
        from pypinyin import lazy_pinyin

        forms.append("".join(lazy_pinyin(_SEPARATORS.sub("", lowered))).lower())
    return forms


def context_words(*, email: str = "", name: str = "", organisation: str = "") -> list[str]:
    """The words barred from this account's password, besides the e-mail name (checked first
    for its own message): the product's words, the organisation's name, the e-mail domain's
    name (``example`` of ``example.com.cn``), the person's name."""
    words = list(PRODUCT_WORDS)
    domain = email.partition("@")[2].lower()
    labels = [label for label in domain.split(".")[:-1] if label not in {"com", "net", "org"}]
    for text in (*labels, organisation, name):
        words += _forms(text)
    return list(dict.fromkeys(w for w in words if _specific(w)))


def problem(
    password: str, *, email: str = "", name: str = "", organisation: str = ""
) -> str | None:
    """Why ``password`` may not be used (Chinese, for the person choosing it), or None. Words
    are compared case-insensitively and with separators (spaces, dots, dashes) ignored."""
    if len(password) < MIN_LENGTH:
        return f"密码至少 {MIN_LENGTH} 个字符。"
    if len(password) > MAX_LENGTH:
        return f"密码最多 {MAX_LENGTH} 个字符。"
    lowered = password.lower()
    if lowered in breached() or lowered.strip() in breached():
        return "这个密码出现在已泄露的常用密码中，请换一个。"
    folded = _SEPARATORS.sub("", lowered)
    mail_name = email.split("@", 1)[0].lower()
    if len(mail_name) >= MIN_ASCII_WORD and mail_name in lowered:
        return "密码不能包含你的邮箱名。"
    for word in context_words(email=email, name=name, organisation=organisation):
        if word in lowered or word in folded:
            return f"密码不能包含“{word}”（产品名、机构名、邮箱域名或你的名字）。"
    return None
