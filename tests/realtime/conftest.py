"""Multi-process tests run once, in the PostgreSQL pass of the suite.

Several kefu processes share one database and one Redis only on PostgreSQL (the embedded
SQLite database is one process's), and starting real servers is slow: the files listed here are
collected only when the suite runs on PostgreSQL (``KEFU_TEST_DATABASE_URL``, see
tests/conftest.py), so ``make test`` runs them once without skipping anything.
"""

from __future__ import annotations

import os
from pathlib import Path

MULTI_PROCESS = frozenset({"test_two_processes.py"})


def on_postgres() -> bool:
    return os.environ.get("KEFU_TEST_DATABASE_URL", "").startswith("postgresql")


def pytest_ignore_collect(collection_path: Path) -> bool | None:
    if collection_path.name in MULTI_PROCESS and not on_postgres():
        return True
    return None
