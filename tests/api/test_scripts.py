"""/api/v1/scripts: the tree, editing as versions, proposals and review, filling, import/export."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kefu.db.models import AuditEvent, Script
from kefu.services.scripts.starter import ensure_starter_library
from tests import factories
from tests.checks import api_error


@pytest.fixture
def library(db):
    ensure_starter_library(db)
    db.commit()


@pytest.fixture
def people(db, client_for):
    group = factories.make_group(db, "售后组")
    agent = factories.make_user(db, role="agent", groups=[group], name="王磊")
    supervisor = factories.make_user(db, role="supervisor", groups=[group], name="周敏")
    return group, agent, supervisor, client_for(agent), client_for(supervisor)


def _script_id(db, key):
    return db.scalar(select(Script.id).where(Script.key == key))


def test_the_tree_goes_type_scenario_script_and_agents_see_only_published(db, library, people):
    *_, agent_api, supervisor_api = people
    draft = supervisor_api.post("/api/v1/scripts", json={
        "scenario_id": 1, "title": "草稿", "body": "草稿内容", "status": "draft"})  # fmt: skip
    assert draft.status_code == 201, draft.text
    tree = agent_api.get("/api/v1/scripts/tree").json()
    assert [node["type"] for node in tree] == ["inquiry", "complaint", "suggestion", "praise"]
    complaint = {s["name"]: s for s in tree[1]["scenarios"]}
    assert complaint["物流延迟致歉"]["industry"] == "retail"
    assert {s["status"] for n in tree for sc in n["scenarios"] for s in sc["scripts"]} == {
        "published"
    }
    assert agent_api.get(f"/api/v1/scripts/{draft.json()['id']}").status_code == 404
    full = supervisor_api.get("/api/v1/scripts/tree", params={"industry": "general"}).json()
    names = [s["title"] for n in full for sc in n["scenarios"] for s in sc["scripts"]]
    assert "草稿" in names and "超时致歉与补偿" not in names


def test_an_edit_is_a_new_version_with_author_and_note_and_is_audited(db, library, people):
    _, _, supervisor, agent_api, supervisor_api = people
    script_id = _script_id(db, "kefu.retail.logistics-delay.1")
    changed = supervisor_api.patch(f"/api/v1/scripts/{script_id}", json={
        "body": "订单[单号]晚到了，我们已经加急。", "note": "更口语"})  # fmt: skip
    assert changed.status_code == 200, changed.text
    assert changed.json()["current_version"] == 2
    versions = agent_api.get(f"/api/v1/scripts/{script_id}/versions").json()
    assert [(v["number"], v["author_id"], v["note"]) for v in versions] == [
        (2, supervisor.id, "更口语"), (1, None, "kefu 初始话术库")]  # fmt: skip
    retitled = supervisor_api.patch(f"/api/v1/scripts/{script_id}", json={
        "conditions": {"intents": ["complaint"]}})  # fmt: skip
    assert retitled.json()["current_version"] == 2  # conditions are no new text
    db.rollback()  # a fresh snapshot: the server wrote since
    trail = db.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "script",
                                                       AuditEvent.object_id == script_id)).all()  # fmt: skip
    assert trail.count("script.update") == 2
    api_error(agent_api.patch(f"/api/v1/scripts/{script_id}", json={"body": "x"}), 403, "forbidden")
    api_error(supervisor_api.patch(f"/api/v1/scripts/{script_id}", json={"role": "ending"}), 422,
              "validation_error")  # fmt: skip
    api_error(supervisor_api.patch(f"/api/v1/scripts/{script_id}", json={"body": None}), 422,
              "validation_error")  # fmt: skip


def test_an_agent_proposes_their_own_reply_and_a_supervisor_publishes_or_rejects(
    db, library, people
):
    group, agent, _, agent_api, supervisor_api = people
    ticket = factories.make_ticket(db, group=group)
    sent = agent_api.post(f"/api/v1/tickets/{ticket.id}/messages", json={
        "text": "王先生您好，SL20240001已经给您加急了，今天一定发出。"}).json()  # fmt: skip
    proposal = {"message_id": sent["id"], "scenario_id": 1, "title": "加急发货"}
    body = {**proposal, "body": "[客户称呼]您好，[单号]已经给您加急了，今天一定发出。"}
    made = agent_api.post("/api/v1/scripts/proposals", json=body)
    assert made.status_code == 201, made.text
    assert (made.json()["status"], made.json()["created_by_id"]) == ("proposed", agent.id)
    api_error(agent_api.post(f"/api/v1/scripts/{made.json()['id']}/review",
                             json={"decision": "publish"}), 403, "forbidden")  # fmt: skip
    published = supervisor_api.post(f"/api/v1/scripts/{made.json()['id']}/review",
                                    json={"decision": "publish", "note": "好用"})  # fmt: skip
    assert published.json()["status"] == "published"
    api_error(supervisor_api.post(f"/api/v1/scripts/{made.json()['id']}/review",
                                  json={"decision": "reject"}), 409, "not_proposed")  # fmt: skip
    second = agent_api.post("/api/v1/scripts/proposals", json=proposal).json()
    assert second["body"] == "王先生您好，SL20240001已经给您加急了，今天一定发出。"
    rejected = supervisor_api.post(f"/api/v1/scripts/{second['id']}/review",
                                   json={"decision": "reject", "note": "和已有话术重复"}).json()  # fmt: skip
    assert (rejected["status"], rejected["review_note"]) == ("retired", "和已有话术重复")


def test_only_ones_own_sent_reply_can_be_proposed(db, library, people, client_for):
    group, _, _, agent_api, supervisor_api = people
    ticket = factories.make_ticket(db, group=group)
    customer_message = ticket.messages[0].id
    api_error(agent_api.post("/api/v1/scripts/proposals", json={
        "message_id": customer_message, "scenario_id": 1, "title": "x"}), 422, "not_own_reply")  # fmt: skip
    theirs = supervisor_api.post(
        f"/api/v1/tickets/{ticket.id}/messages", json={"text": "好的"}
    ).json()
    api_error(agent_api.post("/api/v1/scripts/proposals", json={
        "message_id": theirs["id"], "scenario_id": 1, "title": "x"}), 422, "not_own_reply")  # fmt: skip
    db.rollback()  # a fresh snapshot before writing: the server wrote since
    elsewhere = factories.make_ticket(db, group=factories.make_group(db, "别组"))
    outsider = client_for(factories.make_user(db, role="agent"))
    api_error(outsider.post("/api/v1/scripts/proposals", json={
        "message_id": elsewhere.messages[0].id, "scenario_id": 1, "title": "x"}), 404, "not_found")  # fmt: skip


def test_fill_composes_for_the_case_and_marks_the_unfilled(db, library, people, client_for):
    group, _, _, agent_api, _ = people
    customer = factories.make_customer(db, name="赵云")
    ticket = factories.make_ticket(db, group=group, customer=customer, intent="complaint",
                                   category="logistics", text="订单SL20240777怎么还没到")  # fmt: skip
    script_id = _script_id(db, "kefu.retail.logistics-delay.1")
    filled = agent_api.post(f"/api/v1/scripts/{script_id}/fill", params={"ticket_id": ticket.id})
    assert filled.status_code == 200, filled.text
    text = filled.json()["text"]
    assert text.startswith("赵先生/女士，您好！我是客服王磊") and "SL20240777" in text
    for gap in filled.json()["unfilled"]:
        assert text[gap["start"] : gap["end"]] == gap["raw"] == f"[{gap['name']}]"
    assert [g["name"] for g in filled.json()["unfilled"]] == ["处理时限"]
    outsider = client_for(factories.make_user(db, role="agent", groups=[factories.make_group(db)]))
    api_error(outsider.post(f"/api/v1/scripts/{script_id}/fill", params={"ticket_id": ticket.id}),
              404, "not_found")  # fmt: skip


def test_import_and_export_through_the_api(db, people):
    *_, agent_api, supervisor_api = people
    text = ("version: 1\nscenarios:\n  - type: praise\n    name: 表扬致谢\n    scripts:\n"
            "      - key: team.thanks\n        title: 谢谢\n        body: 谢谢[客户称呼]！\n")  # fmt: skip
    done = supervisor_api.post("/api/v1/scripts/import", json={"yaml": text})
    assert done.json() == {
        "scenarios_created": 1,
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "kept": 0,
    }
    exported = supervisor_api.get("/api/v1/scripts/export")
    assert exported.headers["content-type"].startswith("application/yaml")
    assert "key: team.thanks" in exported.text and "谢谢[客户称呼]！" in exported.text
    bad = supervisor_api.post(
        "/api/v1/scripts/import", json={"yaml": text.replace("praise", "joy")}
    )
    error = api_error(bad, 422, "invalid_library")
    assert error["details"]["errors"][0]["line"] == 3
    api_error(agent_api.get("/api/v1/scripts/export"), 403, "forbidden")
    api_error(agent_api.post("/api/v1/scripts/import", json={"yaml": text}), 403, "forbidden")
