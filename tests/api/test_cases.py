"""The closed loop through the API: steps, approvals, waiting, reopening, repeats, merges, timeline."""

from __future__ import annotations

import warnings
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kefu.app import create_app
from kefu.db.models import AuditEvent, Message, Notification, Ticket, TicketLink
from kefu.settings import Settings
from tests import factories
from tests.checks import api_error

with warnings.catch_warnings():  # starlette's note that it prefers httpx2; httpx is what we have
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

COMPLAINT = "买的杯子到货就裂了，太让人失望了"
ANGRY_AGAIN = "又是物流！你们的快递又晚了三天，气死我了，太差劲了！"


def _inbound(client, external_id, text, sender="wx-case-1", **extra):
    body = {
        "channel": "wechat",
        "external_id": external_id,
        "sender": {"external_id": sender, "name": "李娜"},
        "text": text,
        **extra,
    }
    response = client.post("/api/v1/inbound", json=body)
    assert response.status_code == 201, response.text
    return response.json()["ticket_id"]


def _complaint(db, **overrides):
    return factories.make_ticket(
        db, text=COMPLAINT, intent="complaint", category="quality", **overrides
    )


def _step(api, ticket_id, **body):
    return api.post(f"/api/v1/tickets/{ticket_id}/steps", json=body)


def _walk(api, ticket_id, *steps):
    for body in steps:
        response = _step(api, ticket_id, **body)
        assert response.status_code == 200, (body, response.text)
    return response.json()


TO_FOLLOW_UP = (
    {"action": "record_facts", "facts": "订单 SL2026 的杯子到货破裂，客户要求换新"},
    {"action": "advance"},
    {
        "action": "record_analysis",
        "category": "quality",
        "five_whys": ["为什么破？运输中挤压", "为什么挤压？易碎品只用了单层包装"],
    },
    {"action": "advance"},
    {"action": "propose_solution", "solution": "补发新杯子"},
    {"action": "advance"},
)


def test_a_complaint_walks_its_five_steps_and_the_timeline_tells_the_story(db, api):
    ticket = _complaint(db)
    case = api.get(f"/api/v1/tickets/{ticket.id}/case").json()
    assert (case["path"], case["stage"], case["stage_name"], case["missing"]) == (
        "complaint",
        "registered",
        "受理登记",
        ["facts"],
    )
    case = _walk(api, ticket.id, *TO_FOLLOW_UP)
    assert (case["stage"], case["status"], case["root_cause"]) == (
        "following_up",
        "resolved",
        "为什么挤压？易碎品只用了单层包装",
    )
    assert case["missing"] == ["confirmation_or_rating"]
    case = _walk(
        api,
        ticket.id,
        {"action": "record_feedback", "confirmed": True, "rating": 5},
        {"action": "archive", "lesson": "易碎品一律双层包装"},
    )
    assert (case["stage"], case["status"], case["missing"], case["lesson"]) == (
        "archived",
        "closed",
        [],
        "易碎品一律双层包装",
    )
    detail = api.get(f"/api/v1/tickets/{ticket.id}").json()
    assert (
        detail["stage"] == "archived"
        and detail["closed_at"] is not None
        and detail["resolved_at"] is not None
    )

    summaries = [e["summary"] for e in api.get(f"/api/v1/tickets/{ticket.id}/timeline").json()]
    assert summaries[0].startswith("客户：买的杯子到货就裂了")
    stages = [s for s in summaries if s.startswith("进入")]
    assert stages == [
        "进入「分析评估」",
        "进入「处理解决」",
        "进入「跟进反馈」",
        "进入「总结归档」",
    ]
    steps = db.scalars(
        select(AuditEvent.after)
        .where(AuditEvent.action == "case.step", AuditEvent.ticket_id == ticket.id)
        .order_by(AuditEvent.id)
    ).all()
    assert [s["step"] for s in steps] == [
        "facts",
        "stage:analyzing",
        "analysis",
        "stage:resolving",
        "solution",
        "stage:following_up",
        "feedback",
        "stage:archived",
    ]


