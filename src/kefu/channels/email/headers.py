"""Header values of real-world mail, decoded: RFC 2047 encoded words (also split in the middle
of a character, or with broken padding), raw 8-bit headers in any charset, addresses, dates and
message ids.

Values come from ``Message.raw_items()``: the stdlib's parser keeps 8-bit header bytes as
surrogate escapes, which are turned back into bytes here and decoded with ``charsets``.
"""

from __future__ import annotations

import binascii
import re
from datetime import UTC, datetime
from email.utils import getaddresses, parsedate_to_datetime

from kefu.channels.email.charsets import decode_bytes

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_FOLD = re.compile(r"\r?\n[ \t]*")
_SPACES = re.compile(r"\s+")
_ANGLE_ID = re.compile(r"<\s*([^<>\s]+?)\s*>")
_ADDR_SPEC = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
_RECEIVED_DATE = re.compile(r";\s*([^;]+?)\s*$")
_LOOSE_DATE = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\D{0,12}?"
    r"(\d{1,2}):(\d{2})(?::(\d{2}))?"
)


def unescape_raw(value: str) -> bytes:
    """The bytes of a header value as the parser read them (8-bit bytes come back)."""
    return value.encode("utf-8", "surrogateescape")  # text already decoded stays UTF-8


def raw_text(value: str, notes: list[str] | None = None) -> str:
    """A raw header value as text: 8-bit bytes decoded by guessing, folding undone; encoded
    words are left as they are (addresses are split before their names are decoded)."""
    data = unescape_raw(value)
    if data.isascii():
        text = data.decode("ascii")
    else:
        decoded = decode_bytes(data, None)
        if notes is not None and decoded.note:
            notes.append(f"8-bit header: {decoded.note}")
        text = decoded.text
    return _FOLD.sub(" ", text)


def decode_words(text: str, notes: list[str] | None = None) -> str:
    """Decode the RFC 2047 encoded words in ``text``.

    Adjacent encoded words in one charset are joined as bytes before decoding, so a character
    split across two words survives; whitespace between encoded words is dropped as the RFC
    says. A word that does not decode is kept as it was written.
    """
    if "=?" not in text:
        return text
    pieces: list[tuple[bytes, str] | str] = []
    position = 0
    for match in _ENCODED_WORD.finditer(text):
        between = text[position : match.start()]
        previous_is_word = bool(pieces) and isinstance(pieces[-1], tuple)
        if between and not (previous_is_word and between.isspace()):
            pieces.append(between)
        position = match.end()
        charset = match.group(1).split("*", 1)[0]
        data = _word_bytes(match.group(2), match.group(3))
        if data is None:
            pieces.append(match.group(0))
            if notes is not None:
                notes.append("undecodable encoded word in a header")
            continue
        last = pieces[-1] if pieces else None
        if isinstance(last, tuple) and last[1].lower() == charset.lower():
            pieces[-1] = (last[0] + data, last[1])
        else:
            pieces.append((data, charset))
    pieces.append(text[position:])
    out: list[str] = []
    for piece in pieces:
        if isinstance(piece, str):
            out.append(piece)
            continue
        decoded = decode_bytes(piece[0], piece[1])
        if notes is not None and decoded.note:
            notes.append(f"header: {decoded.note}")
        out.append(decoded.text)
    return "".join(out)


def _word_bytes(encoding: str, payload: str) -> bytes | None:
    data = payload.encode("ascii", "replace")
    if encoding in "qQ":
        return binascii.a2b_qp(data, header=True)
    try:  # lenient: padding added, stray characters skipped (senders get both wrong)
        decoded = binascii.a2b_base64(data + b"=" * (-len(data) % 4))
    except binascii.Error:
        try:
            decoded = binascii.a2b_base64(data[: len(data) - len(data) % 4])
        except binascii.Error:
            return None
    return decoded if decoded or not data else None


def decode_header(value: str | None, notes: list[str] | None = None) -> str:
    """A header's value as one line of text ("" for None)."""
    if value is None:
        return ""
    return _SPACES.sub(" ", decode_words(raw_text(value, notes), notes)).strip()


def addresses(values: list[str], notes: list[str] | None = None) -> list[tuple[str, str]]:
    """(display name, lower-cased addr-spec) of every address in the headers ``values``."""
    found: list[tuple[str, str]] = []
    for value in values:
        text = raw_text(value, notes)
        pairs = [(name, addr) for name, addr in getaddresses([text]) if "@" in addr]
        if not pairs:  # the stdlib gave up on it: keep whatever looks like an address
            pairs = [("", addr) for addr in _ADDR_SPEC.findall(text)]
        for name, addr in pairs:
            clean = _SPACES.sub(" ", decode_words(name, notes)).strip().strip('"').strip()
            found.append((clean, addr.strip().strip("<>").lower()))
    return found


def parse_date(value: str | None, notes: list[str] | None = None) -> datetime | None:
    """An aware UTC datetime from a Date (or Received) value; None when none can be read."""
    if not value:
        return None
    return _read_date(raw_text(value, notes).strip(), notes)


def _read_date(text: str, notes: list[str] | None) -> datetime | None:
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        moment = None
    if moment is None:
        loose = _LOOSE_DATE.search(text)
        if loose is None:
            return None
        try:
            year, month, day, hour, minute = (int(loose.group(i)) for i in range(1, 6))
            second = int(loose.group(6) or 0)
            moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
        except ValueError:
            return None
        if notes is not None:
            notes.append("date in a non-standard form, read as UTC")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def received_date(value: str | None) -> datetime | None:
    """The time stamp after the last ';' of a Received header."""
    if not value:
        return None
    match = _RECEIVED_DATE.search(raw_text(value))
    return _read_date(match.group(1), None) if match else None


def message_ids(value: str | None) -> list[str]:
    """The ids in a Message-ID / In-Reply-To / References value, without <>, in order, once."""
    if not value:
        return []
    text = raw_text(value)
    ids = _ANGLE_ID.findall(text)
    if not ids:  # written without angle brackets
        ids = [token.strip("<>,;") for token in text.split() if "@" in token]
    seen: dict[str, None] = {}
    for one in ids:
        if one and len(one) <= 998:
            seen.setdefault(one, None)
    return list(seen)
