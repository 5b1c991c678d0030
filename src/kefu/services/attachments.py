"""Attachment bytes live in the data directory, addressed by their SHA-256."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from kefu.errors import KefuError


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


def decode_attachment(item: AttachmentIn, *, max_bytes: int) -> tuple[bytes, StoredFile]:
    try:
        data = base64.b64decode(item.content_base64, validate=True)
    except (binascii.Error, ValueError) as e:
        raise KefuError(
            "invalid_attachment", status_code=422, details={"field": "content_base64"}
        ) from e
    if len(data) > max_bytes:
        raise KefuError("attachment_too_large", status_code=413, limit=max_bytes)
    name = os.path.basename(item.filename.replace("\\", "/")).strip() or "attachment"
    digest = hashlib.sha256(data).hexdigest()
    return data, StoredFile(name[:255], item.content_type, len(data), digest)


def write_blob(root: Path, data: bytes, sha256: str) -> Path:
    """Write once; identical files share one blob. Atomic via rename."""
    path = blob_path(root, sha256)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    return path


def blob_path(root: Path, sha256: str) -> Path:
    return root / sha256[:2] / sha256
