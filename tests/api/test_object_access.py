"""Object-level access on every side path, generated from /openapi.json: a world of two groups,
a case of group B full of a canary word (its subject, the customer's name and messages, a note,
the case file, a quality review, a notice, a join suggestion, an attachment), and outsiders —
an agent and a specialist of group A, an integration of another channel, another web chat
visitor. Every operation whose path names an object is called as each outsider with B's object:
the answer is 401/403/404 and never holds the canary. Every list, search, count and export is
called as each outsider (its filters naming B's objects, its query B's word): the canary never
shows. A path parameter missing from ``PATH_OBJECTS``, a body-taking operation an outsider may
call missing from ``BODIES`` or ``EXEMPT``: the test fails, so a new route is classified before
it ships (docs/security.md, "Side paths")."""

from __future__ import annotations

import base64
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from kefu.api.access import EXTENSION
from kefu.db.models import (
    ApiToken,
    Attachment,
    CaseEntry,
    CustomerJoin,
    Message,
    Notification,
    OutboxEntry,
    QaReview,
)
from kefu.services.actors import SYSTEM
from kefu.services.cases import links as case_links
from kefu.services.cases import tickets
from kefu.services.customers import joins
from kefu.services.customers import profiles as customers
from kefu.services.scripts.starter import ensure_starter_library
from kefu.services.staff import auth
from kefu.services.training import sessions
from tests import factories, visitors
from tests.services.qa.cases import resolve, say, sweep

CANARY = "kanari7q"  # in everything of group B's case; an outsider's answer never holds it
WORD = "金丝雀"  # what the outsiders search for (their answer may echo it; not the canary)
METHODS = ("get", "post", "put", "patch", "delete")
DENIED = {401, 403, 404}
OUTSIDERS = ("agent_a", "specialist_a", "integration", "visitor")
STAFF_OUTSIDERS = {"agent_a": "agent", "specialist_a": "specialist", "integration": "integration"}

# Each path parameter and the object of group B it names (the world's ``ids``): a new
# parameter fails the test until it is listed here.
PATH_OBJECTS = {
    "ticket_id": "B's case",
    "customer_id": "B's customer",
    "attachment_id": "the customer's file on B's case",
    "notification_id": "the notice of B's agent about B's case",
    "join_id": "a join suggestion between two customers of B",
    "merge_id": "a merge into B's customer (supervisors and admins only)",
    "review_id": "the quality review of B's agent on a case of B",
    "agent_id": "B's agent (their quality reviews)",
    "user_id": "B's agent",
    "token_id": "B's agent's API token",
    "session_id": "B's agent's browser session",
    "group_id": "group B",
    "macro_id": "a macro every agent may apply (the other id of the path is B's case)",
    "script_id": "a published script (filled for B's case: ticket_id in the query)",
    "entry_id": "the case-library entry of an archived complaint of B",
    "key": "a published article; the web chat channel; an unknown WeChat account",
    "integration_id": "an integration (admins only)",
    "field_id": "a custom field (admins only)",
    "rule_id": "a routing rule (admins only)",
    "channel": "an SLA policy's channel (admins only)",
    "priority": "an SLA policy's priority (admins only)",
    "outbox_id": "the dead outbox entry of B's reply",
    "channel_id": "a web chat channel (admins only)",
    "source": "an unknown webhook source (its signature is what it checks)",
    "source_id": "a webhook source (admins only)",
    "subscription_id": "a webhook subscription (admins only)",
    "mention_id": "a social mention (supervisors and admins only)",
    "alert_id": "a social alert (supervisors and admins only)",
    "trigger_id": "an automation trigger (admins only)",
}

