"""The password policy for staff accounts: long enough, not a password known from breaches, not
the account's own e-mail name. The breached list is zxcvbn's 30,000 most common passwords of
public breaches (``zxcvbn.frequency_lists``), with the most common ones of Chinese sites'
breaches, which it misses, added below."""

from __future__ import annotations

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


@cache
def breached() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"]) | CHINESE_COMMON


def problem(password: str, *, email: str = "") -> str | None:
    """Why ``password`` may not be used (Chinese, for the person choosing it), or None."""
    if len(password) < MIN_LENGTH:
        return f"密码至少 {MIN_LENGTH} 个字符。"
    if len(password) > MAX_LENGTH:
        return f"密码最多 {MAX_LENGTH} 个字符。"
    lowered = password.lower()
    if lowered in breached() or lowered.strip() in breached():
        return "这个密码出现在已泄露的常用密码中，请换一个。"
    name = email.split("@", 1)[0].lower()
    if len(name) >= 4 and name in lowered:
        return "密码不能包含你的邮箱名。"
    return None
