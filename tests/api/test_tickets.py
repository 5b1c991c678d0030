"""/api/v1/tickets: visibility by group, filters and pagination, changes, replies, claiming."""

from __future__ import annotations

import base64
import json
import threading

import pytest

from tests import factories
from tests.checks import api_error as _error


@pytest.fixture
def groups(db):
    return {name: factories.make_group(db, name) for name in ("售前组", "售后组", "投诉处理组")}


def test_agent_of_another_group_gets_404_everywhere(db, client_for, groups):
    presale_agent = factories.make_user(db, groups=[groups["售前组"]])
    complaint = factories.make_ticket(db, group=groups["投诉处理组"], text="我要投诉，东西是坏的")
    client = client_for(presale_agent)
    base = f"/api/v1/tickets/{complaint.id}"
    calls = [
        client.get(base),
        client.patch(base, json={"priority": "P1"}),
        client.post(f"{base}/messages", json={"text": "您好"}),
        client.post(f"{base}/claim"),
        client.post(f"{base}/assign", json={"assignee_id": presale_agent.id}),
        client.get(f"{base}/audit"),
    ]
    for response in calls:
        assert response.status_code == 404, response.request.url
        assert response.json()["error"]["code"] == "not_found"
    missing = client.get("/api/v1/tickets/999999")
    assert missing.status_code == 404 and missing.json() == {
        **missing.json(),
        "error": calls[0].json()["error"],
    }
    db.refresh(complaint)
    assert complaint.priority == "P4" and complaint.assignee_id is None


def test_visibility_of_lists(db, client_for, groups):
    agent = factories.make_user(db, groups=[groups["售前组"]])
    supervisor = factories.make_user(db, role="supervisor")
    mine = factories.make_ticket(db, group=groups["售前组"])
    intake = factories.make_ticket(db)  # not routed yet: the shared queue
    other = factories.make_ticket(db, group=groups["投诉处理组"])
    assigned_to_me = factories.make_ticket(db, group=groups["售后组"], assignee_id=agent.id)
    seen = {t["id"] for t in client_for(agent).get("/api/v1/tickets").json()["items"]}
    assert seen == {mine.id, intake.id, assigned_to_me.id}
    everything = {t["id"] for t in client_for(supervisor).get("/api/v1/tickets").json()["items"]}
    assert everything == {mine.id, intake.id, other.id, assigned_to_me.id}


def test_filters(db, api, admin, groups):
    customer = factories.make_customer(db)
    a = factories.make_ticket(
        db,
        customer=customer,
        group=groups["售后组"],
        text="快递一直不动",
        priority="P2",
        category="logistics",
    )
    b = factories.make_ticket(
        db,
        group=groups["售前组"],
        text="这款空调几级能效",
        channel="webchat",
        category="product_info",
    )
    c = factories.make_ticket(db, text="发票开错了", assignee_id=admin.id, category="price_billing")
    api.patch(f"/api/v1/tickets/{c.id}", json={"status": "pending"})

    def ids(**params):
        response = api.get("/api/v1/tickets", params=params)
        assert response.status_code == 200, response.text
        return {t["id"] for t in response.json()["items"]}

    assert ids(status="pending") == {c.id}
    assert ids(status=["new", "pending"]) == {a.id, b.id, c.id}
    assert ids(assignee="me") == ids(assignee_id=admin.id) == {c.id}
    assert ids(assignee="none") == {a.id, b.id}
    assert ids(group_id=groups["售后组"].id) == {a.id}
    assert ids(priority="P2") == {a.id}
    assert ids(category="product_info") == {b.id}
    assert ids(channel="webchat") == {b.id}
    assert ids(customer_id=customer.id) == {a.id}
    assert ids(q="空调") == {b.id}
    assert ids(q="100%_") == set()


def test_text_search_finds_later_messages(db, api):
    ticket = factories.make_ticket(db, text="你好")
    api.post(
        f"/api/v1/tickets/{ticket.id}/messages",
        json={"text": "已为您登记退款申请", "internal": True},
    )
    found = api.get("/api/v1/tickets", params={"q": "退款申请"}).json()["items"]
    assert [t["id"] for t in found] == [ticket.id]