# Operations with an object id that every staff member may read whatever its group: the answer
# may be 200, but never holds B's data.
SHARED = {
    "GET /api/v1/users/{user_id}": "the staff directory",
    "GET /api/v1/groups/{group_id}": "the staff directory",
    "GET /api/v1/scripts/{script_id}": "the script library",
    "GET /api/v1/scripts/{script_id}/versions": "the script library",
    "GET /api/v1/case-library/{entry_id}": "anonymised lessons for every agent; ticket_id only for who may open it",
    "GET /api/v1/kb/articles/{key}": "the knowledge base",
    "POST /api/v1/channels/webhook/{source}": "a signed delivery from outside; refused unsigned",
    "GET /api/v1/channels/wechat/{key}": "WeChat's server check; refused unsigned",
    "POST /api/v1/channels/wechat/{key}": "WeChat's callback; refused unsigned",
    "POST /chat/api/{key}/session": "a visitor starts their own session",
    "GET /chat/api/{key}/messages": "the visitor's own conversation",
    "POST /chat/api/{key}/uploads": "the visitor's own upload",
    "POST /chat/api/{key}/offline": "the visitor's own message",
    "POST /chat/api/{key}/survey": "the visitor's own survey (by its signed token)",
}  # fmt: skip

# Bodies for the operations an outsider may call that take one: each names B's objects where a
# field can (``{…}`` is filled from the world's ids).
BODIES: dict[str, Any] = {
    "PATCH /api/v1/tickets/{ticket_id}": {"subject": "改标题"},
    "POST /api/v1/tickets/{ticket_id}/messages": {"text": "您好", "internal": True},
    "POST /api/v1/tickets/{ticket_id}/assign": {"assignee_id": "{agent_a}"},
    "POST /api/v1/tickets/{ticket_id}/steps": {"action": "record_facts", "facts": "事实"},
    "POST /api/v1/tickets/{ticket_id}/links": {"ticket_id": "{ticket_a}"},
    "POST /api/v1/tickets/{ticket_id}/merge": {"into_ticket_id": "{ticket_a}"},
    "PATCH /api/v1/customers/{customer_id}": {"note": "备注"},
    "POST /api/v1/customers/{customer_id}/verifications": {"kind": "phone", "value": "13800000000"},
    "PUT /api/v1/users/{user_id}/presence": {"online": False},
    "POST /api/v1/qa/reviews/{review_id}/disputes": {"comment": "我不同意"},
    # side paths: B's objects named in a body, on the outsider's own case or none
    "POST /api/v1/tickets": {"customer_id": "{customer_id}", "text": "代客建单"},
    "POST /api/v1/norms/check": {"text": "您好，请稍等", "ticket_id": "{ticket_id}"},
    "POST /api/v1/scripts/proposals": {
        "message_id": "{message_id}", "scenario_id": "{scenario_id}", "title": "从B学来"},
    "POST /api/v1/tokens": {"name": "别人的", "user_id": "{user_id}"},
    "POST /api/v1/inbound": {
        "channel": "api", "external_id": "side-1", "sender": {"external_id": "{b_sender}"},
        "text": "追加", "ticket_id": "{ticket_id}"},
    "POST /api/v1/contact-bindings": {
        "channel": "web", "external_id": "{b_sender}", "phone": "13900001111"},
    "POST /api/v1/public/kb/feedback": {"key": "{key}", "helpful": True},
}  # fmt: skip

# Query parameters beyond the ids and the search word: required ones, and ones naming B.
QUERIES: dict[str, dict[str, Any]] = {
    "GET /api/v1/qa/agents/{agent_id}": {
        "start": "2020-01-01T00:00:00Z", "end": "2100-01-01T00:00:00Z"},
    "POST /api/v1/scripts/{script_id}/fill": {"ticket_id": "{ticket_id}"},
    "GET /api/v1/tickets": {"customer_id": "{customer_id}", "group_id": "{group_id}"},
    "GET /api/v1/tokens": {"user_id": "{user_id}"},
    "GET /api/v1/norms/scores": {"agent_id": "{user_id}"},
}  # fmt: skip

