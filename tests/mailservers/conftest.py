"""The mail tests against real servers (tests/mailservers/dovecot.py, postfix.py), started once
per session on loopback. They test the mail path, not the database engine, so they run in the
SQLite pass only: with a PostgreSQL KEFU_TEST_DATABASE_URL they are deselected here (reported as
deselected, never skipped), as tests/browser/conftest.py does."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mailservers.dovecot import Dovecot

HERE = Path(__file__).resolve().parent


def on_postgresql() -> bool:
    url = os.environ.get("KEFU_TEST_DATABASE_URL", "")
    return bool(url) and not url.startswith("sqlite")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not on_postgresql():
        return
    mine = [item for item in items if HERE in Path(item.path).parents]
    if mine:
        config.hook.pytest_deselected(items=mine)
        items[:] = [item for item in items if item not in mine]


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    server = Dovecot.start()
    yield server
    server.stop()
