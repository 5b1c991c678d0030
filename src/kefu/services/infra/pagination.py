"""Opaque cursors for keyset pagination over descending ids."""

from __future__ import annotations

import base64
import json

from kefu.errors import KefuError

# Ids are 64-bit signed integers on PostgreSQL and SQLite; a cursor past that range would reach
# the database as an overflow (a 500), so it is refused here with room to spare.
MAX_CURSOR_ID = 2**62


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
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_CURSOR_ID:
        raise KefuError("invalid_cursor")
    return value
