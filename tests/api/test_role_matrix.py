"""Every operation declares who may call it (``x-kefu-roles``, api/access.py), and the running
server agrees: each operation is called as every kind of caller — no credentials, an
integration's token, agent, specialist, supervisor, admin — and a caller not on the list gets
401 (no credentials) or 403, while a caller on it gets past the door (any other answer: the
object may be missing, the body incomplete). Generated from /openapi.json, so a route added
tomorrow is covered, and a route without a declaration fails here."""

from __future__ import annotations

import base64
import re

import httpx
import pytest
from sqlalchemy import select

from kefu.api.access import CALLERS, EXTENSION
from kefu.db.models import ApiToken, Attachment, Notification, RoutingRule
from kefu.services.actors import SYSTEM
from kefu.services.customers import profiles as customers
from kefu.services.intake import integrations
from kefu.services.staff import auth
from tests import factories

METHODS = ("get", "post", "put", "patch", "delete")
DENIED = {401, 403}


@pytest.fixture
def world(db, server, integration):
    """One object of every kind a path can name, visible to the agent; and a client per caller."""
    group = factories.make_group(db, "矩阵组")
    staff = {
        role: factories.make_user(db, role=role, groups=[group], email=f"{role}@matrix.cn")
        for role in ("agent", "specialist", "supervisor", "admin")
    }
    victim = factories.make_user(db, role="agent", groups=[group], email="victim@matrix.cn")
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 40).decode()
    posted = integration.post("/api/v1/inbound", json={
        "channel": "web", "external_id": "matrix-1", "sender": {"external_id": "m-1", "name": "矩阵"},
        "text": "我的订单还没发货", "attachments": [{"filename": "a.png", "content_type": "image/png", "content_base64": png}],
    })  # fmt: skip
    assert posted.status_code == 201, posted.text
    ticket_id, customer_id = posted.json()["ticket_id"], posted.json()["customer_id"]
    other = factories.make_customer(db)
    merge = customers.do_merge(db, SYSTEM, target_id=customer_id, source_id=other.id)
    db.commit()
    db.add(
        Notification(user_id=staff["agent"].id, ticket_id=ticket_id, kind="sla.warn", body="矩阵")
    )
    db.commit()
    _, made, _ = integrations.do_create_integration(
        db, SYSTEM, name="矩阵集成", channels=["api"], secret_key=factories.SECRET_KEY
    )
    db.commit()
    factories.make_token(db, victim)
    ids = {
        "ticket_id": ticket_id,
        "customer_id": customer_id,
        "attachment_id": db.scalar(select(Attachment.id)),
        "notification_id": db.scalar(select(Notification.id)),
        "merge_id": merge.id,
        "rule_id": db.scalar(select(RoutingRule.id)) or 1,
        "user_id": victim.id,
        "group_id": factories.make_group(db, "矩阵空组").id,
        "token_id": db.scalar(select(ApiToken.id).where(ApiToken.user_id == victim.id)),
        "session_id": auth.do_login(db, victim, days=1)[1].id,  # the victim's: staff get a 404
        "integration_id": made.id,
        "outbox_id": 1,  # none there: an admin gets past the door to a 404
        "channel": "web",
        "priority": "P4",
        "channel_id": 1,  # no web chat channel: staff get past the door to a 404
        "key": "wc_unknown",
        "field_id": 1,  # no field there: an admin gets past the door to a 404
        "script_id": 1,  # no script: staff get past the door to a 404
        "macro_id": 1,
        "entry_id": 1,  # no case-library entry: staff get past the door to a 404
        "join_id": 1,  # no join suggestion: staff get past the door to a 404
        "source": "wh-unknown",  # no webhook source: anyone gets past the door to a 404
        "source_id": 1,  # no webhook source, no subscription: an admin gets a 404
        "subscription_id": 1,
        "mention_id": 1,  # no mention: supervisors and admins get past the door to a 404
        "alert_id": 1,
        "trigger_id": 1,  # no automation trigger: an admin gets past the door to a 404
        "review_id": 1,  # no quality review: staff get past the door to a 404
        "agent_id": victim.id,
    }
    clients = {"anonymous": httpx.Client(base_url=server, timeout=30), "integration": integration}
    for role, user in staff.items():
        token = factories.make_token(db, user)
        clients[role] = httpx.Client(
            base_url=server, timeout=30, headers={"Authorization": f"Bearer {token}"}
        )
    yield ids, clients
    for role in ("anonymous", *staff):
        clients[role].close()


def _operations(spec: dict) -> list[tuple[str, str, dict]]:
    return [
        (method, path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_every_operation_declares_its_roles(anon):
    spec = anon.get("/openapi.json").json()
    undeclared = [f"{m.upper()} {p}" for m, p, op in _operations(spec) if not op.get(EXTENSION)]
    assert undeclared == []
    for _, _, op in _operations(spec):
        assert set(op[EXTENSION]) <= set(CALLERS)
        assert "Who may call" in op["description"]  # shown in /docs


def test_every_operation_answers_every_caller_as_it_declares(anon, world):
    ids, clients = world
    spec = anon.get("/openapi.json").json()
    wrong: list[str] = []
    for method, path, operation in _operations(spec):
        allowed = set(operation[EXTENSION])
        url = re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), path)
        body = {"json": {}} if "requestBody" in operation else {}
        # the callers turned away first: a refused call must change nothing for the others
        for caller in sorted(CALLERS, key=lambda c: c in allowed):
            status = clients[caller].request(method.upper(), url, **body).status_code
            expected = (
                "past the door"
                if caller in allowed
                else ("401" if caller == "anonymous" else "403")
            )
            ok = status not in DENIED if caller in allowed else status == int(expected)
            if not ok or status >= 500:
                wrong.append(f"{method.upper()} {path} as {caller}: {status}, expected {expected}")
    assert wrong == []
