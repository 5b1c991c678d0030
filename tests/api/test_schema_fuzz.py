"""Schemathesis generates requests from /openapi.json: no input may cause a 500.

Bounded: a fixed number of examples per operation, so the suite stays fast.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from kefu.app import create_app
from kefu.settings import Settings
from tests import factories

EXAMPLES_PER_OPERATION = 25


# The schema is the app's own; requests go over HTTP to the live test server.
schema = schemathesis.openapi.from_dict(
    create_app(Settings(env="test", data_dir="/nonexistent")).openapi()
)


@pytest.fixture
def some_rows(db, admin):
    """Rows for generated ids to land on."""
    group = factories.make_group(db, "售后组")
    customer = factories.make_customer(db, identities=[("wechat", "o-fuzz")])
    for _ in range(3):
        factories.make_ticket(db, customer=customer, group=group)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_error_on_generated_input(case, server, client_for, admin, some_rows):
    token = client_for(admin).headers["Authorization"]
    response = case.call(base_url=server, headers={"Authorization": token})
    assert response.status_code < 500, (case.method, case.formatted_path, response.text[:500])
    if response.status_code >= 400:
        error = response.json()["error"]
        assert set(error) == {"code", "message", "details"}
        assert error["code"] and error["message"]
