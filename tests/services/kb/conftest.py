from __future__ import annotations

import pytest

from tests.kb_data import publish_shelf


@pytest.fixture
def shelf(db):
    """A few published articles on other topics: BM25 needs more than one document to tell a
    topic's words from words every article has."""
    return publish_shelf(db)
