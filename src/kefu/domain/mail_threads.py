"""STAND-IN until mailparse's domain/mail_threads.py is merged (theirs replaces this file)."""

from __future__ import annotations

import re
import secrets

_REF = re.compile(r"\[#(\d{1,12})\]")


def subject_with_ref(subject: str, ticket_id: int) -> str:
    if ref_in_subject(subject) == ticket_id:
        return subject
    return f"{subject} [#{ticket_id}]".strip()


def ref_in_subject(subject: str) -> int | None:
    match = _REF.search(subject or "")
    return int(match.group(1)) if match else None


def new_message_id(address: str) -> str:
    domain = address.rsplit("@", 1)[-1] or "kefu.local"
    return f"kefu.{secrets.token_hex(12)}@{domain}"