def test_a_step_the_case_is_not_ready_for_says_what_is_missing_and_changes_nothing(db, api):
    ticket = _complaint(db)
    refused = _step(api, ticket.id, action="advance")
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "missing_data" and error["details"]["missing"] == ["facts"]
    assert error["message"] == "「受理登记」还缺少：关键信息"
    message = api.post(
        f"/api/v1/tickets/{ticket.id}/steps",
        json={"action": "advance"},
        headers={"Accept-Language": "en"},
    ).json()["error"]["message"]
    assert message == "registered still needs: facts"
    wrong = _step(api, ticket.id, action="archive", lesson="x")
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (409, "wrong_stage")
    for bad in (
        {"action": "fly"},
        {"action": "record_facts", "facts": "  "},
        {"action": "record_feedback", "confirmed": True, "rating": 9},
        {
            "action": "propose_solution",
            "solution": "x",
            "compensation": {"kind": "cash", "amount_yuan": "-1"},
        },
        {
            "action": "propose_solution",
            "solution": "x",
            "compensation": {"kind": "cash", "amount_yuan": "1.234"},
        },
        {"action": "wait", "on": "moon"},
    ):
        response = _step(api, ticket.id, **bad)
        assert response.status_code == 422, bad
        assert response.json()["error"]["code"] == "validation_error"
    assert api.get(f"/api/v1/tickets/{ticket.id}/case").json()["stage"] == "registered"
    assert not db.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "case.step")
    )


