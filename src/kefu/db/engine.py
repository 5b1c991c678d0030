"""Engines for the two supported databases: embedded SQLite (WAL) and PostgreSQL.

On PostgreSQL a request's writes wait for a row lock at most ``lock_timeout`` (``writer_bind``
with ``lock_timeout=``): the transaction then fails with SQLSTATE 55P03, which the API answers
409 ``ticket_busy`` (db/errors.py). A waiter that gives up frees its connection and its worker
thread instead of holding them behind a slow or stuck lock holder. Intake and the sweeps do
not take that option: they wait their turn, since failing them would lose or delay work.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

CONNECT_TIMEOUT_SECONDS = 5


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine; for SQLite, create its directory and set WAL and sane pragmas."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, echo=echo)
    engine = create_engine(
        url,
        echo=echo,
        pool_size=10,
        max_overflow=20,
        pool_timeout=10,
        pool_pre_ping=True,
        # An unreachable server fails a connection attempt in seconds instead of minutes.
        connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS},
    )

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        lock_timeout = connection.get_execution_options().get("lock_timeout")
        if lock_timeout:  # SET LOCAL: for this transaction only, the pooled connection keeps none
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = {int(lock_timeout * 1000)}")

    return engine


def _sqlite_engine(url: str, *, echo: bool) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        echo=echo,
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=20,
        max_overflow=20,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers take the write lock at BEGIN: a deferred transaction that reads and then
        # writes fails at once (SQLITE_BUSY_SNAPSHOT) when another writer got there first.
        immediate = connection.get_execution_options().get("sqlite_immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def database_slots(engine: Engine) -> int:
    """How many requests may hold a connection at once: what the pool can hand out."""
    pool = engine.pool
    size = getattr(pool, "size", lambda: 5)()
    overflow = max(getattr(pool, "_max_overflow", 0), 0)
    return max(1, size + overflow)


def make_session_factory(
    engine: Engine, *, info: dict[str, Any] | None = None
) -> sessionmaker[Session]:
    """Sessions on ``engine``; ``info`` is copied into each session's ``info`` (e.g. the event bus)."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True, info=info or {})


def writer_bind(engine: Engine, *, lock_timeout: float | None = None) -> Engine:
    """The engine as writers should use it: takes SQLite's write lock at BEGIN; on PostgreSQL,
    with ``lock_timeout`` (seconds), gives up waiting for a row lock after that long."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(sqlite_immediate=True)
    if lock_timeout:
        return engine.execution_options(lock_timeout=lock_timeout)
    return engine
