"""One customer across channels: when two profiles are the same person (the pure rules).

A customer reaches kefu as a WeChat openid, an e-mail address, a phone number, a web-chat
visitor, a social handle — often several at once, and each first contact makes a profile of
its own. Two profiles that share an e-mail address or a phone number are probably one person,
but how sure kefu may be depends on how each side came by it:

- **verified** — proven: a web-chat identity the customer's site signed, a phone number bound
  to the WeChat account (told by an integration), or a code kefu sent to the address or number
  that the customer sent back;
- **claimed** — anything else: an e-mail's From header (anyone can write any From), the number
  an SMS or a call came from, what a visitor typed in a form, what an agent typed.

Only a contact verified on both profiles joins them automatically. Anything weaker is put to an
agent as a suggestion; a suggestion someone dismissed, or a join someone undid, is not made again
for the same two profiles.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

CODE_DIGITS = 6


class ContactKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"


class Proof(StrEnum):
    """How a profile came by a contact."""

    SIGNED_CLAIM = "signed_claim"  # the site's signed web-chat identity named it
    BOUND = "bound"  # an integration says the number is bound to the account (WeChat)
    CODE = "code"  # the customer sent back the code kefu sent to it
    HEADER = "header"  # an e-mail's From header
    SENDER = "sender"  # the number an SMS or a call came from
    TYPED = "typed"  # typed in by an agent or a visitor

    @property
    def verified(self) -> bool:
        return self in (Proof.SIGNED_CLAIM, Proof.BOUND, Proof.CODE)


class JoinState(StrEnum):
    SUGGESTED = "suggested"  # waiting for an agent
    JOINED = "joined"  # merged (automatically, or an agent confirmed)
    DISMISSED = "dismissed"  # an agent said: not the same person
    UNDONE = "undone"  # merged, then the merge was undone


class Decision(StrEnum):
    JOIN = "join"
    SUGGEST = "suggest"
    NOTHING = "nothing"


# Identity channels whose external id is an e-mail address or a phone number.
CHANNEL_KINDS: dict[str, ContactKind] = {
    "email": ContactKind.EMAIL,
    "phone": ContactKind.PHONE,
    "sms": ContactKind.PHONE,
}

_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,253}\.[^@\s]{2,63}")


def normalize_email(raw: str) -> str | None:
    """An address as kefu compares it (lower case, full-width forms folded); None if it is none."""
    text = unicodedata.normalize("NFKC", raw).strip().strip("<>").lower()
    return text if _EMAIL.fullmatch(text) else None


def normalize_phone(raw: str) -> str | None:
    """A phone number as kefu compares it: digits only, a mainland mobile without its +86 or 0086
    country code; None when it has too few or too many digits to be a number."""
    text = unicodedata.normalize("NFKC", raw).strip()
    digits = re.sub(r"[^0-9]", "", text)
    for prefix in ("0086", "86"):
        rest = digits[len(prefix) :]
        if digits.startswith(prefix) and len(rest) == 11 and rest.startswith("1"):
            digits = rest
            break
    return digits if 5 <= len(digits) <= 15 else None


def normalize(kind: ContactKind, raw: str) -> str | None:
    return normalize_email(raw) if kind == ContactKind.EMAIL else normalize_phone(raw)


def contact_of_identity(channel: str, external_id: str) -> tuple[ContactKind, str] | None:
    """The contact an identity is, when it is an e-mail address or a phone number."""
    kind = CHANNEL_KINDS.get(channel)
    if kind is None:
        return None
    value = normalize(kind, external_id)
    return (kind, value) if value else None


def identity_channel(kind: ContactKind) -> str:
    """The identity channel a verified contact of this kind is kept on."""
    return "email" if kind == ContactKind.EMAIL else "phone"


def decide(
    *, this_verified: bool, other_verified: bool, earlier: JoinState | None = None
) -> Decision:
    """What to do about two live profiles that share a contact.

    ``earlier``: what became of a join of the same two profiles before. A dismissed suggestion
    or an undone join stands: people decided, kefu does not decide again. A pending suggestion
    becomes a join once both sides are proven."""
    if earlier in (JoinState.DISMISSED, JoinState.UNDONE, JoinState.JOINED):
        return Decision.NOTHING
    if this_verified and other_verified:
        return Decision.JOIN
    if earlier == JoinState.SUGGESTED:
        return Decision.NOTHING
    return Decision.SUGGEST


def pair(a: int, b: int) -> tuple[int, int]:
    """Two customer ids in the order a join row keeps them."""
    return (a, b) if a < b else (b, a)


def join_direction(a: int, b: int) -> tuple[int, int]:
    """(target, source) of an automatic join: the older profile (lower id) absorbs the newer."""
    return pair(a, b)


def new_code() -> str:
    """A verification code: six random digits."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


_CODE = re.compile(rf"(?<![0-9])[0-9]{{{CODE_DIGITS}}}(?![0-9])")


def codes_in(text: str) -> list[str]:
    """The six-digit numbers a customer's message holds (full-width digits too, spaces between
    groups of three tolerated: ``123 456``)."""
    folded = unicodedata.normalize("NFKC", text)
    folded = re.sub(r"(?<![0-9])([0-9]{3})[ \-]([0-9]{3})(?![0-9])", r"\1\2", folded)
    return _CODE.findall(folded)


@dataclass(frozen=True)
class Evidence:
    """Why two profiles were put together, as the join row keeps it."""

    kind: ContactKind
    value: str
    this_proof: Proof
    other_proof: Proof

    def as_dict(self) -> dict[str, str]:
        return {
            "kind": self.kind.value,
            "value": self.value,
            "this_proof": self.this_proof.value,
            "other_proof": self.other_proof.value,
        }
