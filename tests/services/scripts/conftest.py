from __future__ import annotations

import pytest

from kefu.services.scripts.starter import ensure_starter_library


@pytest.fixture
def starter(db):
    """The starter library, loaded as a fresh install loads it."""
    report = ensure_starter_library(db)
    db.commit()
    return report
