"""Is a mail automatic — an auto-reply, out-of-office, bounce or bulk mail?

Such mail is recorded but opens no ticket and gets no automatic answer (two robots answering
each other loop for ever). The signals, in the order they are trusted: RFC 3834
``Auto-Submitted`` other than "no"; ``Precedence`` bulk / junk / list / auto_reply; Microsoft's
and others' ``X-Autoreply`` / ``X-Autorespond`` / ``X-Auto-Response-Suppress``; a null
Return-Path or a mailer-daemon / postmaster sender; a ``multipart/report`` body (delivery status
notifications; checked first, as it says the most); and, last, subjects the usual servers and
clients give such mail.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

# The headers ``auto_reply_reason`` reads (the caller decodes only these).
AUTO_REPLY_HEADERS = frozenset(
    {
        "auto-submitted",
        "precedence",
        "x-autoreply",
        "x-autorespond",
        "x-autoresponder",
        "x-auto-response-suppress",
        "return-path",
    }
)
_PRECEDENCE = {"bulk", "junk", "list", "auto_reply", "auto-reply"}
_SUPPRESS = {"all", "oof", "autoreply"}
_DAEMONS = ("mailer-daemon", "postmaster", "mail-daemon", "maildaemon")
_OUT_OF_OFFICE = re.compile(
    r"^\s*(?:自动回复|自動回覆|自动答复|自動回復|automatic reply|auto(?:matic)?[- ]?reply|"
    r"auto[- ]?response|out of (?:the )?office|ooo\b|不在办公室)",
    re.IGNORECASE,
)
# Subjects only servers give: a parcel "delivery failed" or "未送达" is a customer's complaint.
_BOUNCE = re.compile(
    r"undelivered mail returned to sender|^\s*undeliverable\s*:|delivery status notification|"
    r"mail delivery (?:failed|failure)|^\s*returned mail\s*:|failure notice|"
    r"^\s*(?:系统)?退信(?:\s*[:：]|通知|\s*$)|邮件(?:投递失败|无法投递|无法送达)",
    re.IGNORECASE,
)


def auto_reply_reason(
    headers: Mapping[str, Sequence[str]],
    *,
    subject: str,
    from_address: str | None,
    content_type: str,
) -> str | None:
    """Why the mail is automatic, or None. ``headers`` maps lower-cased names to decoded values."""

    def first(name: str) -> str:
        values = headers.get(name) or ()
        return values[0].strip().lower() if values else ""

    if content_type == "multipart/report":
        return "bounce"
    local = (from_address or "").split("@", 1)[0]
    if local in _DAEMONS:
        return "mailer-daemon"
    auto_submitted = first("auto-submitted")
    if auto_submitted and not auto_submitted.startswith("no"):
        return "auto-submitted"
    if first("precedence") in _PRECEDENCE:
        return "precedence"
    if first("x-autoreply") or first("x-autorespond") or first("x-autoresponder"):
        return "x-autoreply"
    suppress = {part.strip() for part in first("x-auto-response-suppress").split(",")}
    if suppress & _SUPPRESS:
        return "auto-response-suppress"
    if "return-path" in headers and first("return-path").replace(" ", "") in ("<>", ""):
        return "null-sender"
    if _BOUNCE.search(subject):
        return "bounce"
    if _OUT_OF_OFFICE.match(subject):
        return "out-of-office"
    return None
