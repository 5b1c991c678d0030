"""The shared access token: used while good, refreshed a few minutes before it expires, and a
token WeChat refused refreshed once (its refusal by a second sender finds the new one)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import sessionmaker

from kefu.db.engine import writer_bind
from kefu.services.wechat.tokens import REFRESH_BEFORE, TokenStore
from tests.wechat_peer import make_account


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_a_token_is_refreshed_before_it_expires_and_once_when_refused(db, engine, settings):
    account = make_account(db, settings.secret_key)
    clock = Clock()
    store = TokenStore(sessionmaker(bind=writer_bind(engine)), settings.secret_key, clock)
    issued: list[str] = []

    def fetch() -> tuple[str, int]:
        issued.append(f"T{len(issued) + 1}")
        return issued[-1], 7200

    assert store.token(account.id, fetch) == "T1"
    clock.now += timedelta(seconds=7200) - REFRESH_BEFORE - timedelta(seconds=1)
    assert store.token(account.id, fetch) == "T1"  # still good for more than the margin
    clock.now += timedelta(seconds=2)
    assert store.token(account.id, fetch) == "T2"  # within the margin: refreshed ahead

    assert store.token(account.id, fetch, stale="T2") == "T3"  # WeChat refused T2
    assert store.token(account.id, fetch, stale="T2") == "T3"  # a second refusal of T2: no refresh
    assert issued == ["T1", "T2", "T3"]