def test_a_complaint_cannot_be_resolved_by_a_status_change_but_a_question_can(db, api):
    ticket = _complaint(db)
    refused = api.patch(f"/api/v1/tickets/{ticket.id}", json={"status": "resolved"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "steps_required"
    assert (
        api.patch(f"/api/v1/tickets/{ticket.id}", json={"status": "pending"}).json()["waiting_on"]
        == "customer"
    )
    question = factories.make_ticket(db, text="请问周末营业吗？", intent="inquiry")
    done = api.patch(f"/api/v1/tickets/{question.id}", json={"status": "resolved"}).json()
    assert (done["status"], done["stage"], done["case_path"]) == ("resolved", "resolved", "short")


def test_a_question_that_turns_out_to_be_a_complaint_takes_the_complaint_path(db, api):
    ticket = factories.make_ticket(db, text="请问杯子怎么退？", intent="inquiry")
    changed = api.patch(f"/api/v1/tickets/{ticket.id}", json={"intent": "complaint"}).json()
    assert (changed["case_path"], changed["stage"]) == ("complaint", "registered")


def test_compensation_above_authority_needs_an_approval_by_someone_whose_authority_covers_it(
    db, api, admin, client_for
):
    group = factories.make_group(db, name="售后组")
    agent = factories.make_user(db, role="agent", groups=[group])
    specialist = factories.make_user(db, role="specialist", groups=[group])
    supervisor = factories.make_user(db, role="supervisor", groups=[group])
    ticket = _complaint(db, group=group)
    as_agent, as_specialist, as_supervisor = (
        client_for(agent),
        client_for(specialist),
        client_for(supervisor),
    )
    _walk(as_agent, ticket.id, *TO_FOLLOW_UP[:4])
    case = _walk(
        as_agent,
        ticket.id,
        {
            "action": "propose_solution",
            "solution": "退款并补偿",
            "compensation": {"kind": "cash", "amount_yuan": "300"},
        },
    )
    assert case["compensation"] == {
        "kind": "cash",
        "amount_yuan": "300.00",
        "proposed_by": "agent",
        "approved_by": None,
        "rejected_by": None,
        "comment": "",
        "approval_needed_by": "supervisor",
    }
    assert case["missing"] == ["approval"]
    notice = db.scalars(select(Notification).where(Notification.kind == "case.approval")).all()
    assert [n.user_id for n in notice] == [supervisor.id] and "需要主管审批" in notice[0].body
    blocked = _step(as_agent, ticket.id, action="advance")
    assert blocked.status_code == 409 and blocked.json()["error"]["details"]["missing"] == [
        "approval"
    ]
    too_small = _step(as_specialist, ticket.id, action="approve")
    assert too_small.status_code == 403 and too_small.json()["error"]["code"] == "above_authority"
    assert too_small.json()["error"]["message"] == "该补偿超出你的授权，需要主管审批"
    approved = _walk(as_supervisor, ticket.id, {"action": "approve"})
    assert (approved["step"], approved["compensation"]["approved_by"], approved["missing"]) == (
        "approved:supervisor",
        "supervisor",
        [],
    )
    assert _walk(as_agent, ticket.id, {"action": "advance"})["stage"] == "following_up"
    db.rollback()
    steps = db.execute(
        select(AuditEvent.actor_id, AuditEvent.after).where(
            AuditEvent.action == "case.step", AuditEvent.ticket_id == ticket.id
        )
    ).all()
    assert [who for who, after in steps if after["step"] == "approved:supervisor"] == [
        supervisor.id
    ]
    # Above every supervisor's authority, the admins are asked.
    big = _complaint(db, group=group)
    _walk(as_agent, big.id, *TO_FOLLOW_UP[:4])
    _walk(
        as_agent,
        big.id,
        {
            "action": "propose_solution",
            "solution": "全额赔偿",
            "compensation": {"kind": "cash", "amount_yuan": "5000"},
        },
    )
    db.rollback()
    asked = db.scalars(
        select(Notification.user_id).where(
            Notification.kind == "case.approval", Notification.ticket_id == big.id
        )
    ).all()
    assert asked == [admin.id]
    assert _step(as_supervisor, big.id, action="approve").status_code == 403
    # Within the agent's own authority, nobody is asked.
    small = _complaint(db, group=group)
    _walk(as_agent, small.id, *TO_FOLLOW_UP[:4])
    case = _walk(
        as_agent,
        small.id,
        {
            "action": "propose_solution",
            "solution": "送券",
            "compensation": {"kind": "coupon", "amount_yuan": "50"},
        },
    )
    assert case["missing"] == [] and case["compensation"]["approval_needed_by"] is None


@pytest.fixture
def generous_app(settings, engine, tmp_path):
    """A second kefu app on the same database whose agents may grant ¥100 alone."""
    generous = Settings(
        env="test",
        data_dir=tmp_path,
        database_url=settings.resolved_database_url,
        authority_agent_yuan=100,
        log_level="WARNING",
        sla_sweep_in_server=False,  # as in every test app: the tests drive the sweep themselves
    )
    return create_app(generous, engine=engine)


def test_a_status_change_judges_compensation_by_the_configured_authority(db, generous_app):
    group = factories.make_group(db, name="售后组")
    agent = factories.make_user(db, role="agent", groups=[group])
    ticket = _complaint(db, group=group)
    token = factories.make_token(db, agent)
    with TestClient(generous_app, headers={"Authorization": f"Bearer {token}"}) as as_agent:
        _walk(as_agent, ticket.id, *TO_FOLLOW_UP[:4])
        case = _walk(
            as_agent,
            ticket.id,
            {
                "action": "propose_solution",
                "solution": "补发并送券",
                "compensation": {"kind": "coupon", "amount_yuan": "80"},
            },
        )
        assert case["missing"] == [] and case["compensation"]["approval_needed_by"] is None
        # A complaint still takes its steps, but nothing is missing under this team's limits.
        refused = as_agent.patch(f"/api/v1/tickets/{ticket.id}", json={"status": "resolved"})
        assert api_error(refused, 409, "steps_required")["details"]["missing"] == []


def test_waiting_on_a_third_party_pauses_the_clocks_and_a_customer_message_does_not_end_it(
    integration, db, api
):
    ticket_id = _inbound(integration, "wait-1", COMPLAINT)
    waiting = _walk(api, ticket_id, {"action": "wait", "on": "third_party"})
    assert (waiting["status"], waiting["waiting_on"]) == ("pending", "third_party")
    clocks = api.get(f"/api/v1/tickets/{ticket_id}").json()["sla"]
    assert clocks and all(c["state"] == "paused" for c in clocks)
    assert _inbound(integration, "wait-2", "快递那边有消息了吗？") == ticket_id
    assert api.get(f"/api/v1/tickets/{ticket_id}/case").json()["waiting_on"] == "third_party"
    resumed = _walk(api, ticket_id, {"action": "resume"})
    assert (resumed["status"], resumed["waiting_on"]) == ("open", None)
    _walk(api, ticket_id, {"action": "wait", "on": "customer"})
    assert _inbound(integration, "wait-3", "照片发给你们了") == ticket_id
    case = api.get(f"/api/v1/tickets/{ticket_id}/case").json()
    assert (case["status"], case["waiting_on"]) == ("open", None)
    steps = db.scalars(
        select(AuditEvent.after).where(AuditEvent.action == "case.step").order_by(AuditEvent.id)
    ).all()
    assert [s["step"] for s in steps] == ["wait:third_party", "resume", "wait:customer", "resume"]


def test_a_wait_with_an_agreed_time_shows_it_until_the_customer_ends_the_wait(integration, db, api):
    ticket_id = _inbound(integration, "until-1", COMPLAINT)
    past = _step(api, ticket_id, action="wait", on="customer", until="2020-01-01T00:00:00Z")
    assert api_error(past, 422, "bad_wait_until")
    naive = _step(api, ticket_id, action="wait", on="customer", until="2030-01-01T08:00:00")
    assert api_error(naive, 422, "validation_error")
    waiting = _walk(
        api, ticket_id, {"action": "wait", "on": "customer", "until": "2030-01-01T08:00:00+08:00"}
    )
    assert waiting["waiting_until"] == "2030-01-01T00:00:00Z"
    assert _inbound(integration, "until-2", "照片发给你们了") == ticket_id  # intake ends the wait
    case = api.get(f"/api/v1/tickets/{ticket_id}/case").json()
    assert (case["waiting_on"], case["waiting_until"]) == (None, None)


def test_a_supervisor_rejects_a_compensation_saying_why_and_the_agent_revises_it(
    db, api, client_for
):
    group = factories.make_group(db)
    agent = factories.make_user(db, role="agent", groups=[group])
    supervisor = factories.make_user(db, role="supervisor", groups=[group])
    ticket = _complaint(db, group=group)
    as_agent, as_supervisor = client_for(agent), client_for(supervisor)
    _walk(as_agent, ticket.id, *TO_FOLLOW_UP[:4])
    comp = {"kind": "cash", "amount_yuan": "300"}
    _walk(
        as_agent,
        ticket.id,
        {"action": "propose_solution", "solution": "退款", "compensation": comp},
    )
    assert api_error(
        _step(as_supervisor, ticket.id, action="reject", comment=" "), 422, "validation_error"
    )
    assert api_error(
        _step(as_agent, ticket.id, action="reject", comment="不行"), 403, "above_authority"
    )
    rejected = _walk(as_supervisor, ticket.id, {"action": "reject", "comment": "先补发"})
    assert rejected["step"] == "rejected:supervisor"
    assert (rejected["compensation"]["rejected_by"], rejected["compensation"]["comment"]) == (
        "supervisor",
        "先补发",
    )
    assert rejected["missing"] == ["revised_solution"]
    refused = _step(as_agent, ticket.id, action="advance")
    assert api_error(refused, 409, "missing_data")["message"] == (
        "「处理解决」还缺少：修改后的解决方案（补偿被驳回）"
    )
    assert _step(as_supervisor, ticket.id, action="reject", comment="x").status_code == 409
    summaries = [e["summary"] for e in api.get(f"/api/v1/tickets/{ticket.id}/timeline").json()]
    assert "补偿被驳回（supervisor）：先补发" in summaries
    revised = _walk(as_agent, ticket.id, {"action": "propose_solution", "solution": "补发"})
    assert revised["compensation"] is None and revised["missing"] == []


def test_a_customer_reply_in_follow_up_is_feedback_and_after_archiving_it_reopens(
    integration, db, api
):
    agent = factories.make_user(db, role="agent")
    ticket_id = _inbound(integration, "re-1", COMPLAINT)
    api.post(f"/api/v1/tickets/{ticket_id}/assign", json={"assignee_id": agent.id})
    _walk(api, ticket_id, *TO_FOLLOW_UP)
    assert _inbound(integration, "re-2", "收到新杯子了，谢谢") == ticket_id
    case = api.get(f"/api/v1/tickets/{ticket_id}/case").json()
    assert (case["stage"], case["status"], case["reopen_count"]) == ("following_up", "resolved", 0)
    assert (
        db.scalar(select(Notification.user_id).where(Notification.kind == "case.customer_feedback"))
        == agent.id
    )
    _walk(
        api,
        ticket_id,
        {"action": "record_feedback", "confirmed": True, "rating": 4},
        {"action": "archive", "lesson": "易碎品双层包装"},
    )
    assert _inbound(integration, "re-3", "新杯子也裂了！") == ticket_id
    case = api.get(f"/api/v1/tickets/{ticket_id}/case").json()
    assert (case["stage"], case["status"], case["reopen_count"]) == ("resolving", "open", 1)
    assert (
        case["rating"] is None
        and not case["customer_confirmed"]
        and case["solution"] == "补发新杯子"
    )
    ticket = api.get(f"/api/v1/tickets/{ticket_id}").json()
    assert ticket["closed_at"] is None and ticket["resolved_at"] is None
    assert "重新打开" in [
        e["summary"] for e in api.get(f"/api/v1/tickets/{ticket_id}/timeline").json()
    ]


def test_a_customer_writing_after_the_reopen_window_gets_a_new_case_linked_to_the_old(
    integration, db, api
):
    first = _inbound(integration, "late-1", "请问周末可以送货吗？")
    assert api.patch(f"/api/v1/tickets/{first}", json={"status": "resolved"}).status_code == 200
    ticket = db.get(Ticket, first)
    ticket.resolved_at -= timedelta(days=8)
    db.commit()
    second = _inbound(integration, "late-2", "上次问的送货，今天还能送吗？")
    assert second != first
    assert api.get(f"/api/v1/tickets/{second}/links").json()[0] | {"created_at": None} == {
        "ticket_id": first,
        "kind": "follow_up",
        "direction": "earlier",
        "created_at": None,
    }
    assert api.get(f"/api/v1/tickets/{first}/links").json()[0]["direction"] == "later"
    assert api.get(f"/api/v1/tickets/{first}").json()["reopen_count"] == 0


def test_a_second_complaint_about_the_same_within_30_days_is_a_repeat_linked_and_raised(
    integration, db, api
):
    first = _inbound(integration, "rep-1", "快递五天了还没到，怎么回事")
    assert api.get(f"/api/v1/tickets/{first}").json()["category"] == "logistics"
    api.post(f"/api/v1/tickets/{first}/messages", json={"text": "已为您催促快递"})
    db.get(Ticket, first).status = "closed"  # an earlier case, long done
    db.commit()
    second = _inbound(integration, "rep-2", ANGRY_AGAIN, ticket_id=None)
    assert second != first
    ticket = api.get(f"/api/v1/tickets/{second}").json()
    assert ticket["repeat_complaint"] is True and ticket["priority"] == "P2"
    assert ticket["priority_reason"].startswith(f"P2：30天内重复投诉（此前 #{first}）")
    kinds = {
        (link["ticket_id"], link["kind"])
        for link in api.get(f"/api/v1/tickets/{second}/links").json()
    }
    assert (first, "repeat_complaint") in kinds
    # Another customer, or another matter, is no repeat.
    other = _inbound(integration, "rep-3", ANGRY_AGAIN, sender="wx-someone-else")
    assert api.get(f"/api/v1/tickets/{other}").json()["repeat_complaint"] is False
    db.get(Ticket, second).status = "closed"
    db.commit()
    quality = _inbound(integration, "rep-4", "杯子质量太差了，一用就裂")
    assert quality not in (first, second)
    assert api.get(f"/api/v1/tickets/{quality}").json()["category"] == "quality"
    assert api.get(f"/api/v1/tickets/{quality}").json()["repeat_complaint"] is False


def test_a_complaint_older_than_the_window_is_no_repeat_and_a_person_confirming_the_category_flags_one(
    db, api
):
    old = factories.make_ticket(db, text="快递太慢", intent="complaint", category="logistics")
    db.get(Ticket, old.id).created_at -= timedelta(days=31)
    recent = factories.make_ticket(
        db, customer=old.customer, text="快递又慢", intent="complaint", category="logistics"
    )
    db.commit()
    new = factories.make_ticket(
        db, customer=old.customer, text="东西坏了", intent="complaint", category="quality"
    )
    changed = api.patch(f"/api/v1/tickets/{new.id}", json={"category": "logistics"}).json()
    assert changed["repeat_complaint"] is True
    links = db.scalars(
        select(TicketLink.linked_ticket_id).where(
            TicketLink.ticket_id == new.id, TicketLink.kind == "repeat_complaint"
        )
    ).all()
    assert links == [recent.id]
    assert (
        db.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "ticket.repeat_complaint")
        )
        == 1
    )


