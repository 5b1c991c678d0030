"""Alerts queue mail to supervisors: the outbox relays are held while these tests write, so a
relay sending one never races with a test's writes on SQLite."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _relays_held(held_outbox: None) -> None:
    return None
