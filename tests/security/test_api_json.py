"""Sink: the API's JSON. Every hostile fixture comes back as the data it is — the same text,
in an answer that says it is JSON and may not be sniffed into anything else; the one HTML
rendering the API makes of a message (``body_html``) is inert; what kefu cannot take (NUL, a
text longer than its field) is a 4xx JSON error and nothing is stored."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.db.models import Customer, Ticket
from tests.hostile import BY_NAME, NAMES, html_problems
from tests.security.cases import NAME_LIMIT, SUBJECT_LIMIT, TAG_LIMIT, fits, open_cases


def _json(answer: httpx.Response) -> dict:
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    data: dict = answer.json()
    return data


def test_every_fixture_round_trips_as_data(
    db: Session, integration: httpx.Client, api: httpx.Client
) -> None:
    cases = open_cases(db, integration, api)
    assert set(cases) == set(NAMES) - {"nul"}
    for name, case in cases.items():
        text = case.fixture.text
        ticket = _json(api.get(f"/api/v1/tickets/{case.ticket_id}"))
        messages = {m["id"]: m for m in ticket["messages"]}
        assert messages[case.message_id]["body_text"] == text, name
        assert messages[case.reply_id]["body_text"] == text, name
        for message in messages.values():
            assert not html_problems(message.get("body_html") or ""), (name, message["body_html"])
        if fits(case.fixture, SUBJECT_LIMIT):
            assert ticket["subject"] == text, name
        if fits(case.fixture, TAG_LIMIT):
            assert ticket["tags"] == [text.strip()], name
        customer = _json(api.get(f"/api/v1/customers/{case.customer_id}"))
        if fits(case.fixture, NAME_LIMIT):
            assert customer["name"] == text, name
        agent = _json(api.get(f"/api/v1/users/{case.agent_id}"))
        assert agent["name"] in (text.strip(), "坐席"), name


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("text", BY_NAME["nul"].text),
        ("subject", BY_NAME["nul"].text),
        ("name", BY_NAME["nul"].text),
        ("subject", BY_NAME["very_long"].text),
        ("name", BY_NAME["very_long"].text),
        ("text", BY_NAME["very_long"].text * 10),
    ],
    ids=["nul-text", "nul-subject", "nul-name", "long-subject", "long-name", "long-text"],
)
def test_what_kefu_cannot_take_is_a_json_4xx_and_stores_nothing(
    db: Session, integration: httpx.Client, field: str, value: str
) -> None:
    body: dict = {"channel": "email", "external_id": "refused-1", "text": "你好",
                  "sender": {"external_id": "r@example.cn", "email": "r@example.cn"}}  # fmt: skip
    if field == "name":
        body["sender"]["name"] = value
    else:
        body[field] = value
    answer = integration.post("/api/v1/inbound", json=body)
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    error = answer.json()["error"]
    assert error["code"] and error["message"]
    assert db.scalar(select(func.count()).select_from(Ticket)) == 0
    assert db.scalar(select(func.count()).select_from(Customer)) == 0
