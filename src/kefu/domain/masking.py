"""Masking of personal data (phone, ID card, bank card, email) for logs and exports."""

from __future__ import annotations

import re

# Order matters: the longest numbers first, so an ID card is not masked as a phone.
_ID_CARD = re.compile(
    r"(?<![0-9])([1-9][0-9]{5})(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])[0-9]{2}[0-9]{3}[0-9Xx](?![0-9])"
)
_BANK_CARD = re.compile(r"(?<![0-9])[0-9]{4}(?:[ -]?[0-9]{4}){3}(?:[ -]?[0-9]{1,3})?(?![0-9])")
_MOBILE = re.compile(r"(?<![0-9])(?:\+?86[ -]?)?(1[3-9][0-9])[ -]?[0-9]{4}[ -]?([0-9]{4})(?![0-9])")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*(@[A-Za-z0-9.-]+\.[A-Za-z]{2,})")

# For analysis: which kind of personal data each pattern finds, longest numbers first.
PERSONAL_DATA_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("idcard", _ID_CARD),
    ("phone", _MOBILE),
    ("card", _BANK_CARD),
    ("email", _EMAIL),
)


def _mask_bank_card(match: re.Match[str]) -> str:
    digits = re.sub(r"[^0-9]", "", match.group(0))
    return f"{digits[:4]}********{digits[-4:]}"


def mask_personal_data(text: str) -> str:
    """Replace phone, ID-card, bank-card numbers and email local parts by masked forms.

    ``13812345678`` → ``138****5678``; an 18-digit ID keeps its region code and check digit.
    """
    text = _ID_CARD.sub(lambda m: f"{m.group(1)}********{m.group(0)[-4:]}", text)
    text = _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)
    text = _BANK_CARD.sub(_mask_bank_card, text)
    return _EMAIL.sub(lambda m: f"{m.group(1)}***{m.group(2)}", text)
