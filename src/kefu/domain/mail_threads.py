"""Threading e-mail by reference: the ticket number carried in a subject, and the Message-ID
chain an answer carries. Pure (only a new Message-ID draws random bytes).

- ``subject_with_ref("Re: 订单没到", 123)`` → "Re: 订单没到 [#123]"; said once, however often
  the mail goes back and forth; "Re: Re: 回复:" collapse to one "Re: ".
- ``ref_in_subject`` finds [#123], ［＃123］, [工单#123], [Ticket#123], [ Ticket #123 ].
- ``references_for(in_reply_to, references)`` is the References of an answer: the chain so far
  and the mail answered, at most ``MAX_REFERENCES`` ids, keeping the first (the thread's root)
  and the latest ones.
"""

from __future__ import annotations

import re
import secrets

MAX_REFERENCES = 20

_REF = re.compile(
    r"[\[［【]\s*(?:工单|工單|ticket|case|kefu)?\s*[#＃]\s*(\d{1,12})\s*[\]］】]",
    re.IGNORECASE,
)
_REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|aw|回复|回覆|答复|fw|fwd|转发|轉寄)\s*(?:\[\d+\])?\s*[:：]\s*)+",
    re.IGNORECASE,
)
_FORWARD = re.compile(r"^\s*(?:fw|fwd|转发|轉寄)\s*[:：]", re.IGNORECASE)
_DOMAIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")


def ref_in_subject(subject: str) -> int | None:
    """The ticket number a subject refers to (the last one, the newest kefu added), or None."""
    found = _REF.findall(subject or "")
    return int(found[-1]) if found else None


def subject_with_ref(subject: str, ticket_id: int) -> str:
    """``subject`` as kefu answers it: one "Re: " in front (none added to a first mail that
    is not an answer: pass the customer's subject and kefu keeps its prefix), its own
    reference " [#id]" once at the end, older references to other tickets left alone."""
    text = " ".join((subject or "").split())
    text = _REF.sub(lambda m: "" if int(m.group(1)) == ticket_id else m.group(0), text)
    text = " ".join(text.split())
    prefix_match = _REPLY_PREFIX.match(text)
    if prefix_match:
        forward = _FORWARD.match(text) is not None and not re.match(
            r"^\s*(?:re|回复|回覆|答复)", text, re.IGNORECASE
        )
        rest = text[prefix_match.end() :].strip()
        text = ("Fwd: " if forward else "Re: ") + rest if rest else ""
    return f"{text} [#{ticket_id}]".strip()


def reply_subject(subject: str, ticket_id: int) -> str:
    """The subject of kefu's answer to a mail titled ``subject``: "Re: … [#id]"."""
    base = _REPLY_PREFIX.sub("", " ".join((subject or "").split())).strip()
    return subject_with_ref(f"Re: {base}" if base else "", ticket_id)


def new_message_id(domain: str, *, unique: str | None = None) -> str:
    """A fresh Message-ID (without <>) at ``domain``; ``unique`` (an idempotency key) makes it
    repeatable, so a resent mail carries the same id and the receiver sees it once."""
    host = domain.strip().lower() if _DOMAIN.match(domain.strip()) else "kefu.invalid"
    left = re.sub(r"[^A-Za-z0-9._-]", "-", unique) if unique else secrets.token_hex(12)
    return f"kefu.{left}@{host}"


def references_for(in_reply_to: str | None, references: list[str] | None) -> list[str]:
    """The References of an answer to a mail with ``in_reply_to`` as its Message-ID and
    ``references`` as its own References."""
    chain = list(dict.fromkeys(ref for ref in (references or []) if ref))
    if in_reply_to:
        if in_reply_to in chain:
            chain.remove(in_reply_to)
        chain.append(in_reply_to)
    if len(chain) > MAX_REFERENCES:
        chain = [chain[0], *chain[-(MAX_REFERENCES - 1) :]]
    return chain
