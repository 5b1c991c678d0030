"""Readers' feedback on articles (这篇文章解决了您的问题吗？) and the bounds on anonymous use.

A vote is a row; its optional comment comes after it, allowed to whoever holds the vote's
token (an HMAC of its id: the public may add a comment to their own vote, never to another's).
Public searches and votes are rate-limited per visitor address, in every process alike.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import KbArticle, KbFeedback
from kefu.errors import KefuError, NotFound
from kefu.keyring import any_signature_matches
from kefu.services.infra.ratelimit import RateLimiter

SOURCES = ("portal", "bot", "agent")
MAX_COMMENT_CHARS = 1000
RETRY_AFTER_SECONDS = 10
FEEDBACK_TOKEN_VERSION = "f1"  # noqa: S105 - a format tag, not a secret


class KbLimits:
    """Per-address limits of the public portal and API."""

    def __init__(
        self, searches_per_minute: int, votes_per_minute: int, *, redis: Any = None
    ) -> None:
        self.searches = RateLimiter(searches_per_minute, 60, redis=redis)
        self.votes = RateLimiter(votes_per_minute, 60, redis=redis)

    def search(self, address: str) -> None:
        _check(self.searches, f"kb:s:{address}")

    def vote(self, address: str) -> None:
        _check(self.votes, f"kb:v:{address}")


def _check(limiter: RateLimiter, key: str) -> None:
    limiter.require(key, retry_after=RETRY_AFTER_SECONDS)


def feedback_token(secret: str, feedback_id: int) -> str:
    """What lets the voter (and only them) add a comment to vote ``feedback_id``: ``f1.`` (the
    version, so the format can change) and an HMAC of the id."""
    return f"{FEEDBACK_TOKEN_VERSION}.{_feedback_mac(secret, feedback_id)}"


def token_is_genuine(secret: str, feedback_id: int, token: str) -> bool:
    """Whether ``token`` is vote ``feedback_id``'s, made under the master key or one it replaced
    (KEFU_SECRET_KEY_PREVIOUS: a vote made before the key changed keeps its token)."""
    version, _, mac = token.partition(".")
    return version == FEEDBACK_TOKEN_VERSION and any_signature_matches(
        secret, mac, lambda key: _feedback_mac(key, feedback_id)
    )


def _feedback_mac(secret: str, feedback_id: int) -> str:
    message = f"kb-feedback:{feedback_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def do_vote(
    session: Session, article: KbArticle, *, helpful: bool, source: str, comment: str = ""
) -> KbFeedback:
    if source not in SOURCES:
        raise KefuError("validation_error", status_code=422, details={"field": "source"})
    row = KbFeedback(article_id=article.id, helpful=helpful, source=source,
                     comment=comment.strip()[:MAX_COMMENT_CHARS], created_at=utcnow())  # fmt: skip
    session.add(row)
    session.flush()
    return row


def do_comment(
    session: Session, article: KbArticle, *, feedback_id: int, token: str, comment: str, secret: str
) -> KbFeedback:
    """Add the comment to one's own vote (the token the vote answered with)."""
    row = session.get(KbFeedback, feedback_id)
    if (
        row is None
        or row.article_id != article.id
        or not token_is_genuine(secret, feedback_id, token)
    ):
        raise NotFound("kb_feedback")
    row.comment = comment.strip()[:MAX_COMMENT_CHARS]
    session.flush()
    return row