def test_merging_a_duplicate_moves_its_messages_and_closes_it(db, api):
    customer = factories.make_customer(db)
    kept = factories.make_ticket(db, customer=customer, text="杯子碎了", tags=["易碎"])
    duplicate = factories.make_ticket(
        db, customer=customer, text="杯子碎了，上午已经说过", priority="P2", tags=["催单"]
    )
    response = api.post(f"/api/v1/tickets/{duplicate.id}/merge", json={"into_ticket_id": kept.id})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == kept.id and body["priority"] == "P2" and body["tags"] == ["催单", "易碎"]
    assert (
        db.scalar(select(func.count()).select_from(Message).where(Message.ticket_id == kept.id))
        == 2
    )
    gone = api.get(f"/api/v1/tickets/{duplicate.id}").json()
    assert (gone["status"], gone["merged_into_id"], gone["messages"]) == ("closed", kept.id, [])
    assert api.get(f"/api/v1/tickets/{kept.id}/links").json()[0]["kind"] == "merged"
    assert any(
        e["summary"] == f"合并了重复工单 #{duplicate.id}（移入 1 条消息）"
        for e in api.get(f"/api/v1/tickets/{kept.id}/timeline").json()
    )
    assert any(
        e["summary"] == f"已作为重复工单合并到 #{kept.id}"
        for e in api.get(f"/api/v1/tickets/{duplicate.id}/timeline").json()
    )
    again = api.post(f"/api/v1/tickets/{duplicate.id}/merge", json={"into_ticket_id": kept.id})
    assert (again.status_code, again.json()["error"]["code"]) == (409, "ticket_merged")
    patch = api.patch(f"/api/v1/tickets/{duplicate.id}", json={"status": "open"})
    assert (patch.status_code, patch.json()["error"]["code"]) == (409, "ticket_merged")


