"""A transaction scope for code outside requests (CLI, jobs, demo data)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from kefu.db.engine import make_session_factory, writer_bind


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    session = make_session_factory(writer_bind(engine))()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
