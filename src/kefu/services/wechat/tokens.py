"""The access token of a WeChat account, one for every kefu process.

WeChat gives an account one valid access token at a time (a new one ends the old after a few
minutes), and caps how often it may be asked for: so the token lives in one row per account
(``wechat_access_tokens``), and it is refreshed once for all processes:

1. a process reads the row; a token good for more than ``REFRESH_BEFORE`` is used as it is;
2. otherwise it takes the row's lock (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the
   writer's session begins ``IMMEDIATE``, taking the database's write lock), reads the row again
   and asks WeChat only if it is still stale — the processes that waited for the lock find the
   token their neighbour fetched;
3. a token WeChat refused (errcode 40001, 42001, 40014: ``stale``) counts as stale even before
   its expiry: the first refusal refreshes, the others find the new one.

The token is sealed at rest like the account's other secrets.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kefu.db.models import WechatAccessToken
from kefu.services.infra.sealed_columns import purpose_of
from kefu.services.infra.secret_box import SecretUnreadable, seal, unseal

REFRESH_BEFORE = timedelta(minutes=5)
_PURPOSE = purpose_of(WechatAccessToken.token)

Fetch = Callable[[], tuple[str, int]]  # WeChat's answer: the token and its lifetime in seconds


class TokenStore:
    """``sessions`` are writers' sessions (db/engine.py ``writer_bind``); ``reads`` (default:
    the same) serve the lookup that finds a good token, the common case."""

    def __init__(
        self,
        sessions: Callable[[], Session],
        secret_key: str,
        clock: Callable[[], datetime],
        *,
        reads: Callable[[], Session] | None = None,
    ) -> None:
        self.sessions = sessions
        self.reads = reads or sessions
        self.secret_key = secret_key
        self.clock = clock

    def token(self, account_id: int, fetch: Fetch, *, stale: str | None = None) -> str:
        """A usable token of the account; ``stale``: one WeChat just refused."""
        with self.reads() as session:
            found = self._usable(session.get(WechatAccessToken, account_id), stale)
        if found is not None:
            return found
        try:
            return self._refresh(account_id, fetch, stale)
        except IntegrityError:  # two processes made the account's first row at once
            return self._refresh(account_id, fetch, stale)

    def _refresh(self, account_id: int, fetch: Fetch, stale: str | None) -> str:
        with self.sessions() as session:
            row = session.scalar(
                select(WechatAccessToken)
                .where(WechatAccessToken.account_id == account_id)
                .with_for_update()
            )
            if row is None:
                row = WechatAccessToken(account_id=account_id, token="", refreshes=0)  # nosec: empty or a flag
                session.add(row)
                session.flush()
            found = self._usable(row, stale)
            if found is not None:
                session.commit()
                return found
            token, lifetime = fetch()  # under the lock: the others wait for this answer
            now = self.clock()
            row.token = seal(self.secret_key, token, purpose=_PURPOSE)
            row.expires_at = now + timedelta(seconds=max(lifetime, 0))
            row.refreshed_at = now
            row.refreshes = (row.refreshes or 0) + 1
            session.commit()
            return token

    def _usable(self, row: WechatAccessToken | None, stale: str | None) -> str | None:
        if row is None or not row.token or row.expires_at is None:
            return None
        if row.expires_at - REFRESH_BEFORE <= self.clock():
            return None
        try:
            token = unseal(self.secret_key, row.token, purpose=_PURPOSE)
        except SecretUnreadable:
            return None
        return None if token == stale else token
