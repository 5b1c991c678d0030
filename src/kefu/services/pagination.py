"""Opaque cursors for keyset pagination over descending ids."""

from __future__ import annotations

import base64
import json

from kefu.errors import KefuError


def encode_cursor(last_id: int) -> str:
    raw = json.dumps({"before": last_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))["before"]
    except (ValueError, KeyError, TypeError) as e:
        raise KefuError("invalid_cursor") from e
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise KefuError("invalid_cursor")
    return value
