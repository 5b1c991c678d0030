"""Feeds polled from a real HTTP server on loopback, through the outbound URL guard."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from kefu.db.models import SocialFeed, SocialMention
from kefu.domain.outbound_urls import AllowList
from kefu.errors import KefuError
from kefu.jobs.registry import JobContext, periodic_jobs
from kefu.services.actors import SYSTEM
from kefu.services.infra.outbound_urls import OutboundGuard
from kefu.services.social import feeds
from kefu.services.social.feeds import FeedReader, poll_due
from kefu.settings import Settings
from tests.services.social.helpers import NEGATIVE_LOGISTICS, NOW, post

# Plain http to any address: these tests are about the address checks, not the scheme
# (tests/services/infra/test_outbound_urls.py).
PLAIN_HTTP = AllowList.parse("0.0.0.0/0, ::/0")

LOOPBACK = OutboundGuard(AllowList.parse("127.0.0.1"), plain_http=PLAIN_HTTP)


class FeedServer:
    """Answers GET with the scripted (status, body, headers), one per request (then the last)."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, bytes, dict[str, str]]] = []
        self.paths: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the standard library's name
                server.paths.append(self.path)
                status, body, headers = (
                    server.answers.pop(0) if len(server.answers) > 1 else server.answers[0]
                )
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http.server_address[1]}/feed.json"

    def answer(self, status: int, body: Any, **headers: str) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        self.answers.append((status, raw, headers))

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer()
    yield server
    server.close()


def _feed(db: Session, url: str, *, guard: OutboundGuard = LOOPBACK) -> SocialFeed:
    feed = feeds.do_save_feed(
        db, SYSTEM, None, name="品牌监测", url=url, interval_minutes=15, enabled=True,
        guard=guard, now=NOW,
    )  # fmt: skip
    db.commit()
    return feed


def _poll(engine: Engine, at: Any = NOW) -> feeds.PollReport:
    sessions = sessionmaker(engine, expire_on_commit=False)
    return poll_due(sessions, FeedReader(LOOPBACK, timeout=5), lambda: at)


def test_a_feed_is_polled_once_per_interval_and_its_posts_become_mentions(
    db: Session, engine: Engine, feed_server: FeedServer
) -> None:
    posts = [
        post(NEGATIVE_LOGISTICS[0], at=NOW - timedelta(minutes=20), platform="douyin"),
        post("包装很用心，好评", at=NOW - timedelta(minutes=5), platform="xiaohongshu"),
        {"platform": "weibo", "id": "broken"},  # not a post: skipped, the rest kept
    ]
    feed_server.answer(200, posts)
    feed = _feed(db, feed_server.url)

    report = _poll(engine)
    assert report.counts() == {"feeds": 1, "mentions": 2, "skipped": 1, "failed": 0}
    assert _poll(engine).feeds == 0  # not due again before its interval
    again = _poll(engine, NOW + timedelta(minutes=15))
    assert (again.feeds, again.mentions) == (1, 0)  # the same posts: nothing new

    sources = db.scalars(select(SocialMention.source).order_by(SocialMention.id)).all()
    assert sources == [f"feed:{feed.id}", f"feed:{feed.id}"]
    db.refresh(feed)
    assert feed.cursor == posts[1]["posted_at"] and "1 posts" in (feed.last_error or "")
    assert feed_server.paths[0] == "/feed.json"
    assert feed_server.paths[1].endswith(
        "since=" + posts[1]["posted_at"].replace("+", "%2B").replace(":", "%3A")
    )


def test_a_redirect_is_not_followed_and_the_reason_is_kept(
    db: Session, engine: Engine, feed_server: FeedServer
) -> None:
    feed_server.answer(302, b"", Location="http://169.254.169.254/latest/meta-data")
    feed = _feed(db, feed_server.url)
    report = _poll(engine)
    assert (report.failed, report.mentions) == (1, 0)
    db.refresh(feed)
    assert "redirect" in (feed.last_error or "")
    assert len(feed_server.paths) == 1


def test_an_answer_that_is_not_a_list_is_refused(
    db: Session, engine: Engine, feed_server: FeedServer
) -> None:
    feed_server.answer(200, {"posts": []})
    feed = _feed(db, feed_server.url)
    assert _poll(engine).failed == 1
    db.refresh(feed)
    assert "list" in (feed.last_error or "")


def test_a_feed_on_a_private_address_is_refused_when_saved(db: Session) -> None:
    with pytest.raises(KefuError) as refused:
        _feed(db, "http://10.0.0.8/feed.json", guard=OutboundGuard(plain_http=PLAIN_HTTP))
    assert refused.value.code == "outbound_url_refused"
    with pytest.raises(KefuError):
        _feed(db, "http://127.0.0.1:9/feed.json", guard=OutboundGuard(plain_http=PLAIN_HTTP))


def test_the_guard_is_asked_again_at_every_poll(
    db: Session, engine: Engine, feed_server: FeedServer
) -> None:
    feed_server.answer(200, [])
    feed = _feed(db, feed_server.url)  # allowed when it was saved
    sessions = sessionmaker(engine, expire_on_commit=False)
    report = poll_due(
        sessions, FeedReader(OutboundGuard(plain_http=PLAIN_HTTP), timeout=5), lambda: NOW
    )
    assert report.failed == 1 and feed_server.paths == []
    db.refresh(feed)
    assert (feed.last_error or "").startswith("refused")


def test_the_social_feeds_job_polls_the_feeds_that_are_due(
    db: Session, engine: Engine, settings: Settings, feed_server: FeedServer
) -> None:
    feed_server.answer(200, [post(NEGATIVE_LOGISTICS[2], at=NOW - timedelta(minutes=1))])
    _feed(db, feed_server.url)
    [job] = [j for j in periodic_jobs(settings) if j.name == "social_feeds"]
    context = JobContext(sessions=sessionmaker(engine), now=lambda: NOW, settings=settings)
    assert job.run(context) == {"feeds": 1, "mentions": 1, "skipped": 0, "failed": 0}
    assert job.run(context)["feeds"] == 0
