"""Where relays run: inside `kefu serve` (unless turned off) and `kefu worker`; and the settings
that keep a lease longer than a send."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from kefu.app import create_app
from kefu.settings import Settings


@pytest.mark.parametrize("enabled", [True, False])
def test_the_server_runs_a_relay_unless_told_not_to(settings, engine, enabled):
    app = create_app(settings.model_copy(update={"outbox_relay_in_server": enabled}), engine=engine)
    with TestClient(app):
        assert app.state.outbox.running is enabled
    assert not app.state.outbox.running  # stopped with the server


def test_a_lease_shorter_than_a_callback_may_take_is_refused():
    with pytest.raises(ValidationError, match="LEASE"):
        Settings(outbox_lease_seconds=5, callback_timeout_seconds=10)
    with pytest.raises(ValidationError, match="RETRY_MAX"):
        Settings(outbox_retry_first_seconds=10, outbox_retry_max_seconds=5)
