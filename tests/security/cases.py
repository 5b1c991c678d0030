"""Cases made of hostile text through kefu's real entry points: each fixture of tests/hostile.py
as a customer's name, a mail's subject and body (the intake API), a tag, an agent's reply, and
the case assigned to an agent whose name is a fixture too."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from sqlalchemy.orm import Session

from tests import factories
from tests.hostile import FIXTURES, Hostile

NAME_LIMIT, SUBJECT_LIMIT, TAG_LIMIT, STAFF_NAME_LIMIT = 200, 300, 50, 100


@dataclass(frozen=True)
class Case:
    fixture: Hostile
    ticket_id: int
    customer_id: int
    message_id: int
    reply_id: int
    agent_id: int


def fits(fixture: Hostile, limit: int) -> bool:
    return len(fixture.text) <= limit and bool(fixture.text.strip())


def open_cases(db: Session, integration: httpx.Client, api: httpx.Client) -> dict[str, Case]:
    """One case per fixture kefu takes (NUL is refused at the edge: tests/security/test_api_json.py),
    the fixture in every field that is long enough for it, an agent's reply repeating it."""
    made: dict[str, Case] = {}
    for n, fixture in enumerate(f for f in FIXTURES if not f.has_nul):
        staff_name = fixture.text if fits(fixture, STAFF_NAME_LIMIT) else "坐席"
        agent = factories.make_user(db, name=staff_name.strip())
        sender: dict[str, str] = {"external_id": f"hostile{n}@example.cn",
                                  "email": f"hostile{n}@example.cn"}  # fmt: skip
        if fits(fixture, NAME_LIMIT):
            sender["name"] = fixture.text
        body: dict[str, object] = {
            "channel": "email",
            "external_id": f"hostile-{fixture.name}",
            "sender": sender,
            "text": fixture.text,
        }
        if fits(fixture, SUBJECT_LIMIT):
            body["subject"] = fixture.text
        answer = integration.post("/api/v1/inbound", json=body)
        assert answer.status_code == 201, (fixture.name, answer.text)
        accepted = answer.json()
        ticket_id = accepted["ticket_id"]
        if fits(fixture, TAG_LIMIT):
            tagged = api.patch(f"/api/v1/tickets/{ticket_id}", json={"tags": [fixture.text]})
            assert tagged.status_code == 200, (fixture.name, tagged.text)
        assigned = api.post(f"/api/v1/tickets/{ticket_id}/assign", json={"assignee_id": agent.id})
        assert assigned.status_code == 200, (fixture.name, assigned.text)
        reply = api.post(
            f"/api/v1/tickets/{ticket_id}/messages",
            json={"text": fixture.text, "norms_override_reason": "安全测试"},
        )
        assert reply.status_code == 201, (fixture.name, reply.text)
        made[fixture.name] = Case(
            fixture, ticket_id, accepted["customer_id"], accepted["message_id"],
            reply.json()["id"], agent.id,
        )  # fmt: skip
    return made
