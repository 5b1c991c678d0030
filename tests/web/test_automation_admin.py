"""``/admin/automations``: an admin writes a trigger from condition and action rows, turns it off
and reorders it; a trigger that could skip a complaint's steps is refused with a clear message;
everyone else gets 403."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import AutomationTrigger, ServiceTimingRecord, User
from tests import factories
from tests.web.conftest import SignIn

FORM = {
    "name": "网聊加急", "on": "created", "after_since": "created_at", "after_hours": "",
    "cond_field": ["channel", "", ""], "cond_op": ["is", "is", "is"],
    "cond_values": ["webchat，wechat", "", ""],
    "act_type": ["set_field", "tag", ""], "act_arg": ["priority", "加急", ""],
    "act_value": ["P1", "", ""], "active": "on",
}  # fmt: skip


def test_an_admin_writes_turns_off_and_reorders_triggers(
    sign_in: SignIn, db: Session, admin: User
) -> None:
    browser = sign_in(admin)
    made = browser.form("/admin/automations", FORM)  # type: ignore[arg-type]
    assert made.status_code == 303, made.text[:2000]
    row = db.scalar(select(AutomationTrigger))
    assert row.definition == {
        "on": "created",
        "conditions": [{"field": "channel", "op": "is", "values": ["webchat", "wechat"]}],
        "actions": [
            {"type": "set_field", "field": "priority", "value": "P1"},
            {"type": "tag", "tag": "加急"},
        ],
    }
    page = browser.client.get(made.headers["location"])
    assert page.status_code == 200 and 'value="webchat，wechat"' in page.text
    second = browser.form("/admin/automations", {**FORM, "name": "第二条"})  # type: ignore[arg-type]
    assert second.status_code == 303
    assert browser.form(f"/admin/automations/{row.id}/toggle").status_code == 303
    assert (
        browser.form(f"/admin/automations/{row.id}/move", {"direction": "down"}).status_code == 303
    )
    listing = browser.client.get("/admin/automations")
    assert listing.status_code == 200 and "自动化规则" in listing.text
    assert listing.text.index("第二条") < listing.text.index("网聊加急")
    db.rollback()
    rows = db.scalars(select(AutomationTrigger).order_by(AutomationTrigger.position)).all()
    assert [(r.name, r.active) for r in rows] == [("第二条", True), ("网聊加急", False)]


def test_a_trigger_that_could_close_complaints_is_refused_with_a_clear_message(
    sign_in: SignIn, db: Session, admin: User
) -> None:
    browser = sign_in(admin)
    closing = {**FORM, "cond_field": ["", "", ""], "act_type": ["set_field", "", ""],
               "act_arg": ["status", "", ""], "act_value": ["closed", "", ""]}  # fmt: skip
    refused = browser.form("/admin/automations", closing)  # type: ignore[arg-type]
    assert refused.status_code == 422
    assert "自动化规则无效" in refused.text and "short path" in refused.text
    assert 'value="网聊加急"' in refused.text  # the admin's values kept
    assert db.scalar(select(AutomationTrigger.id)) is None
    timed = browser.form("/admin/automations", {**FORM, "on": "time", "after_hours": "abc"})  # type: ignore[arg-type]
    assert timed.status_code == 422 and "自动化规则无效" in timed.text


def test_the_automation_pages_are_for_admins_only(sign_in: SignIn, db: Session) -> None:
    for role in ("agent", "supervisor"):
        browser = sign_in(factories.make_user(db, role=role))
        assert browser.client.get("/admin/automations").status_code == 403
        assert browser.form("/admin/automations", FORM).status_code == 403  # type: ignore[arg-type]


TIMING = {
    "close_resolved_hours": "24", "nudge_hours": "12", "close_unanswered_hours": "0",
    "follow_up_days": "2", "survey_after_hours": "1", "vip_follow_up_hours": "6",
}  # fmt: skip


def test_an_admin_sets_the_service_timing_and_a_bad_value_keeps_the_old_one(
    sign_in: SignIn, db: Session, admin: User
) -> None:
    browser = sign_in(admin)
    before = browser.client.get("/admin/automations")
    assert (
        "服务时限" in before.text
        and 'name="follow_up_days" inputmode="decimal" value="3"' in before.text
    )
    saved = browser.form("/admin/automations/timing", TIMING)
    assert saved.status_code == 303 and saved.headers["location"].endswith("done=timing#timing")
    page = browser.client.get(saved.headers["location"])
    assert "服务时限已保存" in page.text and 'value="24"' in page.text
    assert 'name="vip_follow_up" checked' not in page.text  # the box was not ticked
    record = db.scalar(select(ServiceTimingRecord))
    assert record is not None and record.config["close_unanswered_hours"] == 0
    assert record.config["vip_follow_up"] is False

    bad = browser.form(
        "/admin/automations/timing", {**TIMING, "follow_up_days": "100", "nudge_hours": "十二"}
    )
    assert bad.status_code == 422
    assert "须在 0 到 90 之间" in bad.text and "请输入数字" in bad.text
    assert 'value="十二"' in bad.text  # what the admin typed, shown back
    db.expire_all()
    assert db.scalar(select(ServiceTimingRecord)).config["follow_up_days"] == 2


def test_only_admins_set_the_timing(sign_in: SignIn, db: Session) -> None:
    browser = sign_in(factories.make_user(db, role="supervisor"))
    assert browser.form("/admin/automations/timing", TIMING).status_code == 403
    assert db.scalar(select(ServiceTimingRecord)) is None
