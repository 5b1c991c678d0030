"""/api/v1/norms and the norms check on sending: a draft's findings, a refused reply, an
override on the message and in the audit trail, and agents' norm scores."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kefu.db.models import AuditEvent, Message
from tests import factories

ANGRY = "等了一个星期还没发货！你们怎么回事！"


@pytest.fixture
def groups(db):
    return {name: factories.make_group(db, name) for name in ("售前组", "售后组", "投诉处理组")}


def test_check_a_draft_on_a_ticket_reads_its_conversation(db, client_for, groups):
    agent = factories.make_user(db, groups=[groups["售后组"]])
    ticket = factories.make_ticket(db, group=groups["售后组"], text=ANGRY)
    response = client_for(agent).post(
        "/api/v1/norms/check", json={"text": "请提供订单号。", "ticket_id": ticket.id}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    # the case's first reply, to an angry customer: no greeting, no empathy; warnings only
    assert {f["rule"] for f in body["findings"]} == {"missing_greeting", "missing_empathy"}
    assert body["blocked"] is False and body["score"] == 100 - 8 - 8


def test_check_a_draft_on_an_explicit_context(api):
    response = api.post(
        "/api/v1/norms/check",
        json={
            "text": "您的訂單【單號】已發貨，你注意查收。",
            "context": [{"role": "customer", "text": "发货了吗"}],
            "customer_emotion": "neutral",
        },
    )
    assert response.status_code == 200
    body = response.json()
    found = {f["rule"]: f for f in body["findings"]}
    assert set(found) == {"unfilled_placeholder", "impolite"} and body["blocked"] is True
    assert found["unfilled_placeholder"]["text"] == "【單號】"
    assert found["unfilled_placeholder"]["severity"] == "error"


def test_check_of_another_group_s_ticket_is_404(db, client_for, groups):
    presale_agent = factories.make_user(db, groups=[groups["售前组"]])
    complaint = factories.make_ticket(db, group=groups["投诉处理组"], text="我要投诉")
    response = client_for(presale_agent).post(
        "/api/v1/norms/check", json={"text": "您好", "ticket_id": complaint.id}
    )
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_check_refuses_bad_input_with_a_4xx(api):
    for body in (
        {"text": ""},
        {"text": "x" * 5001},
        {"text": "您好", "customer_emotion": "furious"},
        {},
    ):
        response = api.post("/api/v1/norms/check", json=body)
        assert (
            response.status_code == 422 and response.json()["error"]["code"] == "validation_error"
        )


def test_an_unfilled_placeholder_blocks_sending(db, client_for, groups):
    agent = factories.make_user(db, groups=[groups["售后组"]])
    ticket = factories.make_ticket(db, group=groups["售后组"])
    response = client_for(agent).post(
        f"/api/v1/tickets/{ticket.id}/messages", json={"text": "您好，您的订单[单号]已发货。"}
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "norms_blocked" and error["message"]
    errors = [f for f in error["details"]["findings"] if f["severity"] == "error"]
    assert [(f["rule"], f["text"]) for f in errors] == [("unfilled_placeholder", "[单号]")]
    db.expire_all()
    sent = db.scalars(
        select(Message).where(Message.ticket_id == ticket.id, Message.direction == "outbound")
    )
    assert sent.all() == []  # nothing stored, nothing queued


def test_an_override_sends_and_is_recorded_and_audited(db, client_for, groups):
    agent = factories.make_user(db, groups=[groups["售后组"]])
    ticket = factories.make_ticket(db, group=groups["售后组"], text="请问发货了吗")
    response = client_for(agent).post(
        f"/api/v1/tickets/{ticket.id}/messages",
        json={
            "text": "您好，单号是{order_id}。",
            "norms_override_reason": "  客户要求的模板原文  ",
        },
    )
    assert response.status_code == 201, response.text
    message = response.json()
    assert message["norm_override_reason"] == "客户要求的模板原文"
    assert message["norm_rules"] == ["unfilled_placeholder"] and message["norm_score"] == 80
    stored = db.get(Message, message["id"])
    db.refresh(stored)
    assert stored.norm_override_by_id == agent.id
    (event,) = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "message.norms_override")
    ).all()
    assert (event.actor_id, event.object_id, event.ticket_id) == (agent.id, stored.id, ticket.id)
    assert event.after == {
        "reason": "客户要求的模板原文",
        "rules": ["unfilled_placeholder"],
        "score": 80,
    }


def test_a_clean_reply_keeps_its_score_and_a_blank_override_does_not_unblock(db, api):
    ticket = factories.make_ticket(db, text="请问发货了吗")
    url = f"/api/v1/tickets/{ticket.id}/messages"
    blank = api.post(url, json={"text": "你自己去查。", "norms_override_reason": "   "})
    assert blank.status_code == 422 and blank.json()["error"]["code"] == "norms_blocked"
    good = api.post(url, json={"text": "您好，已为您查询，今天18:00前发出。"})
    assert good.status_code == 201
    assert (good.json()["norm_score"], good.json()["norm_rules"]) == (100, [])
    assert good.json()["norm_override_reason"] is None
    assert (
        db.scalars(select(AuditEvent).where(AuditEvent.action == "message.norms_override")).all()
        == []
    )


def test_internal_notes_are_not_checked(db, api):
    ticket = factories.make_ticket(db)
    note = api.post(
        f"/api/v1/tickets/{ticket.id}/messages",
        json={"text": "这客户你别理，[待补充]", "internal": True},
    )
    assert note.status_code == 201 and note.json()["norm_score"] is None


def test_norm_scores_own_and_for_supervisors_by_day_and_week(db, client_for, groups):
    agent = factories.make_user(db, groups=[groups["售后组"]])
    other = factories.make_user(db, groups=[groups["售后组"]])
    supervisor = factories.make_user(db, role="supervisor")
    ticket = factories.make_ticket(db, group=groups["售后组"], text="请问发货了吗")
    client = client_for(agent)
    url = f"/api/v1/tickets/{ticket.id}/messages"
    assert client.post(url, json={"text": "您好，已为您查询，今天18:00前发出。"}).status_code == 201
    assert client.post(url, json={"text": "我们会尽快处理。"}).status_code == 201
    assert (
        client.post(url, json={"text": "你等着吧。", "norms_override_reason": "测试"}).status_code
        == 201
    )

    mine = client.get("/api/v1/norms/scores").json()
    assert mine["agent_id"] == agent.id and mine["by"] == "day"
    (today,) = mine["periods"]
    assert today["replies"] == 3 and today["overrides"] == 1
    assert today["findings"]["vague_commitment"] == 1 and today["findings"]["impolite"] == 1
    week = client.get("/api/v1/norms/scores", params={"by": "week"}).json()["periods"]
    assert [p["replies"] for p in week] == [3]
    assert week[0]["average_score"] == today["average_score"] < 100

    assert (
        client_for(other).get("/api/v1/norms/scores", params={"agent_id": agent.id}).status_code
        == 403
    )
    seen = client_for(supervisor).get("/api/v1/norms/scores", params={"agent_id": agent.id})
    assert seen.status_code == 200 and seen.json()["periods"] == mine["periods"]
    assert client_for(other).get("/api/v1/norms/scores").json()["periods"] == []
    wrong = client.get(
        "/api/v1/norms/scores", params={"since": "2026-01-01", "until": "2025-01-01"}
    )
    assert wrong.status_code == 422
