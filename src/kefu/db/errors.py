"""What a database error means for the caller: the database is out of reach, or a row is busy.

SQLAlchemy wraps every driver error in ``OperationalError`` and friends, and that one class
covers both "the server is not there" (retry later: 503) and "a row lock was not granted in
time" (someone else is changing it: 409), as well as real faults. These predicates tell them
apart, on both engines, so the API and intake answer each one the same way.
"""

from __future__ import annotations

from sqlalchemy import exc

# PostgreSQL SQLSTATEs: class 08 is "connection exception"; 57P01–57P03 are the server shutting
# down, crashed or still starting; 53300 is too many connections.
_PG_UNREACHABLE_PREFIXES = ("08",)
_PG_UNREACHABLE_STATES = frozenset({"57P01", "57P02", "57P03", "53300"})
_PG_LOCK_NOT_AVAILABLE = "55P03"  # lock_timeout expired (or NOWAIT)

# SQLite: the file cannot be opened, read or written, or is not a database (any more).
_SQLITE_UNREACHABLE = ("SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_NOTADB", "SQLITE_READONLY")


def database_unreachable(error: BaseException) -> bool:
    """Whether ``error`` means the database cannot be reached now (worth retrying later)."""
    if isinstance(error, exc.TimeoutError | exc.DisconnectionError):
        return True  # no pool connection in time; a connection the server dropped
    if not isinstance(error, exc.DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    original = error.orig
    sqlite_name = getattr(original, "sqlite_errorname", None)
    if sqlite_name is not None:
        return str(sqlite_name).startswith(_SQLITE_UNREACHABLE)
    if not isinstance(error, exc.OperationalError | exc.InterfaceError):
        return False
    state = getattr(original, "sqlstate", None)
    if state is None:  # psycopg: refused, reset or timed out before the server said anything
        return True
    return str(state).startswith(_PG_UNREACHABLE_PREFIXES) or state in _PG_UNREACHABLE_STATES


def lock_not_granted(error: BaseException) -> bool:
    """Whether ``error`` is PostgreSQL giving up on a row lock after ``lock_timeout``."""
    return (
        isinstance(error, exc.OperationalError)
        and getattr(error.orig, "sqlstate", None) == _PG_LOCK_NOT_AVAILABLE
    )
