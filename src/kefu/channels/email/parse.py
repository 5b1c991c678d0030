"""A raw e-mail (RFC 5322 bytes) read into a ``ParsedMail``: what the IMAP fetcher stores and
``kefu mail parse FILE`` prints. Pure: no database, no network, no clock.

The stdlib ``email`` package does the MIME structure (its compat32 parser forgives broken
boundaries, missing headers and bad base64, and notes each as a defect); this module decides
what the parts mean: which text is the body, which parts are attachments or inline images, the
charset each part really uses (``charsets``), the decoded headers (``headers``), the text shown
without quoted history (``quotes``), whether the mail is automatic (``autoreply``), and the HTML,
sanitised with nh3 and never loading a remote image. What was wrong but recovered is listed in
``ParsedMail.defects``; ``MailUnparseable`` is raised only when there is no mail in the bytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.feedparser import BytesFeedParser
from email.message import Message
from typing import Any

from kefu.channels.email import headers as hdr
from kefu.channels.email.autoreply import AUTO_REPLY_HEADERS, auto_reply_reason
from kefu.channels.email.charsets import decode_bytes
from kefu.channels.email.html_text import html_to_text
from kefu.channels.email.quotes import strip_quoted
from kefu.sanitize import sanitize_mail_html

_MAIL_HEADERS = {"from", "sender", "to", "cc", "subject", "date", "message-id", "received"}
_CONTAINERS_KEPT_WHOLE = {"message/rfc822", "message/delivery-status", "message/global"}
_FEED_CHUNK = 64 * 1024
_NEWLINES = re.compile(r"\r\n?")
_MAX_DEPTH = 20  # nested multiparts deeper than this are a bomb, not a mail


class MailUnparseable(Exception):
    """The bytes hold no mail at all (no header a mail has, nothing readable)."""


@dataclass(frozen=True)
class MailAttachment:
    filename: str
    content_type: str
    data: bytes = field(repr=False)
    content_id: str | None = None  # without <>; what cid: references in the HTML point at
    inline: bool = False  # shown inside the HTML rather than offered as a file

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class ParsedMail:
    from_address: str | None  # lower-cased addr-spec
    from_name: str
    to: list[str]
    cc: list[str]
    reply_to: list[str]
    subject: str  # decoded, whitespace-normalised ("" when none)
    date: datetime | None  # aware UTC
    message_id: str | None  # without <>; None when missing (the fetcher derives one)
    in_reply_to: str | None
    references: list[str]
    text: str  # what to show: quoted history and signature stripped
    full_text: str  # the whole plain text (from text/plain, else from the HTML)
    html: str | None  # sanitised with nh3; remote images removed
    attachments: list[MailAttachment]
    auto_reply: bool
    auto_reply_reason: str | None  # "auto-submitted", "precedence", "mailer-daemon", "bounce" ...
    defects: list[str]  # what was wrong but got recovered


@dataclass
class _Body:
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[MailAttachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)


def parse_mail(raw: bytes) -> ParsedMail:
    """Read one raw mail; never raises on a broken mail, only on bytes that are no mail."""
    if not raw or not raw.strip():
        raise MailUnparseable("empty message")
    message = _read_structure(raw)
    raw_headers: dict[str, list[str]] = {}
    for name, value in message.raw_items():
        raw_headers.setdefault(name.strip().lower(), []).append(value)
    if not _MAIL_HEADERS & raw_headers.keys():
        raise MailUnparseable("no mail headers (From, To, Subject, Date, Message-ID) found")

    notes: list[str] = []
    decoded_headers = {
        name: [hdr.decode_header(value) for value in raw_headers[name]]
        for name in AUTO_REPLY_HEADERS & raw_headers.keys()
    }
    subject = hdr.decode_header(_first(raw_headers, "subject"), notes)
    senders = hdr.addresses(raw_headers.get("from", []) or raw_headers.get("sender", []), notes)
    from_name, from_address = senders[0] if senders else ("", None)
    date = hdr.parse_date(_first(raw_headers, "date"), notes)
    if date is None:
        date = hdr.received_date(_first(raw_headers, "received"))
        notes.append("no readable Date header" + ("; date from Received" if date else ""))
    message_id = next(iter(hdr.message_ids(_first(raw_headers, "message-id"))), None)
    if message_id is None:
        notes.append("no Message-ID header")

    body = _Body()
    _walk(message, body, depth=0, related=False)
    full_text = "\n\n".join(part for part in body.plain if part.strip())
    html_source = "\n".join(body.html)
    if not full_text.strip() and html_source:
        full_text = html_to_text(html_source)
    full_text = full_text.strip("\n")
    content_type = message.get_content_type()
    reason = auto_reply_reason(
        decoded_headers, subject=subject, from_address=from_address, content_type=content_type
    )
    return ParsedMail(
        from_address=from_address,
        from_name=from_name,
        to=_addresses_only(raw_headers, "to", notes),
        cc=_addresses_only(raw_headers, "cc", notes),
        reply_to=_addresses_only(raw_headers, "reply-to", notes),
        subject=subject,
        date=date,
        message_id=message_id,
        in_reply_to=next(iter(hdr.message_ids(_first(raw_headers, "in-reply-to"))), None),
        references=hdr.message_ids(" ".join(raw_headers.get("references", []))),
        text=strip_quoted(full_text),
        full_text=full_text,
        html=sanitize_mail_html(html_source) if html_source.strip() else None,
        attachments=body.attachments,
        auto_reply=reason is not None,
        auto_reply_reason=reason,
        defects=_unique(notes + body.defects),
    )


def _read_structure(raw: bytes) -> Message:
    """The stdlib's compat32 parse of ``raw``, fed in chunks: the same result as
    ``email.message_from_bytes`` without holding the whole mail as text besides its lines
    (a 30 MB mail peaks at about 230 MB instead of 360 MB; benchmarks/mail_parse.py)."""
    parser = BytesFeedParser()
    for start in range(0, len(raw), _FEED_CHUNK):
        parser.feed(raw[start : start + _FEED_CHUNK])
    return parser.close()


def mail_json(parsed: ParsedMail) -> dict[str, Any]:
    """The object ``kefu mail parse`` prints (the issue's shape, plus the defects)."""
    return {
        "from": parsed.from_address,
        "from_name": parsed.from_name,
        "to": parsed.to,
        "cc": parsed.cc,
        "subject": parsed.subject,
        "date": parsed.date.isoformat() if parsed.date else None,
        "message_id": parsed.message_id,
        "in_reply_to": parsed.in_reply_to,
        "references": parsed.references,
        "text": parsed.text,
        "html": parsed.html,
        "attachments": [
            {
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "inline": a.inline,
                "content_id": a.content_id,
            }
            for a in parsed.attachments
        ],
        "auto_reply": parsed.auto_reply,
        "auto_reply_reason": parsed.auto_reply_reason,
        "defects": parsed.defects,
    }


def _walk(part: Message, body: _Body, *, depth: int, related: bool) -> None:
    content_type = part.get_content_type()
    if depth > _MAX_DEPTH:
        body.defects.append("parts nested too deep; the deeper ones are dropped")
        return
    if content_type in _CONTAINERS_KEPT_WHOLE or (
        part.is_multipart() and not content_type.startswith("multipart/")
    ):
        body.defects.extend(_defect_names(part))
        _add_attachment(part, body, related=related, data=_as_bytes(part, body))
        return
    if part.is_multipart():
        body.defects.extend(_defect_names(part))
        inside_related = related or content_type == "multipart/related"
        for child in part.get_payload():
            if isinstance(child, Message):
                _walk(child, body, depth=depth + 1, related=inside_related)
        return
    if content_type.startswith("multipart/"):
        body.defects.append(f"{content_type} without its parts (boundary not found); kept as text")
        content_type = "text/plain"
    try:
        data = part.get_payload(decode=True)
    except Exception as error:  # one broken part must not lose the rest
        body.defects.append(f"part {content_type} not decodable: {error}")
        return
    finally:
        body.defects.extend(_defect_names(part))  # decoding adds the payload's defects
    if not isinstance(data, bytes):
        data = b""
    disposition = (part.get_content_disposition() or "").lower()
    is_text = content_type in ("text/plain", "text/html")
    if is_text and disposition != "attachment" and not _filename(part, body):
        decoded = decode_bytes(data, part.get_content_charset() or _param(part, "charset"))
        if decoded.note:
            body.defects.append(f"{content_type}: {decoded.note}")
        text = _NEWLINES.sub("\n", decoded.text)
        if content_type == "text/html":
            body.html.append(text)
        else:
            body.plain.append(_unflow(part, text))
        return
    _add_attachment(part, body, related=related, data=data)


def _add_attachment(part: Message, body: _Body, *, related: bool, data: bytes) -> None:
    content_type = part.get_content_type()
    disposition = (part.get_content_disposition() or "").lower()
    raw_id = _part_header(part, "content-id")
    content_id = next(iter(hdr.message_ids(raw_id)), None)
    if content_id is None and raw_id:
        content_id = hdr.decode_header(raw_id).strip("<> ") or None
    filename = _filename(part, body) or _default_name(part, content_type, len(body.attachments))
    inline = disposition != "attachment" and (
        disposition == "inline" or (related and content_id is not None)
    )
    body.attachments.append(
        MailAttachment(
            filename=filename,
            content_type=content_type,
            data=data,
            content_id=content_id,
            inline=inline and content_type.startswith("image/"),
        )
    )


def _filename(part: Message, body: _Body) -> str:
    """The attachment's name: RFC 2231 (any charset), RFC 2047 or raw 8-bit, from
    Content-Disposition's filename or Content-Type's name; path parts removed."""
    for param, header in (("filename", "content-disposition"), ("name", "content-type")):
        value = part.get_param(param, header=header)
        if not value:
            continue
        if isinstance(value, tuple):  # RFC 2231: (charset, language, latin-1 text)
            charset, _language, text = value
            data = str(text).encode("latin-1", "replace")
            decoded = decode_bytes(data, charset or None)
            if decoded.note:
                body.defects.append(f"filename: {decoded.note}")
            name = decoded.text
        else:
            name = hdr.decode_header(str(value).strip('"'), body.defects)
        name = name.replace("\\", "/").rsplit("/", 1)[-1].strip().strip('"')
        if name:
            return name
    return ""


def _default_name(part: Message, content_type: str, index: int) -> str:
    if content_type in ("message/rfc822", "message/global"):
        return f"message-{index + 1}.eml"
    extension = {
        "image/png": ".png",
        "image/jpeg": ".jpg",
        "image/gif": ".gif",
        "text/plain": ".txt",
        "text/html": ".html",
        "application/pdf": ".pdf",
        "message/delivery-status": ".txt",
    }.get(content_type, ".bin")
    return f"part-{index + 1}{extension}"


def _as_bytes(part: Message, body: _Body) -> bytes:
    """An attached message kept whole, as the bytes it was sent as."""
    payload = part.get_payload()
    try:
        if isinstance(payload, list):
            return b"".join(
                child.as_bytes() if isinstance(child, Message) else b"" for child in payload
            )
        decoded = part.get_payload(decode=True)
        return decoded if isinstance(decoded, bytes) else b""
    except Exception as error:  # a broken attached mail stays a defect
        body.defects.append(f"attached message not serialisable: {error}")
        return b""


def _unflow(part: Message, text: str) -> str:
    """Undo RFC 3676 format=flowed soft line breaks (a line ending in a space continues)."""
    if _param(part, "format").lower() != "flowed":
        return text
    delsp = _param(part, "delsp").lower() == "yes"
    out: list[str] = []
    carry = ""
    for line in text.split("\n"):
        if line.startswith(" "):  # space-stuffed
            line = line[1:]
        if line.endswith(" ") and line != "-- ":
            carry += line[:-1] if delsp else line
            continue
        out.append(carry + line)
        carry = ""
    if carry:
        out.append(carry)
    return "\n".join(out)


def _defect_names(part: Message) -> Iterator[str]:
    for defect in getattr(part, "defects", []):
        name = type(defect).__name__.removesuffix("Defect")
        yield f"{part.get_content_type()}: {name}"


def _part_header(part: Message, name: str) -> str | None:
    """A part's header as the parser read it (``get`` may give a Header object instead)."""
    for key, value in part.raw_items():
        if key.lower() == name:
            return str(value)
    return None


def _param(part: Message, name: str) -> str:
    value = part.get_param(name)
    if isinstance(value, tuple):
        return str(value[2])
    return value or ""


def _first(headers: dict[str, list[str]], name: str) -> str | None:
    values = headers.get(name)
    return values[0] if values else None


def _addresses_only(headers: dict[str, list[str]], name: str, notes: list[str]) -> list[str]:
    return list(dict.fromkeys(addr for _name, addr in hdr.addresses(headers.get(name, []), notes)))


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