def test_a_message_naming_a_merged_ticket_goes_to_the_case_it_was_merged_into(integration, db, api):
    first = _inbound(integration, "mg-1", "请问发票怎么开？", sender="wx-merge")
    second = factories.make_ticket(
        db, customer=db.get(Ticket, first).customer, text="发票抬头写公司名"
    ).id
    assert (
        api.post(f"/api/v1/tickets/{second}/merge", json={"into_ticket_id": first}).status_code
        == 200
    )
    assert (
        _inbound(integration, "mg-3", "补充一下税号", sender="wx-merge", ticket_id=second) == first
    )


def test_merge_refuses_itself_another_customers_case_and_what_the_caller_cannot_see(
    db, api, client_for
):
    a = factories.make_ticket(db)
    b = factories.make_ticket(db)
    same = api.post(f"/api/v1/tickets/{a.id}/merge", json={"into_ticket_id": a.id})
    assert (same.status_code, same.json()["error"]["code"]) == (422, "merge_same_ticket")
    other = api.post(f"/api/v1/tickets/{a.id}/merge", json={"into_ticket_id": b.id})
    assert (other.status_code, other.json()["error"]["code"]) == (409, "merge_other_customer")
    hidden_group = factories.make_group(db, name="合规组")
    hidden = factories.make_ticket(db, customer=a.customer, group=hidden_group)
    agent = client_for(
        factories.make_user(db, role="agent", groups=[factories.make_group(db, name="售前组")])
    )
    for response in (
        agent.post(f"/api/v1/tickets/{a.id}/merge", json={"into_ticket_id": hidden.id}),
        agent.get(f"/api/v1/tickets/{hidden.id}/timeline"),
        agent.get(f"/api/v1/tickets/{hidden.id}/case"),
        agent.post(f"/api/v1/tickets/{hidden.id}/steps", json={"action": "advance"}),
    ):
        assert response.status_code == 404
    assert db.get(Ticket, a.id).merged_into_id is None


