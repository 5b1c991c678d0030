"""Bounds on what anonymous visitors may do: per visitor and per address, in every process
alike (services/infra/ratelimit.py counts in Redis when ``KEFU_REDIS_URL`` is set).

The address limit is the wider one: it catches one machine opening visitor after visitor (a new
visitor is free: it costs nothing but a page load), while a real office of people behind one
address stays well under it.
"""

from __future__ import annotations

from typing import Any

from kefu.errors import KefuError
from kefu.services.infra.ratelimit import RateLimiter
from kefu.settings import Settings

RETRY_AFTER_SECONDS = 10
OFFLINE_FORMS_PER_MINUTE = 5


class VisitorLimits:
    def __init__(self, settings: Settings, *, redis: Any = None) -> None:
        self.messages = RateLimiter(settings.webchat_messages_per_minute, 60, redis=redis)
        self.address_messages = RateLimiter(
            settings.webchat_address_messages_per_minute, 60, redis=redis
        )
        self.sessions = RateLimiter(settings.webchat_sessions_per_minute, 60, redis=redis)
        self.uploads = RateLimiter(settings.webchat_uploads_per_minute, 60, redis=redis)
        self.offline_forms = RateLimiter(OFFLINE_FORMS_PER_MINUTE, 60, redis=redis)
        self.max_message_chars = settings.webchat_max_message_chars
        self.max_upload_bytes = min(
            settings.webchat_max_upload_bytes, settings.max_attachment_bytes
        )

    def message(self, visitor: str, address: str) -> None:
        """Count one message; raise ``rate_limited`` past either limit."""
        _check(self.messages, f"wc:m:{visitor}")
        _check(self.address_messages, f"wc:ma:{address}")

    def session(self, address: str) -> None:
        _check(self.sessions, f"wc:s:{address}")

    def upload(self, visitor: str, address: str) -> None:
        _check(self.uploads, f"wc:u:{visitor}")
        _check(self.address_messages, f"wc:ma:{address}")

    def offline_form(self, address: str) -> None:
        _check(self.offline_forms, f"wc:o:{address}")

    def text(self, text: str) -> str:
        """The message text, refused when empty or longer than the limit."""
        if len(text) > self.max_message_chars:
            raise KefuError("too_long", status_code=413, limit=self.max_message_chars)
        if not text.strip() or "\x00" in text:
            raise KefuError("validation_error", status_code=422, details={"field": "text"})
        return text


def _check(limiter: RateLimiter, key: str) -> None:
    limiter.require(key, retry_after=RETRY_AFTER_SECONDS)