def test_cursor_pagination_walks_every_ticket_once(db, api):
    customer = factories.make_customer(db)
    created = {factories.make_ticket(db, customer=customer).id for _ in range(7)}
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = api.get("/api/v1/tickets", params=params).json()
        seen += [t["id"] for t in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == sorted(created, reverse=True)


def test_invalid_cursor_is_a_clear_error(api):
    response = api.get("/api/v1/tickets", params={"cursor": "not-a-cursor"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_cursor"


def _raw_cursor(before: object) -> str:
    raw = json.dumps({"before": before}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "before", [2**63, 2**63 - 1, 2**62 + 1, 10**30, -(2**70), 0, 1.5, "12", None, [1]]
)
def test_cursor_outside_the_id_range_is_invalid_not_a_crash(api, before):
    """Regression: a cursor decoding to 2**63 or more reached the database and answered 500."""
    _error(
        api.get("/api/v1/tickets", params={"cursor": _raw_cursor(before)}), 400, "invalid_cursor"
    )


def test_create_ticket_for_customer(db, api, groups):
    customer = factories.make_customer(db, name="赵女士")
    response = api.post(
        "/api/v1/tickets",
        json={
            "customer_id": customer.id,
            "text": "电话来电：冰箱不制冷，要求上门维修",
            "channel": "phone",
            "group_id": groups["售后组"].id,
            "tags": ["VIP", "维修"],
        },
    )
    assert response.status_code == 201, response.text
    ticket = response.json()
    assert ticket["subject"] == "电话来电：冰箱不制冷，要求上门维修"
    assert (
        ticket["status"] == "new"
        and ticket["channel"] == "phone"
        and ticket["tags"] == ["VIP", "维修"]
    )
    assert [m["direction"] for m in ticket["messages"]] == ["inbound"]
    assert ticket["messages"][0]["author_customer_id"] == customer.id


def test_create_ticket_for_unknown_customer(api):
    response = api.post("/api/v1/tickets", json={"customer_id": 424242, "text": "x"})
    assert response.status_code == 404
    assert response.json()["error"]["details"] == {"field": "customer_id"}


def test_status_changes_follow_the_state_machine(db, api):
    ticket = factories.make_ticket(db)
    url = f"/api/v1/tickets/{ticket.id}"
    resolved = api.patch(url, json={"status": "resolved"}).json()
    assert resolved["status"] == "resolved" and resolved["resolved_at"] is not None
    reopened = api.patch(url, json={"status": "open"}).json()
    assert reopened["reopen_count"] == 1 and reopened["resolved_at"] is None
    closed = api.patch(url, json={"status": "closed"}).json()
    assert closed["closed_at"] is not None
    refused = api.patch(url, json={"status": "pending"})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "invalid_transition"
    assert api.get(url).json()["status"] == "closed"


def test_update_fields_and_null_rules(db, api, groups):
    ticket = factories.make_ticket(db, group=groups["售前组"])
    url = f"/api/v1/tickets/{ticket.id}"
    changed = api.patch(
        url,
        json={
            "priority": "P2",
            "category": "quality",
            "intent": "complaint",
            "emotion": "angry",
            "risks": ["media"],
            "tags": ["曝光"],
            "group_id": None,
        },
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["priority"], body["category"], body["risks"], body["group_id"], body["tags"]) == (
        "P2",
        "quality",
        ["media"],
        None,
        ["曝光"],
    )
    for bad in (
        {"status": None},
        {"priority": "P9"},
        {"risks": ["aliens"]},
        {"colour": "red"},
        {"group_id": 999999},
    ):
        response = api.patch(url, json=bad)
        assert response.status_code in (404, 422), bad
    assert api.get(url).json()["priority"] == "P2"


def test_reply_and_internal_note(db, api, admin):
    ticket = factories.make_ticket(db)
    url = f"/api/v1/tickets/{ticket.id}"
    note = api.post(f"{url}/messages", json={"text": "客户是老会员，注意语气", "internal": True})
    assert note.status_code == 201 and note.json()["direction"] == "note"
    after_note = api.get(url).json()
    assert after_note["first_response_at"] is None and after_note["status"] == "new"
    reply = api.post(f"{url}/messages", json={"text": "您好，非常抱歉给您带来不便，马上为您处理。"})
    assert reply.status_code == 201
    assert (reply.json()["direction"], reply.json()["author_user_id"]) == ("outbound", admin.id)
    after_reply = api.get(url).json()
    assert after_reply["status"] == "open"
    first = after_reply["first_response_at"]
    assert first is not None
    api.post(f"{url}/messages", json={"text": "已经为您加急"})
    again = api.get(url).json()
    assert again["first_response_at"] == first
    assert [m["direction"] for m in again["messages"]] == [
        "inbound",
        "note",
        "outbound",
        "outbound",
    ]
    assert "<" not in again["messages"][2]["body_text"]


def test_a_reply_may_take_another_channel_the_customer_is_on(db, api):
    # (WeChat, whose free replies need a customer message of the last 48 hours, has tests of its
    # own: tests/api/test_wechat.py)
    customer = factories.make_customer(db, identities=[("sms", "+8613800138007")])
    ticket = factories.make_ticket(db, customer=customer, channel="email")
    url = f"/api/v1/tickets/{ticket.id}/messages"
    reply = api.post(url, json={"text": "短信回复您", "channel": "sms"})
    assert reply.status_code == 201, reply.text
    assert reply.json()["channel"] == "sms"
    _error(api.post(url, json={"text": "微信", "channel": "wechat"}), 422, "channel_unreachable")
    _error(api.post(url, json={"text": "x", "channel": "pigeon"}), 422, "validation_error")


def test_reply_text_is_escaped_in_html(db, api):
    ticket = factories.make_ticket(db)
    reply = api.post(
        f"/api/v1/tickets/{ticket.id}/messages", json={"text": "<script>alert(1)</script>"}
    ).json()
    assert "<script>" not in reply["body_html"] and "&lt;script&gt;" in reply["body_html"]


def test_assign_and_unassign(db, api, groups):
    agent = factories.make_user(db, groups=[groups["售后组"]])
    ticket = factories.make_ticket(db, group=groups["售后组"])
    url = f"/api/v1/tickets/{ticket.id}/assign"
    assert api.post(url, json={"assignee_id": agent.id}).json()["assignee_id"] == agent.id
    assert api.post(url, json={"assignee_id": None}).json()["assignee_id"] is None
    unknown = api.post(url, json={"assignee_id": 987654})
    assert unknown.status_code == 404 and unknown.json()["error"]["details"] == {
        "field": "assignee_id"
    }


def test_claim_taken_ticket_is_409(db, client_for, groups):
    a = factories.make_user(db, groups=[groups["售后组"]])
    b = factories.make_user(db, groups=[groups["售后组"]])
    ticket = factories.make_ticket(db, group=groups["售后组"])
    assert client_for(a).post(f"/api/v1/tickets/{ticket.id}/claim").json()["assignee_id"] == a.id
    assert (
        client_for(a).post(f"/api/v1/tickets/{ticket.id}/claim").status_code == 200
    )  # idempotent for the owner
    lost = client_for(b).post(f"/api/v1/tickets/{ticket.id}/claim")
    assert lost.status_code == 409 and lost.json()["error"]["code"] == "already_claimed"


@pytest.mark.parametrize("round_", range(5))
def test_two_agents_claiming_at_once_exactly_one_wins(db, client_for, groups, round_):
    agents = [factories.make_user(db, groups=[groups["售后组"]]) for _ in range(2)]
    clients = [client_for(agent) for agent in agents]
    ticket = factories.make_ticket(db, group=groups["售后组"])
    barrier = threading.Barrier(2)
    results: dict[int, object] = {}

    def claim(index: int) -> None:
        barrier.wait()
        results[index] = clients[index].post(f"/api/v1/tickets/{ticket.id}/claim")

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    codes = sorted(r.status_code for r in results.values())
    assert codes == [200, 409]
    winner = next(i for i, r in results.items() if r.status_code == 200)
    db.rollback()
    db.refresh(ticket)
    assert ticket.assignee_id == agents[winner].id
    claims = [
        e
        for e in clients[0].get(f"/api/v1/tickets/{ticket.id}/audit").json()
        if e["action"] == "ticket.claim"
    ]
    assert len(claims) == 1 and claims[0]["actor_id"] == agents[winner].id


def test_a_ticket_shows_its_sla_clocks(integration, db, api):
    from datetime import timedelta

    from tests.api.test_inbound import _payload

    group = factories.make_group(db, name="全天组", calendar={"always_open": True})
    body = integration.post(
        "/api/v1/inbound", json=_payload("sla-1", sender="sla", text="你好，我的快递到哪了")
    ).json()
    api.patch(f"/api/v1/tickets/{body['ticket_id']}", json={"group_id": group.id})
    ticket = api.get(f"/api/v1/tickets/{body['ticket_id']}").json()
    clocks = {c["target"]: c for c in ticket["sla"]}
    assert set(clocks) == {"first_response", "resolution"}
    assert clocks["first_response"]["state"] in ("on_track", "at_risk", "breached")
    assert (
        clocks["resolution"]["left_seconds"] > timedelta(days=4).total_seconds()
    )  # P4: five days around the clock
    listed = api.get("/api/v1/tickets").json()["items"][0]
    assert listed["sla"] and listed["escalations"] == 0


def test_reply_attachment_names_are_cleaned_and_the_type_follows_the_bytes(db, api):
    """Regression: an agent's attachment kept zero-width and control characters in its name."""
    ticket = factories.make_ticket(db)
    upload = {
        "filename": "报\u200b价\ufeff单\u2028.txt",
        "content_type": "image/png",
        "content_base64": base64.b64encode("报价：100 元".encode()).decode(),
    }
    response = api.post(
        f"/api/v1/tickets/{ticket.id}/messages",
        json={"text": "请查收报价单", "attachments": [upload]},
    )
    assert response.status_code == 201, response.text
    (attachment,) = response.json()["attachments"]
    assert (attachment["filename"], attachment["content_type"]) == ("报价单.txt", "text/plain")
    download = api.get(attachment["url"])
    assert download.status_code == 200 and download.content == "报价：100 元".encode()
    assert (
        "filename*=UTF-8''%E6%8A%A5%E4%BB%B7%E5%8D%95.txt"
        in download.headers["content-disposition"]
    )


THREAT = "你们再不退款我就去12315投诉，还要找媒体曝光"


def test_a_ticket_an_agent_opens_is_analyzed_like_an_inbound_message(db, api):
    customer = factories.make_customer(db, name="钱先生")
    response = api.post(
        "/api/v1/tickets", json={"customer_id": customer.id, "text": THREAT, "channel": "phone"}
    )
    assert response.status_code == 201, response.text
    ticket = response.json()
    assert ticket["priority"] == "P1" and ticket["risks"] == ["media", "regulator"]
    assert ticket["priority_reason"] and "P1" in ticket["priority_reason"]
    assert ticket["intent"] == "complaint" and ticket["case_path"] == "complaint"
    assert ticket["category"] and ticket["emotion"] and ticket["sentiment"]
    [message] = ticket["messages"]
    assert message["analysis"]["priority"] == "P1"
    trail = api.get(f"/api/v1/tickets/{ticket['id']}/audit").json()
    opened = next(e for e in trail if e["action"] == "ticket.create")
    assert opened["after"]["priority"] == "P1"
    assert set(opened["after"]["reasons"]) == {"media", "regulator", "priority"}


def test_what_the_agent_sets_overrides_the_analysis(db, api):
    customer = factories.make_customer(db)
    response = api.post(
        "/api/v1/tickets",
        json={"customer_id": customer.id, "text": THREAT, "priority": "P3", "intent": "inquiry"},
    )
    assert response.status_code == 201, response.text
    ticket = response.json()
    assert ticket["priority"] == "P3" and "人工" in ticket["priority_reason"]
    assert ticket["risks"] == ["media", "regulator"]  # the crisis is still on record
    assert ticket["intent"] == "inquiry" and ticket["case_path"] == "short"