# Operations without an object id an outsider may call with a body, not called here: why.
EXEMPT = {
    "POST /api/v1/auth/login": "signs in: no object",
    "POST /api/v1/auth/logout": "ends the caller's own session",
    "POST /api/v1/auth/logout-everywhere": "ends the caller's own sessions",
    "POST /api/v1/auth/password": "the caller's own password",
    "POST /api/v1/auth/login/totp": "the second step of a sign-in: a signed pending token, no object",
    "POST /api/v1/auth/totp/enrol": "the caller's own two-step enrolment (their password again)",
    "POST /api/v1/auth/totp/confirm": "the caller's own two-step enrolment",
    "POST /api/v1/auth/totp/disable": "the caller's own two-step verification",
    "POST /api/v1/auth/password-reset": "an e-mail address: the same answer whoever owns it (tests/api/test_password_reset.py)",
    "POST /api/v1/auth/password-reset/confirm": "a single-use token from the mail, no object id",
    "PUT /api/v1/users/me/presence": "the caller's own presence",
    "PUT /api/v1/users/me/status": "the caller's own status",
    "POST /api/v1/notifications/read-all": "the caller's own notices",
    "POST /api/v1/customers": "a new profile: names no existing object",
    "POST /api/v1/receipts": "names an outbox row by the integration's own callback keys (tests/api/test_outbox.py)",
    "POST /api/v1/public/kb/feedback/comment": "a comment on the caller's own vote (signed token)",
}  # fmt: skip


@dataclass
class World:
    ids: dict[str, Any]
    clients: dict[str, httpx.Client]
    insider: httpx.Client


def _png() -> str:
    return base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 40).decode()


def _b_case(db, integration, insider, group_b) -> dict[str, Any]:
    """B's case as intake opens it (customer, message, file), routed to B and worked on there."""
    posted = integration.post("/api/v1/inbound", json={
        "channel": "web", "external_id": "side-b-1", "subject": f"{WORD} {CANARY} 退款",
        "sender": {"external_id": "b-sender", "name": f"{WORD} {CANARY}"},
        "text": f"我是{WORD} {CANARY}，订单没到", "attachments": [
            {"filename": f"{CANARY}.png", "content_type": "image/png", "content_base64": _png()}],
    })  # fmt: skip
    assert posted.status_code == 201, posted.text
    ticket_id, customer_id = posted.json()["ticket_id"], posted.json()["customer_id"]
    ticket = tickets.access_ticket(db, SYSTEM, ticket_id, for_update=True)
    tickets.do_update_ticket(db, SYSTEM, ticket, {"group_id": group_b.id})
    db.commit()
    for body in (
        {"text": f"内部备注 {WORD} {CANARY}", "internal": True},
        {"text": f"您好 {CANARY}，已为您查询", "internal": False},
    ):
        assert insider.post(f"/api/v1/tickets/{ticket_id}/messages", json=body).status_code == 201
    step = {"action": "record_facts", "facts": f"{WORD} {CANARY} 的事实"}
    assert insider.post(f"/api/v1/tickets/{ticket_id}/steps", json=step).status_code == 200
    return {
        "ticket_id": ticket_id,
        "customer_id": customer_id,
        "attachment_id": db.scalar(select(Attachment.id)),
        "message_id": db.scalar(
            select(Message.id).where(Message.ticket_id == ticket_id).order_by(Message.id)
        ),
    }


def _b_review(db, engine, agent_b, group_b) -> int:
    ticket = factories.make_ticket(db, group=group_b, text=f"{WORD} {CANARY} 一周没到！")
    ticket.assignee_id = agent_b.id
    say(db, ticket, "customer", f"{CANARY} 一周没到！", 0, "angry")
    say(db, ticket, "agent", f"{CANARY} 这是快递的问题，跟我们没关系。", 2)
    db.commit()
    resolve(db, ticket)
    sweep(db, engine)
    review_id = db.scalar(select(QaReview.id).where(QaReview.ticket_id == ticket.id))
    assert review_id is not None
    return review_id


def _b_join(db, group_b) -> int:
    one = factories.make_customer(db, name=f"{CANARY} 甲", phone="13711112222")
    two = factories.make_customer(
        db, name=f"{CANARY} 乙", identities=[("sms", "+86 137 1111 2222")]
    )
    for customer in (one, two):
        factories.make_ticket(db, customer=customer, group=group_b, text=f"{CANARY} 问题")
    joins.sweep(db, tickets.utcnow())
    db.commit()
    join_id = db.scalar(select(CustomerJoin.id))
    assert join_id is not None
    return join_id


