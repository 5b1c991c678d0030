"""The start-up check of ``kefu serve`` and ``kefu worker``: can this process reach its database
and Redis as configured? A certificate that does not verify, a server that refuses TLS or a
password that is refused will not heal by waiting, so the process refuses to start and says which
link failed and why; an unreachable server (an outage) is only warned about, since kefu rides out
outages (docs/deployment.md, "TLS inside the deployment").

Both links are opened exactly as the rest of kefu opens them (db/engine.make_engine and
ratelimit.connect_redis from the URL alone), so a TLS parameter the URL carries is honoured
here as everywhere.

How a refusal is told from an outage: redis-py raises classes of its own for a refused password
or command (``AuthenticationError``, ``NoPermissionError``) and keeps the ``ssl`` error of a
failed handshake in the exception's chain. libpq reports a failed connection as text only
(psycopg's ``sqlstate`` is None then), so the database's refusals are told by libpq's own
phrases, an outage's phrases checked first: "SSL SYSCALL error" is a connection cut mid-way, not
a TLS setting."""

from __future__ import annotations

import logging
import ssl

from sqlalchemy import text

from kefu.settings import Settings

log = logging.getLogger(__name__)

# libpq's words for a server that is down, starting, full or cut off: kefu waits for it.
_POSTGRES_OUTAGE = (
    "connection refused",
    "timeout expired",
    "could not translate host name",
    "no route to host",
    "network is unreachable",
    "server closed the connection unexpectedly",
    "ssl syscall error",
    "connection reset",
    "the database system is starting up",
    "the database system is shutting down",
    "the database system is in recovery mode",
    "the database system is not yet accepting connections",
    "too many clients already",
    "remaining connection slots are reserved",
)
# libpq's words for what this process was told to do and the server will not take.
_POSTGRES_REFUSAL = (
    "certificate verify failed",
    "server does not support ssl",
    "server certificate for",  # "... does not match host name"
    "root certificate file",
    "private key file",
    "certificate present, but not private key",
    "tlsv1 alert",
    "sslv3 alert",
    "wrong version number",
    "password authentication failed",
    "no password supplied",
    "no pg_hba.conf entry",
    "pg_hba.conf rejects connection",
    "does not exist",  # role "…" / database "…"
    "permission denied for database",
)
# The ssl errors of a handshake that failed on a setting; an EOF or a reset is an outage.
_TLS_SETTINGS = (ssl.SSLCertVerificationError,)


class BackendRefused(RuntimeError):
    """A link kefu cannot use as configured; the message names it and the cause."""


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


def database_refused(error: BaseException) -> bool:
    """Whether a failed connection to PostgreSQL is a refusal of this process's configuration
    (not an outage), from libpq's message."""
    told = " ".join(str(e) for e in _chain(error)).lower()
    if any(words in told for words in _POSTGRES_OUTAGE):
        return False
    return any(words in told for words in _POSTGRES_REFUSAL)


def redis_refused(error: BaseException) -> bool:
    """Whether a failed call to Redis is a refusal of this process's configuration: a refused
    password or command, or a TLS handshake that failed on a certificate or a protocol."""
    from redis.exceptions import AuthenticationError, AuthorizationError, NoPermissionError

    refusals = (AuthenticationError, AuthorizationError, NoPermissionError)
    for cause in _chain(error):
        if isinstance(cause, refusals + _TLS_SETTINGS):
            return True
        if type(cause) is ssl.SSLError:  # a handshake refused: no common protocol, unknown CA
            return True
    return False


def check_database(url: str) -> None:
    from kefu.db.engine import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as e:
        if database_refused(e):
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
        if redis_refused(e):
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
