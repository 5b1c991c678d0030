"""Schemathesis generates requests from /openapi.json: no input may cause a 500.

Bounded: a fixed number of examples per operation, so the suite stays fast.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
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


@pytest.fixture
def caller(client_for, admin) -> Iterator[tuple[requests.Session, str]]:
    """One admin token and one HTTP session for all of an operation's examples (a token and a
    connection per example made the fuzzing several times slower than the requests)."""
    token = client_for(admin).headers["Authorization"]
    with requests.Session() as session:
        yield session, token


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_error_on_generated_input(case, server, caller, some_rows):
    session, token = caller
    response = case.call(base_url=server, session=session, headers={"Authorization": token})
    assert response.status_code < 500, (case.method, case.formatted_path, response.text[:500])
    if response.status_code >= 400:
        error = response.json()["error"]
        assert set(error) == {"code", "message", "details"}
        assert error["code"] and error["message"]