def _b_session(db, agent_b) -> int:
    """A browser session of B's agent (to end from someone else's list)."""
    _, row = auth.do_login(db, agent_b, days=1)
    db.commit()
    return row.id


@pytest.fixture
def world(db, engine, server, integration, client_for) -> Iterator[World]:
    group_a, group_b = factories.make_group(db, "A组"), factories.make_group(db, "B组")
    agent_b = factories.make_user(db, groups=[group_b], email="b@side.cn", name="乙客服")
    agent_a = factories.make_user(db, groups=[group_a], email="a@side.cn", name="甲客服")
    specialist_a = factories.make_user(db, role="specialist", groups=[group_a], email="s@side.cn")
    supervisor = factories.make_user(db, role="supervisor", email="boss@side.cn")
    insider, boss = client_for(agent_b), client_for(supervisor)
    ids = _b_case(db, integration, insider, group_b)
    ensure_starter_library(db)
    db.commit()
    script = boss.get("/api/v1/scripts/tree").json()[0]["scenarios"][0]
    macro = boss.post(
        "/api/v1/macros", json={"name": "侧路", "script_id": script["scripts"][0]["id"]}
    )
    assert macro.status_code == 201, macro.text
    db.add(Notification(user_id=agent_b.id, ticket_id=ids["ticket_id"], kind="sla.warn",
                        body=f"{CANARY} 快超时"))  # fmt: skip
    db.commit()
    other = factories.make_customer(db, name=f"{CANARY} 重复档案")
    merge = customers.do_merge(db, SYSTEM, target_id=ids["customer_id"], source_id=other.id)
    db.commit()
    entry = factories.make_archived_complaint(
        db, text="快递一周没到，要投诉", facts="物流延误", category="logistics",
        cause="仓库漏发", solution="补发并致歉", lesson="发货前核对", group=group_b,
    )  # fmt: skip
    channel = factories.make_webchat_channel(db)
    factories.make_token(db, agent_b)
    reply_id = db.scalar(
        select(Message.id).where(Message.ticket_id == ids["ticket_id"]).order_by(Message.id.desc())
    )
    db.add(
        OutboxEntry(
            message_id=reply_id,
            ticket_id=ids["ticket_id"],
            channel="api",
            idempotency_key="side-b",
            state="dead",
        )
    )
    db.commit()
    shared = factories.make_customer(db, name="共享顾客")  # seen through a case in the queue
    queued = factories.make_ticket(db, customer=shared, text="还在排队的问题")
    theirs = factories.make_ticket(
        db, customer=shared, group=group_b, text=f"{WORD} {CANARY} 另一件事"
    )
    case_links.do_link(db, SYSTEM, queued, theirs.id)  # the queued case names B's
    db.commit()
    training = sessions.do_assign(db, SYSTEM, agent_b.id, "crisis-viral-post")
    db.commit()
    ids |= {
        "training_id": training.id,
        "shared_customer_id": shared.id,
        "shared_ticket_id": queued.id,
        "notification_id": db.scalar(select(Notification.id)),
        "join_id": _b_join(db, group_b),
        "merge_id": merge.id,
        "review_id": _b_review(db, engine, agent_b, group_b),
        "agent_id": agent_b.id,
        "user_id": agent_b.id,
        "token_id": db.scalar(select(ApiToken.id).where(ApiToken.user_id == agent_b.id)),
        "session_id": _b_session(db, agent_b),
        "group_id": group_b.id,
        "macro_id": macro.json()["id"],
        "script_id": script["scripts"][0]["id"],
        "scenario_id": script["id"],
        "entry_id": db.scalar(select(CaseEntry.id).where(CaseEntry.ticket_id == entry.id)),
        "key": {"/api/v1/kb/": "none", "/chat/api/": channel.key, "/api/v1/channels/": "wc_x"},
        "integration_id": 1, "field_id": 1, "rule_id": 1, "channel": "web", "priority": "P4",
        "outbox_id": db.scalar(select(OutboxEntry.id)), "channel_id": channel.id, "source": "wh-unknown", "source_id": 1,
        "subscription_id": 1, "mention_id": 1, "alert_id": 1, "trigger_id": 1,
        "b_sender": "b-sender",
        "agent_a": agent_a.id,
        "group_a": group_a.id,
        "ticket_a": factories.make_ticket(db, group=group_a, text="A组自己的案子").id,
    }  # fmt: skip
    visitor = visitors.start(httpx.Client(base_url=server, timeout=30), channel.key)
    clients = {
        "agent_a": client_for(agent_a),
        "specialist_a": client_for(specialist_a),
        "visitor": client_for(agent_a),  # replaced below: a visitor's bearer, not staff's
    }
    with (
        httpx.Client(
            base_url=server,
            timeout=30,
            headers={"Authorization": f"Bearer {factories.make_integration(db, channels=['api'])}"},
        ) as scoped,
        httpx.Client(
            base_url=server, timeout=30, headers=visitors.bearer(visitor["visitor_token"])
        ) as other_visitor,
    ):
        clients |= {"integration": scoped, "visitor": other_visitor}
        yield World(ids, clients, insider)


