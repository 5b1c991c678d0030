"""Files a visitor sends: images and PDF only, recognized by their bytes, never by their name.

What the browser says a file is counts for nothing: the type is read from the file's first
bytes (its magic number), and a file that is none of the accepted kinds is refused. The name is
cleaned (services/intake/attachments.sanitize_filename) and given the extension of what the
file really is, so "invoice.html" holding a PNG is stored as "invoice.html.png". Files are
served back as downloads with ``nosniff`` and a sandboxing CSP (api/chat_public.py).
"""

from __future__ import annotations

import base64
import os

from kefu.errors import KefuError
from kefu.services.intake.attachments import AttachmentIn, sanitize_filename

EXTENSIONS = {
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "application/pdf": (".pdf",),
}


def sniff(data: bytes) -> str | None:
    """The accepted type the bytes are, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def checked_upload(data: bytes, filename: str, *, max_bytes: int) -> AttachmentIn:
    """The file as intake takes it; 413 when too large, 415 when not an accepted kind."""
    if len(data) > max_bytes:
        raise KefuError("attachment_too_large", status_code=413, limit=max_bytes)
    kind = sniff(data)
    if kind is None:
        raise KefuError("unsupported_file_type", status_code=415)
    name = sanitize_filename(filename or "")
    if os.path.splitext(name)[1].lower() not in EXTENSIONS[kind]:
        name = sanitize_filename(name + EXTENSIONS[kind][0])
    return AttachmentIn(name, kind, base64.b64encode(data).decode())
