"""Each HTTP answer carries X-Request-ID, and the log records made while serving it carry the
same id (api/request_ids.py, logs.py)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from kefu.logs import current_request_id, make_handler


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """What kefu.security writes, in JSON lines, while the test runs."""
    handler = make_handler("json")
    stream = io.StringIO()
    handler.setStream(stream)
    logger = logging.getLogger("kefu.security")
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


def test_a_refusal_is_logged_with_the_id_its_answer_carries(anon, json_lines):
    first = anon.get("/api/v1/users")
    second = anon.get("/api/v1/users")
    assert first.status_code == second.status_code == 401
    ids = [first.headers["x-request-id"], second.headers["x-request-id"]]
    assert len(set(ids)) == 2 and all(len(i) == 16 for i in ids)
    entries = [json.loads(line) for line in json_lines.getvalue().splitlines()]
    assert [(e["event"], e["request_id"]) for e in entries] == [
        ("access_refused", ids[0]),
        ("access_refused", ids[1]),
    ]
    assert current_request_id.get() is None  # nothing outside a request has one


def test_an_id_the_client_sends_is_not_taken(anon, json_lines):
    answer = anon.get("/api/v1/users", headers={"X-Request-ID": "forged-by-the-client"})
    assert answer.headers["x-request-id"] != "forged-by-the-client"
    (entry,) = [json.loads(line) for line in json_lines.getvalue().splitlines()]
    assert entry["request_id"] == answer.headers["x-request-id"]


def test_every_answer_has_an_id(anon):
    assert len(anon.get("/healthz").headers["x-request-id"]) == 16
