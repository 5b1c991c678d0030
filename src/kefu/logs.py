"""Logging setup: one handler on stderr, in text or JSON lines (``KEFU_LOG_FORMAT``); every
record passes through personal-data masking, and control characters in what is logged are
escaped, so a logged value cannot start a line of its own (log injection). docs/logging.md
is the inventory of what kefu logs and where it goes."""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from kefu.domain.masking import mask_personal_data

LOG_FORMATS = ("text", "json")
# The id of the HTTP request being served (api/request_ids.py), on each record made meanwhile.
current_request_id: ContextVar[str | None] = ContextVar("kefu_request_id", default=None)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# C0 and C1 control characters, DEL, and the Unicode line and paragraph separators.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\r": "\\r", "\n": "\\n", "\t": "\\t"}

# What every LogRecord has; anything else on a record came as ``extra=`` and is a field.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's message again, with terminal colours
}


def escape_control(text: str) -> str:
    """``text`` on one line: CR, LF, tab as ``\\r \\n \\t``, other control characters as
    ``\\xNN`` / ``\\uNNNN``; a backslash before one of them stays as it is (the escape is
    for reading, not for decoding)."""
    return _CONTROL.sub(lambda m: _NAMED.get(m.group(0)) or _code(m.group(0)), text)


def _code(char: str) -> str:
    point = ord(char)
    return f"\\x{point:02x}" if point < 0x100 else f"\\u{point:04x}"


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The fields given with ``extra=`` (actor, route, client, reason …), masked."""
    return {
        key: mask_personal_data(value) if isinstance(value, str) else value
        for key, value in vars(record).items()
        if key not in _STANDARD and not key.startswith("_")
    }


class MaskPersonalData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_personal_data(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class AddRequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        request_id = current_request_id.get()
        if request_id is not None and not hasattr(record, "request_id"):
            record.request_id = request_id
        return True


class TextFormatter(logging.Formatter):
    """``time level logger: message`` with the line's control characters escaped; a
    traceback, written by kefu's own code, follows on lines of its own."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        return escape_control(super().formatMessage(record))


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (ISO 8601, UTC), level, logger, message, the extra
    fields, and the traceback as ``exception`` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in extra_fields(record).items():
            entry.setdefault(key, value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        # json escapes every control character (\r \n \u2028 included) inside its strings.
        return (
            json.dumps(entry, ensure_ascii=False, default=str)
            .replace("\u2028", "\\u2028")
            .replace("\u2029", "\\u2029")
        )


def make_handler(log_format: str = "text") -> logging.Handler:
    """The one handler kefu installs: stderr (the journal under systemd, the container's log
    driver in a container), masked, in ``log_format``."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(MaskPersonalData())
    handler.addFilter(AddRequestId())
    return handler


def configure_logging(level: str = "INFO", log_format: str = "text") -> None:
    root = logging.getLogger()
    ours = [h for h in root.handlers if any(isinstance(f, MaskPersonalData) for f in h.filters)]
    for handler in ours:
        root.removeHandler(handler)
    root.addHandler(make_handler(log_format))
    root.setLevel(level.upper())
    # One line per outbound HTTP call (order lookups, callbacks) is noise; kefu logs outcomes.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, root.level))
    # bm25s says so each time a knowledge-base index is built (every field of every rebuild).
    logging.getLogger("bm25s").setLevel(max(logging.WARNING, root.level))
