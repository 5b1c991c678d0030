"""Building the mails kefu sends: answers that thread in the customer's mail client, and
notices to staff. Pure: the date and the ids are given.

Every header value is checked first: a CR or LF anywhere (subject, names, addresses, ids,
file names) raises ``HeaderInjection`` — a value from a customer or an agent must never add a
header (a Bcc) or end the headers early. The text goes as UTF-8 text/plain, with the
sanitised HTML as its alternative; attachments after it. ``Auto-Submitted`` marks what no
person wrote (RFC 3834), so well-behaved auto-responders do not answer it.

A text that merely looks like an encoded-word (a customer's subject ``=?utf-8?b?…?=``) would be
written as it is by the email package, and decoded by the receiver into something else — a line
break, a script: ``literal_header_text`` breaks its ``=?`` with a zero-width space, so the word
is encoded as the text it is and shows as typed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from kefu.sanitize import sanitize_html

_ADDR_SPEC = re.compile(r"^[^\s@<>,;:\"()\[\]\\]+@[^\s@<>,;:\"()\[\]\\]+\.[^\s@<>,;:\"()\[\]\\]+$")
_MSG_ID = re.compile(r"^[^\s<>]+@[^\s<>]+$")
_ZERO_WIDTH_SPACE = "\u200b"
AUTO_REPLIED = "auto-replied"  # an automatic answer to a customer's mail
AUTO_GENERATED = "auto-generated"  # a notice no one asked for by mail (alerts to staff)


class HeaderInjection(ValueError):  # noqa: N818 - named after the attack it refuses
    """A header value carries CR or LF (or is no address / id at all)."""


@dataclass(frozen=True)
class OutgoingAttachment:
    filename: str
    content_type: str
    data: bytes = field(repr=False)


def compose_mail(
    *,
    from_address: str,
    from_name: str = "",
    to: Sequence[str],
    cc: Sequence[str] = (),
    reply_to: str | None = None,
    subject: str,
    text: str,
    html: str | None = None,
    message_id: str,
    date: datetime,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    auto_submitted: str | None = None,
    attachments: Sequence[OutgoingAttachment] = (),
) -> EmailMessage:
    """One mail ready for SMTP (``policy.SMTP``: CRLF line ends). ``message_id``,
    ``in_reply_to`` and ``references`` are ids without <>."""
    if not to:
        raise HeaderInjection("a mail needs at least one recipient")
    check_header_value("subject", subject)
    check_header_value("from name", from_name)
    message = EmailMessage(policy=policy.SMTP)
    from_name, subject = literal_header_text(from_name), literal_header_text(subject)
    message["From"] = Address(display_name=from_name, addr_spec=_address(from_address))
    message["To"] = ", ".join(_address(a) for a in to)
    if cc:
        message["Cc"] = ", ".join(_address(a) for a in cc)
    if reply_to:
        message["Reply-To"] = _address(reply_to)
    message["Subject"] = subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = f"<{_message_id(message_id)}>"
    if in_reply_to:
        message["In-Reply-To"] = f"<{_message_id(in_reply_to)}>"
    if references:
        message["References"] = " ".join(f"<{_message_id(ref)}>" for ref in references)
    if auto_submitted:
        check_header_value("Auto-Submitted", auto_submitted)
        message["Auto-Submitted"] = auto_submitted
    message.set_content(text, charset="utf-8")
    if html:
        message.add_alternative(sanitize_html(html), subtype="html", charset="utf-8")
    for attachment in attachments:
        check_header_value("attachment filename", attachment.filename)
        maintype, _, subtype = attachment.content_type.partition("/")
        if not maintype or not subtype or "\n" in attachment.content_type:
            maintype, subtype = "application", "octet-stream"
        message.add_attachment(
            attachment.data,
            maintype=maintype,
            subtype=subtype,
            filename=literal_header_text(attachment.filename),
        )
    return message


def check_header_value(what: str, value: str) -> None:
    """Refuse a header value with a line break (it would start a header of its own)."""
    if "\r" in value or "\n" in value:
        raise HeaderInjection(f"{what} contains a line break")


def literal_header_text(value: str) -> str:
    """``value`` with every ``=?`` broken by a zero-width space: no receiver decodes a piece of
    the text as an encoded-word (RFC 2047), and it looks the same."""
    return value.replace("=?", f"={_ZERO_WIDTH_SPACE}?")


def _address(value: str) -> str:
    check_header_value("address", value)
    address = value.strip()
    if not _ADDR_SPEC.match(address):
        raise HeaderInjection(f"not an e-mail address: {address!r}")
    return address


def _message_id(value: str) -> str:
    check_header_value("message id", value)
    bare = value.strip().strip("<>")
    if not _MSG_ID.match(bare):
        raise HeaderInjection(f"not a message id: {bare!r}")
    return bare
