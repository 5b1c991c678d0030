"""The start-up check of ``kefu serve`` and ``kefu worker``: can this process reach its database
and Redis as configured? A certificate that does not verify, a server that refuses TLS or a
password that is refused will not heal by waiting, so the process refuses to start and says which
link failed and why; an unreachable server (an outage) is only warned about, since kefu rides out
outages (docs/deployment.md, "TLS inside the deployment").

Both links are opened exactly as the rest of kefu opens them (db/engine.make_engine and
ratelimit.connect_redis from the URL alone), so a TLS parameter the URL carries is honoured
here as everywhere."""

from __future__ import annotations

import logging

from sqlalchemy import text

from kefu.settings import Settings

log = logging.getLogger(__name__)

# Words of a refusal that is the configuration's, not an outage's (psycopg, redis-py, OpenSSL).
_CONFIGURATION = (
    "certificate verify failed",
    "certificate",
    "ssl",
    "tls",
    "password authentication failed",
    "no pg_hba.conf entry",
    "no encryption",
    "wrongpass",
    "noperm",
    "noauth",
    "invalid username-password",
    "authentication",
)


class BackendRefused(RuntimeError):
    """A link kefu cannot use as configured; the message names it and the cause."""


def _refused(error: BaseException) -> bool:
    told = " ".join(str(e) for e in _chain(error)).lower()
    return any(word in told for word in _CONFIGURATION)


def _chain(error: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in found:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def check_database(url: str) -> None:
    from kefu.db.engine import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as e:
        if _refused(e):
            cause = _first_line(getattr(e, "orig", None) or e)
            raise BackendRefused(f"the database refused the connection: {cause}") from e
        log.warning("the database is not reachable yet: %s", _first_line(e))
    finally:
        engine.dispose()


def check_redis(url: str) -> None:
    from kefu.services.infra.ratelimit import connect_redis

    client = connect_redis(url)
    try:
        client.ping()
    except Exception as e:
        if _refused(e):
            raise BackendRefused(f"Redis refused the connection: {_first_line(e)}") from e
        log.warning("Redis is not reachable yet: %s", _first_line(e))
    finally:
        client.close()


def check_backends(settings: Settings) -> None:
    """Raise ``BackendRefused`` when the database or Redis refuses this process's TLS or
    credentials (SQLite has nothing to check)."""
    if not settings.is_sqlite:
        check_database(settings.resolved_database_url)
    if settings.redis_url:
        check_redis(settings.redis_url)
