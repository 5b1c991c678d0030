"""/admin/retention (数据保留): admins set the periods; a bad value keeps the old ones."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import RetentionRecord, User
from kefu.domain.retention import RetentionPolicy
from tests import factories
from tests.web.conftest import SignIn


def test_an_admin_sets_the_periods_and_a_bad_value_keeps_the_old_ones(
    sign_in: SignIn, db: Session, admin: User
) -> None:
    browser = sign_in(admin)
    before = browser.client.get("/admin/retention")
    assert before.status_code == 200
    assert (
        "数据保留期限" in before.text
        and 'name="case_bodies" inputmode="numeric" value="1095"' in before.text
    )
    form = {**RetentionPolicy.defaults().to_json(), "mail_raw": "90", "outbox": ""}
    saved = browser.form("/admin/retention", form)
    assert saved.status_code == 303 and saved.headers["location"].endswith("done=saved")
    page = browser.client.get(saved.headers["location"])
    assert (
        "保留期限已保存" in page.text
        and 'name="mail_raw" inputmode="numeric" value="90"' in page.text
    )
    record = db.scalar(select(RetentionRecord))
    assert record is not None and (record.config["mail_raw"], record.config["outbox"]) == (90, 0)

    bad = browser.form("/admin/retention", {**form, "audit_events": "三年", "mail_raw": "99999"})
    assert bad.status_code == 422
    assert "请输入整数" in bad.text and "不能大于 36500" in bad.text
    assert 'value="三年"' in bad.text  # what the admin typed, shown back
    db.expire_all()
    assert db.scalar(select(RetentionRecord)).config["mail_raw"] == 90


def test_only_admins_set_the_periods(sign_in: SignIn, db: Session) -> None:
    browser = sign_in(factories.make_user(db, role="supervisor"))
    assert browser.form("/admin/retention", {"mail_raw": "1"}).status_code == 403
    assert db.scalar(select(RetentionRecord)) is None
