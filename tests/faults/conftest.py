"""The fault tests' private servers (tests/faults/servers.py): one migrated PostgreSQL cluster
made per session and copied for each test module, a Redis per module, and kefu's processes.
Every test here is marked ``faults``: it runs in the PostgreSQL pass only (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from kefu.db import migrate
from kefu.db.engine import make_engine, make_session_factory
from tests.callback_receiver import CallbackReceiver
from tests.faults.servers import Postgres, Redis


@pytest.fixture(scope="session")
def template_cluster() -> Iterator[Postgres]:
    cluster = Postgres.create()
    try:
        migrate.upgrade(cluster.url)
        cluster.stop()
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(scope="module")
def postgres(template_cluster: Postgres) -> Iterator[Postgres]:
    """This module's own PostgreSQL (a copy of the migrated template), running."""
    cluster = template_cluster.copy()
    cluster.start()
    yield cluster
    cluster.destroy()


@pytest.fixture(scope="module")
def redis_server() -> Iterator[Redis]:
    server = Redis.create()
    yield server
    server.destroy()


@pytest.fixture(scope="module")
def private_engine(postgres: Postgres) -> Iterator[Engine]:
    engine = make_engine(postgres.url)
    yield engine
    engine.dispose()


@pytest.fixture
def fault_db(private_engine: Engine) -> Iterator[Session]:
    """A session on the module's private database, for arranging and counting rows."""
    session = make_session_factory(private_engine)()
    yield session
    session.close()


@pytest.fixture(scope="module")
def fault_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The module's data folder (attachments) and the kefu processes' logs."""
    return tmp_path_factory.mktemp("kefu-faults")


@pytest.fixture(scope="module")
def receiver() -> Iterator[CallbackReceiver]:
    """An integration's callback endpoint: where the worker delivers api-channel replies."""
    with CallbackReceiver() as callbacks:
        yield callbacks
