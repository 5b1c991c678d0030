"""The private Dovecot of the mail tests (tests/mailservers/dovecot.py), started once per
session. The tests that use it are marked ``mail_servers``: they run in the SQLite pass only
(tests/conftest.py deselects them on PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.mailservers.dovecot import Dovecot


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    server = Dovecot.start()
    yield server
    server.stop()
