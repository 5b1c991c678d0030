"""Static files served from memory: read once, with a strong ETag, so serving them needs no
worker thread, no database and no disk read per request (they stay ungated, see app.py)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"
TEMPLATES_DIR = WEB_DIR / "templates"


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    etag: str


@cache
def static_asset(relative: str, media_type: str) -> Asset:
    """``relative`` under static/, e.g. ``widget/kefu-widget.js``; a fixed name from our code."""
    body = (STATIC_DIR / relative).read_bytes()
    return Asset(body, media_type, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')


@cache
def template(name: str) -> str:
    return (TEMPLATES_DIR / name).read_text(encoding="utf-8")
