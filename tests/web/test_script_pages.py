"""/scripts: the supervisor's page of the script library — browse, edit as a new version, the
versions, review proposals; agents are refused; text is escaped and placeholders marked."""

from __future__ import annotations

from sqlalchemy import select

from kefu.db.models import AuditEvent, Script
from kefu.services.actors import SYSTEM
from kefu.services.scripts import library
from kefu.services.scripts.starter import ensure_starter_library
from tests import factories


def _library(db):
    ensure_starter_library(db)
    db.commit()
    return db.scalar(select(Script).where(Script.key == "kefu.retail.logistics-delay.1"))


def test_the_library_page_browses_by_type_and_scenario_and_marks_placeholders(db, sign_in):
    script = _library(db)
    browser = sign_in(factories.make_user(db, role="supervisor"))
    page = browser.client.get("/scripts", params={"scenario": script.scenario_id})
    assert page.status_code == 200
    for words in ("话术库", "咨询", "投诉", "建议", "表扬", "物流延迟致歉", "延迟致歉并加急"):
        assert words in page.text
    assert '<mark class="placeholder">[单号]</mark>' in page.text
    assert 'href="/scripts"' in page.text  # in the side navigation


def test_an_edit_makes_a_new_version_listed_on_the_page(db, sign_in):
    script = _library(db)
    supervisor = factories.make_user(db, role="supervisor")
    browser = sign_in(supervisor)
    saved = browser.form(f"/scripts/{script.id}", {
        "title": "延迟致歉", "body": "<b>订单[单号]</b>晚了，已加急。", "note": "更短"})  # fmt: skip
    assert saved.status_code == 303 and saved.headers["location"] == f"/scripts/{script.id}?saved=1"
    page = browser.client.get(f"/scripts/{script.id}?saved=1")
    assert "v2" in page.text and "更短" in page.text and "kefu 初始话术库" in page.text
    assert "&lt;b&gt;订单" in page.text and "<b>订单" not in page.text
    db.rollback()
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "script.update"))
    assert event.actor_id == supervisor.id
    refused = browser.form(f"/scripts/{script.id}", {"title": "", "body": "x", "note": ""})
    assert refused.status_code == 422 and 'aria-invalid="true"' in refused.text


def test_proposals_are_published_or_rejected_from_the_page(db, sign_in):
    _library(db)
    scenario = db.scalar(select(library.ScriptScenario))
    proposed = [
        library.create_script(
            db,
            SYSTEM,
            scenario=scenario,
            title=f"提议{n}",
            body="您好[客户称呼]",
            status="proposed",
        )  # fmt: skip
        for n in (1, 2)
    ]
    db.commit()
    browser = sign_in(factories.make_user(db, role="admin"))
    page = browser.client.get("/scripts/proposals")
    assert "提议1" in page.text and "提议2" in page.text
    done = browser.form(f"/scripts/{proposed[0].id}/review", {"decision": "publish", "note": ""})
    assert done.headers["location"] == "/scripts/proposals?done=publish"
    browser.form(f"/scripts/{proposed[1].id}/review", {"decision": "reject", "note": "重复"})
    again = browser.form(f"/scripts/{proposed[1].id}/review", {"decision": "publish"})
    assert again.headers["location"] == "/scripts/proposals?done=error"
    db.rollback()
    statuses = db.execute(
        select(Script.id, Script.status).where(Script.id.in_([p.id for p in proposed]))
    )
    assert sorted(statuses) == [(proposed[0].id, "published"), (proposed[1].id, "retired")]
    assert "没有待审核的话术" in browser.client.get("/scripts/proposals").text


def test_agents_may_not_open_the_library_pages(db, sign_in):
    script = _library(db)
    browser = sign_in(factories.make_user(db, role="agent"))
    for path in ("/scripts", "/scripts/proposals", f"/scripts/{script.id}"):
        assert browser.client.get(path).status_code == 403
    assert browser.form(f"/scripts/{script.id}", {"title": "x", "body": "y"}).status_code == 403
    assert 'href="/scripts"' not in browser.client.get("/inbox").text
