"""Attachment bytes live in the data directory, addressed by their SHA-256.

What a client says of a file is not trusted: its name is cleaned of what a person cannot see
(a right-to-left override makes "gnp.exe" read as "exe.png"), and its content type is kept
only when the bytes agree.
"""

from __future__ import annotations

import base64
import binascii
import errno
import hashlib
import logging
import os
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import puremagic

from kefu.errors import KefuError
from kefu.services.intake.scanner import Scanner, scanner_from

log = logging.getLogger(__name__)

DEFAULT_FILENAME = "attachment"
MAX_FILENAME_CHARS = 200
MAX_EXTENSION_CHARS = 16
# Control, format (U+202E, U+200B, U+FEFF...), lone surrogates, line and paragraph separators.
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
OCTET_STREAM = "application/octet-stream"
# Types a client may give text bytes besides text/*.
_TEXT_LIKE = frozenset({"application/json", "application/xml"})
# Bytes that do not occur in text in any encoding we meet (all C0 controls but \t \n \f \r, ESC).
_BINARY_BYTES = frozenset(range(32)) - {0x09, 0x0A, 0x0C, 0x0D, 0x1B}
_TEXT_SAMPLE = 8192


@dataclass(frozen=True)
class AttachmentIn:
    filename: str
    content_type: str
    content_base64: str


@dataclass(frozen=True)
class StoredFile:
    filename: str
    content_type: str
    size: int
    sha256: str


def decode_attachment(
    item: AttachmentIn, *, max_bytes: int, scanner: Scanner | None = None
) -> tuple[bytes, StoredFile]:
    """The bytes of ``item`` and what is stored of them, once the size and the scanner (the one
    given, else KEFU_ATTACHMENT_SCANNER's, if any) allow them: every way a file comes in
    (intake, agents' uploads, mail, WeChat media, the chat widget) passes here before
    ``write_blob``."""
    try:
        data = base64.b64decode(item.content_base64, validate=True)
    except (binascii.Error, ValueError) as e:
        raise KefuError(
            "invalid_attachment", status_code=422, details={"field": "content_base64"}
        ) from e
    if len(data) > max_bytes:
        raise KefuError("attachment_too_large", status_code=413, limit=max_bytes)
    name = sanitize_filename(item.filename)
    scanner = scanner or scanner_from()
    if scanner is not None:
        scanner.check(data, filename=name)
    digest = hashlib.sha256(data).hexdigest()
    return data, StoredFile(name, content_type_of(data, item.content_type), len(data), digest)


# --- names -----------------------------------------------------------------------------------


def sanitize_filename(raw: str) -> str:
    """A file name a person can read as it is: NFKC, no invisible or control characters, no
    directories, at most ``MAX_FILENAME_CHARS``; ``DEFAULT_FILENAME`` when nothing is left.

    Chinese, emoji and ordinary punctuation stay. The result is NFKC-stable and cleaning it
    again changes nothing."""
    name = raw
    # Removing a character can bring together two that NFKC joins: repeat until it settles,
    # which takes one more round at most in practice.
    for _ in range(4):
        cleaned = _clean_once(name)
        if cleaned == name:
            break
        name = cleaned
    else:
        name = ""
    return name or DEFAULT_FILENAME


def _clean_once(name: str) -> str:
    text = unicodedata.normalize("NFKC", name)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in _INVISIBLE)
    text = text.replace("\\", "/").rsplit("/", 1)[-1].strip()  # after NFKC: "／" is "/" now
    if not text.strip("."):
        return ""
    return _bounded(text)


def _bounded(name: str) -> str:
    if len(name) <= MAX_FILENAME_CHARS:
        return name
    stem, dot, extension = name.rpartition(".")
    if dot and stem and len(extension) <= MAX_EXTENSION_CHARS:
        keep = MAX_FILENAME_CHARS - len(extension) - 1
        return f"{stem[:keep].rstrip()}.{extension}"
    return name[:MAX_FILENAME_CHARS].rstrip()


# --- content types ---------------------------------------------------------------------------


def content_type_of(data: bytes, declared: str) -> str:
    """The content type to store: the client's ``declared`` one if the bytes agree, else what
    the bytes are (the most likely type their magic numbers give), ``text/plain`` for
    unrecognized text and ``application/octet-stream`` for anything else.

    A text type declared for text is kept (text has no magic number: a CSV, a log or a GBK
    note are all "text"), unless the bytes are recognized as something that is not text."""
    declared = declared.strip().lower()
    sniffed = _sniff(data)
    if declared in sniffed:
        return declared
    text = _looks_like_text(data) and all(_is_textual(kind) for kind in sniffed)
    if text and _is_textual(declared):
        return declared
    if sniffed:
        return sniffed[0]
    return "text/plain" if text else OCTET_STREAM


def _sniff(data: bytes) -> list[str]:
    """Every type the bytes may be, the most likely first (lower case)."""
    try:
        matches = puremagic.magic_string(data)
    except (puremagic.PureError, ValueError):  # nothing recognized; ValueError on empty input
        return []
    return list(dict.fromkeys(m.mime_type.lower() for m in matches if m.mime_type))


def _is_textual(content_type: str) -> bool:
    return (
        content_type.startswith("text/")
        or content_type in _TEXT_LIKE
        or content_type.endswith(("+xml", "+json"))
    )


def _looks_like_text(data: bytes) -> bool:
    return not _BINARY_BYTES.intersection(data[:_TEXT_SAMPLE])


def write_blob(root: Path, data: bytes, sha256: str) -> Path:
    """Write once; identical files share one blob. Atomic via rename.

    A full disk (or a file-size limit) is ``storage_full`` (507) and leaves no part of the file
    behind: the caller's transaction then fails, so no row names a file that is not there."""
    path = blob_path(root, sha256)
    if not path.exists():
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(data)
            os.replace(tmp, path)
        except OSError as e:
            tmp.unlink(missing_ok=True)
            if e.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                raise
            log.error("attachment not stored: %s (%d bytes)", e.strerror, len(data))
            raise KefuError("storage_full", status_code=507) from e
    return path


def blob_path(root: Path, sha256: str) -> Path:
    return root / sha256[:2] / sha256