def test_people_link_related_cases_both_ways(db, api):
    a = factories.make_ticket(db)
    b = factories.make_ticket(db)
    created = api.post(f"/api/v1/tickets/{a.id}/links", json={"ticket_id": b.id})
    assert created.status_code == 201 and created.json()["direction"] == "later"
    assert (
        api.post(f"/api/v1/tickets/{a.id}/links", json={"ticket_id": b.id}).status_code == 201
    )  # idempotent
    assert [
        (link["ticket_id"], link["direction"])
        for link in api.get(f"/api/v1/tickets/{b.id}/links").json()
    ] == [(a.id, "earlier")]
    assert db.scalar(select(func.count()).select_from(TicketLink)) == 1


def test_linking_a_ticket_to_itself_is_refused_as_a_self_link_not_as_a_merge(db, api):
    a = factories.make_ticket(db)
    error = api_error(
        api.post(f"/api/v1/tickets/{a.id}/links", json={"ticket_id": a.id}), 422, "self_link"
    )
    assert "关联" in error["message"] and "合并" not in error["message"]
    english = api.post(
        f"/api/v1/tickets/{a.id}/links",
        json={"ticket_id": a.id},
        headers={"Accept-Language": "en"},
    )
    assert english.json()["error"]["message"] == "A ticket cannot be linked to itself"
    assert db.scalar(select(func.count()).select_from(TicketLink)) == 0


def test_the_case_list_filters_by_stage_and_repeat_complaints(db, api):
    complaint = _complaint(db)
    question = factories.make_ticket(db, text="请问周末营业吗？", intent="inquiry")
    _walk(api, complaint.id, *TO_FOLLOW_UP[:2])
    db.get(Ticket, question.id).repeat_complaint = True
    db.commit()

    def ids(**params):
        return {t["id"] for t in api.get("/api/v1/tickets", params=params).json()["items"]}

    assert ids(stage="analyzing") == {complaint.id}
    assert ids(stage=["open", "analyzing"]) == {complaint.id, question.id}
    assert ids(repeat_complaint=True) == {question.id} and ids(repeat_complaint=False) == {
        complaint.id
    }
    assert api.get("/api/v1/tickets", params={"stage": "lost"}).status_code == 422
