"""Feeds of public posts (舆情订阅源): a JSON URL that answers with a list of posts in the webhook
body's shape (services/social/posts.py), polled every few minutes.

Admins configure feeds; their URLs pass the outbound guard when saved and again, with a fresh
DNS answer, at every poll (services/infra/outbound_urls.py); redirects are not followed. A poll
sends ``?since=<cursor>`` (the newest ``posted_at`` seen, ISO 8601) so a feed may answer only
what is new; every post goes through ``receive_post`` (deduplicated on platform and id), so a
feed that ignores ``since`` costs time but never makes a mention twice.

``poll_due`` is the job's round ("the database is the clock"): a feed is due when its
``next_poll_at`` has come; it is claimed by moving that time on in a short transaction (``FOR
UPDATE SKIP LOCKED`` on PostgreSQL, so two workers never poll the same feed), fetched outside any
transaction, and its posts stored in a transaction of their own. One bad post is counted and
skipped; an unreachable or refused feed keeps its reason in ``last_error`` and is tried at its
next time.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kefu.db.models import SocialFeed
from kefu.domain.outbound_urls import UrlRefused
from kefu.errors import Conflict, KefuError, NotFound
from kefu.services import audit
from kefu.services.actors import Actor
from kefu.services.infra.outbound_urls import OutboundGuard, guard_of, outbound_client
from kefu.services.social.intake import receive_post
from kefu.services.social.posts import parse_post
from kefu.services.staff.directory import require_admin
from kefu.settings import Settings

log = logging.getLogger(__name__)

FIELDS = ("name", "url", "interval_minutes", "enabled")


# --- configuration (admins) -----------------------------------------------------------------


def list_feeds(session: Session, actor: Actor) -> list[SocialFeed]:
    require_admin(actor)
    return list(session.scalars(select(SocialFeed).order_by(SocialFeed.name, SocialFeed.id)))


def get_feed(session: Session, actor: Actor, feed_id: int) -> SocialFeed:
    require_admin(actor)
    feed = session.get(SocialFeed, feed_id)
    if feed is None:
        raise NotFound("social_feed")
    return feed


def _snapshot(feed: SocialFeed) -> dict[str, Any]:
    return {name: getattr(feed, name) for name in FIELDS}


def do_save_feed(
    session: Session,
    actor: Actor,
    feed: SocialFeed | None,
    *,
    name: str,
    url: str,
    interval_minutes: int,
    enabled: bool,
    guard: OutboundGuard,
    now: datetime,
) -> SocialFeed:
    """Create (``feed`` None) or change a feed; its URL must pass the guard (422
    ``outbound_url_refused``), its name be unique (409 ``name_taken``)."""
    require_admin(actor)
    guard.check_saved(url, field="url")
    before = None if feed is None else _snapshot(feed)
    if feed is None:
        feed = SocialFeed(last_count=0)
        session.add(feed)
    moved = feed.url != url or feed.interval_minutes != interval_minutes or not feed.enabled
    feed.name, feed.url, feed.interval_minutes, feed.enabled = name, url, interval_minutes, enabled
    if moved:
        feed.next_poll_at = now  # a new or changed feed is polled at the next round
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as e:
        raise Conflict("name_taken") from e
    audit.record(
        session, actor, "social_feed.create" if before is None else "social_feed.update",
        object_type="social_feed", object_id=feed.id, before=before, after=_snapshot(feed),
    )  # fmt: skip
    return feed


def do_delete_feed(session: Session, actor: Actor, feed: SocialFeed) -> None:
    """The feed stops; the mentions it brought stay."""
    require_admin(actor)
    before = _snapshot(feed)
    session.delete(feed)
    session.flush()
    audit.record(
        session, actor, "social_feed.delete", object_type="social_feed", object_id=feed.id,
        before=before,
    )  # fmt: skip


# --- polling ----------------------------------------------------------------------------------


class FeedFailed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class PollReport:
    feeds: int = 0
    mentions: int = 0  # new mentions
    skipped: int = 0  # posts that were not valid
    failed: int = 0  # feeds that could not be read
    errors: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "feeds": self.feeds,
            "mentions": self.mentions,
            "skipped": self.skipped,
            "failed": self.failed,
        }


@dataclass(frozen=True)
class FeedReader:
    """Reads one feed's answer through the guard: at most ``max_bytes``, no redirects."""

    guard: OutboundGuard
    timeout: float = 10.0
    max_bytes: int = 2 * 1_048_576

    @classmethod
    def of(cls, settings: Settings) -> FeedReader:
        return cls(
            guard_of(settings),
            settings.social_feed_timeout_seconds,
            settings.social_feed_max_bytes,
        )

    def read(self, url: str, cursor: str | None) -> list[Any]:
        try:
            pinned = self.guard.pin(url)
        except UrlRefused as e:
            raise FeedFailed(f"refused: {e.reason}") from e
        params = {"since": cursor} if cursor else None
        headers = {"Accept": "application/json", **pinned.headers}
        try:
            with (
                outbound_client(self.timeout) as client,
                client.stream(
                    "GET", pinned.url, params=params, headers=headers,
                    extensions=pinned.extensions,
                ) as response,
            ):  # fmt: skip
                status = response.status_code
                if 300 <= status < 400:
                    raise FeedFailed(f"redirect (HTTP {status}), not followed")
                if status != 200:
                    raise FeedFailed(f"HTTP {status}")
                body = self._body(response)
        except httpx.TimeoutException as e:
            raise FeedFailed(f"timeout after {self.timeout:g} s") from e
        except httpx.HTTPError as e:
            raise FeedFailed(f"connection: {type(e).__name__}") from e
        try:
            answer = json.loads(body)
        except ValueError as e:
            raise FeedFailed("the answer is not JSON") from e
        if not isinstance(answer, list):
            raise FeedFailed("the answer is not a JSON list of posts")
        return answer

    def _body(self, response: httpx.Response) -> bytes:
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise FeedFailed(f"the answer is larger than {self.max_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)


def poll_due(
    sessions: Callable[[], Session],
    reader: FeedReader,
    now: Callable[[], datetime],
    *,
    max_posts: int = 500,
) -> PollReport:
    """Poll every feed whose time has come, one at a time (see the module docstring)."""
    report = PollReport()
    while (claimed := _claim(sessions, now())) is not None:
        feed_id, url, cursor = claimed
        report.feeds += 1
        try:
            posts = reader.read(url, cursor)
        except FeedFailed as e:
            report.failed += 1
            _record(sessions, feed_id, now(), error=e.reason)
            continue
        _store(sessions, feed_id, posts[:max_posts], now(), report)
    return report


def _claim(sessions: Callable[[], Session], at: datetime) -> tuple[int, str, str | None] | None:
    with sessions() as session:
        query = (
            select(SocialFeed)
            .where(
                SocialFeed.enabled.is_(True),
                or_(SocialFeed.next_poll_at.is_(None), SocialFeed.next_poll_at <= at),
            )
            .order_by(SocialFeed.next_poll_at, SocialFeed.id)
            .limit(1)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        feed = session.scalar(query)
        if feed is None:
            return None
        feed.next_poll_at = at + timedelta(minutes=feed.interval_minutes)
        claimed = (feed.id, feed.url, feed.cursor)
        session.commit()
        return claimed


def _store(
    sessions: Callable[[], Session],
    feed_id: int,
    posts: list[Any],
    at: datetime,
    report: PollReport,
) -> None:
    made, skipped, newest = 0, 0, None
    with sessions() as session:
        for item in posts:
            try:
                post = parse_post(item)
            except KefuError:
                skipped += 1
                continue
            _, new = receive_post(session, post, source=f"feed:{feed_id}", received_at=at)
            made += int(new)
            if post.posted_at is not None:
                stamp = post.posted_at.isoformat()
                newest = stamp if newest is None or post.posted_at > _parsed(newest) else newest
        feed = session.get(SocialFeed, feed_id)
        if feed is not None:
            feed.last_polled_at, feed.last_count, feed.last_error = at, made, None
            if skipped:
                feed.last_error = f"{skipped} posts were not valid and were skipped"
            if newest is not None and (
                feed.cursor is None or _parsed(newest) > _parsed(feed.cursor)
            ):
                feed.cursor = newest
        session.commit()
    report.mentions += made
    report.skipped += skipped


def _parsed(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def _record(sessions: Callable[[], Session], feed_id: int, at: datetime, *, error: str) -> None:
    log.warning("social feed %d could not be read: %s", feed_id, error)
    with sessions() as session:
        feed = session.get(SocialFeed, feed_id)
        if feed is not None:
            feed.last_polled_at, feed.last_count, feed.last_error = at, 0, error[:2000]
            session.commit()