def _operations(spec: dict) -> list[tuple[str, str, dict]]:
    return [
        (method, path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def _fill(value: Any, ids: dict[str, Any], path: str = "") -> Any:
    """``"{name}"`` replaced by the world's id (a per-path choice for ``key``)."""
    if isinstance(value, dict):
        return {k: _fill(v, ids, path) for k, v in value.items()}
    if isinstance(value, str) and re.fullmatch(r"\{\w+\}", value):
        found = ids[value[1:-1]]
        if isinstance(found, dict):
            return next((v for prefix, v in found.items() if path.startswith(prefix)), "none")
        return found
    return value


def _url(path: str, ids: dict[str, Any]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(_fill("{" + m.group(1) + "}", ids, path)), path)


def _query(
    name: str, operation: dict, ids: dict[str, Any], path: str, *, filters: bool
) -> dict[str, Any]:
    """The operation's query: B's word for a search, and (``filters``) B's objects for the
    filters that name them."""
    query = {
        p["name"]: WORD for p in operation.get("parameters", []) if p["name"] in {"q", "query"}
    }
    return query | (_fill(QUERIES.get(name, {}), ids, path) if filters else {})


def _outsiders_allowed(operation: dict) -> list[str]:
    roles = set(operation[EXTENSION])
    allowed = [c for c, role in STAFF_OUTSIDERS.items() if role in roles]
    return allowed + (["visitor"] if "anonymous" in roles else [])


def _call(
    world: World, caller: str, method: str, path: str, operation: dict, *, filters: bool = True
) -> httpx.Response:
    name = f"{method.upper()} {path}"
    body = BODIES.get(name)
    kwargs: dict[str, Any] = {"params": _query(name, operation, world.ids, path, filters=filters)}
    if "requestBody" in operation:
        kwargs["json"] = _fill(body, world.ids, path) if body is not None else {}
    return world.clients[caller].request(method.upper(), _url(path, world.ids), **kwargs)


def test_the_canary_is_where_the_insider_looks(world):
    """Not vacuous: B's agent reads the canary where the outsiders must not."""
    ids = world.ids
    for url in (
        f"/api/v1/tickets/{ids['ticket_id']}",
        f"/api/v1/tickets/{ids['ticket_id']}/timeline",
        f"/api/v1/customers/{ids['customer_id']}",
        f"/api/v1/qa/reviews/{ids['review_id']}",
    ):
        answer = world.insider.get(url)
        assert answer.status_code == 200 and CANARY in answer.text, url
    assert world.insider.get(f"/api/v1/attachments/{ids['attachment_id']}").status_code == 200
    for url in ("/api/v1/search", "/api/v1/tickets", "/api/v1/customers"):  # B's word finds it
        answer = world.insider.get(url, params={"q": WORD})
        assert answer.status_code == 200 and CANARY in answer.text, url


def test_every_path_parameter_and_body_is_classified(anon):
    spec = anon.get("/openapi.json").json()
    unknown, unbodied = set(), []
    for method, path, operation in _operations(spec):
        unknown |= set(re.findall(r"\{(\w+)\}", path)) - set(PATH_OBJECTS)
        name = f"{method.upper()} {path}"
        takes_body = "requestBody" in operation and _outsiders_allowed(operation)
        if takes_body and name not in BODIES and name not in SHARED and name not in EXEMPT:
            unbodied.append(name)
    assert sorted(unknown) == [], "add each to PATH_OBJECTS with the object of B it names"
    assert unbodied == [], "add each to BODIES (naming B's objects) or EXEMPT (with a reason)"


def test_no_outsider_reaches_an_object_of_group_b(anon, world):
    spec = anon.get("/openapi.json").json()
    wrong: list[str] = []
    for method, path, operation in _operations(spec):
        name = f"{method.upper()} {path}"
        if "{" not in path or name in EXEMPT:
            continue
        for caller in OUTSIDERS:
            answer = _call(world, caller, method, path, operation)
            leaked = CANARY in answer.text
            refused = answer.status_code in DENIED or (name in SHARED and answer.status_code < 500)
            if leaked or not refused:
                wrong.append(f"{name} as {caller}: {answer.status_code} {answer.text[:160]}")
    assert wrong == []


def test_a_customer_an_outsider_may_see_shows_none_of_their_cases_of_group_b(anon, world):
    """The customer has a case in the shared queue (the outsiders see them), linked to one of
    group B (they do not): every operation naming the customer, every read of the queued case,
    shows the first, never the second."""
    spec = anon.get("/openapi.json").json()
    ids = world.ids | {
        "customer_id": world.ids["shared_customer_id"],
        "ticket_id": world.ids["shared_ticket_id"],
    }
    shared = World(ids, world.clients, world.insider)
    wrong: list[str] = []
    for method, path, operation in _operations(spec):
        name = f"{method.upper()} {path}"
        names_shared = "{customer_id}" in path or (method == "get" and "{ticket_id}" in path)
        if (
            not names_shared
            or name in EXEMPT
            or "{" in path.replace("{customer_id}", "").replace("{ticket_id}", "")
        ):
            continue
        for caller in ("agent_a", "specialist_a"):
            answer = _call(shared, caller, method, path, operation)
            if CANARY in answer.text or answer.status_code >= 500:
                wrong.append(f"{name} as {caller}: {answer.status_code} {answer.text[:160]}")
    seen = world.clients["agent_a"].get(f"/api/v1/customers/{ids['customer_id']}/timeline")
    assert seen.status_code == 200 and "还在排队的问题" in seen.text  # not vacuous
    assert wrong == []


def test_the_case_library_names_the_case_of_b_only_to_who_may_open_it(world):
    url = f"/api/v1/case-library/{world.ids['entry_id']}"
    assert world.insider.get(url).json()["ticket_id"] is not None
    for caller in ("agent_a", "specialist_a"):
        answer = world.clients[caller].get(url)
        assert answer.status_code == 200 and answer.json()["ticket_id"] is None


def test_no_list_search_or_export_shows_an_outsider_group_bs_data(anon, world):
    spec = anon.get("/openapi.json").json()
    wrong: list[str] = []
    for method, path, operation in _operations(spec):
        name = f"{method.upper()} {path}"
        if "{" in path or name in EXEMPT:
            continue
        if method != "get" and name not in BODIES and _outsiders_allowed(operation):
            continue  # classified by the test above
        for caller, filters in itertools.product(OUTSIDERS, (True, False)[: 2 - (method != "get")]):
            answer = _call(world, caller, method, path, operation, filters=filters)
            if CANARY in answer.text or answer.status_code >= 500:
                wrong.append(f"{name} as {caller}: {answer.status_code} {answer.text[:160]}")
            elif method != "get" and answer.status_code < 400:
                wrong.append(f"{name} as {caller} did it: {answer.status_code} {answer.text[:160]}")
    assert wrong == []
