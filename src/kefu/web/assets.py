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


def static_url(relative: str) -> str:
    """``/static/<relative>?v=<hash>``: the hash changes with the file, so it is cached long."""
    media = _MEDIA_TYPES.get(Path(relative).suffix, "application/octet-stream")
    return f"/static/{relative}?v={static_asset(relative, media).etag.strip(chr(34))[:12]}"


_MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".ogg": "audio/ogg",
}


def media_type_of(relative: str) -> str | None:
    return _MEDIA_TYPES.get(Path(relative).suffix)


def public_static(relative: str) -> Asset | None:
    """A file under static/ by its URL path, or None: nothing outside static/, no hidden files."""
    media = media_type_of(relative)
    if media is None or any(part.startswith(".") or part == "" for part in relative.split("/")):
        return None
    path = (STATIC_DIR / relative).resolve()
    if not path.is_relative_to(STATIC_DIR.resolve()) or not path.is_file():
        return None
    return static_asset(relative, media)
