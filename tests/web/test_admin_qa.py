"""The admins' scorecard page: saving makes a new version the next reviews use; a bad weight is
refused on the page naming the criterion, and nothing is saved."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.db.models import QaScorecard
from kefu.domain.qa.criteria import Criterion
from kefu.domain.qa.scorecard import DEFAULT
from tests import factories
from tests.web.conftest import SignIn


def _form(**changes: dict[str, object]) -> dict[str, str]:
    data: dict[str, str] = {}
    for criterion, w in DEFAULT.weighings.items():
        item = {"weight": w.weight, "critical": w.critical, "advisory": w.advisory}
        item |= changes.get(criterion.value, {})
        data[f"{criterion.value}.weight"] = str(item["weight"])
        if item["critical"]:
            data[f"{criterion.value}.critical"] = "on"
        if item["advisory"]:
            data[f"{criterion.value}.advisory"] = "on"
    return data


def test_an_admin_saves_a_new_scorecard_version(db: Session, sign_in: SignIn) -> None:
    admin = sign_in(factories.make_user(db, role="admin"))
    page = admin.client.get("/admin/qa")
    assert page.status_code == 200 and "质检评分卡" in page.text and "第 0 版" in page.text
    saved = admin.form("/admin/qa", _form(empathy={"advisory": False, "critical": True}))
    assert saved.status_code == 303 and saved.headers["location"] == "/admin/qa?done=1"
    row = db.scalar(select(QaScorecard).where(QaScorecard.version == 1))
    assert row.config["empathy"] == {"weight": 15, "critical": True, "advisory": False}
    assert "第 1 版" in admin.client.get("/admin/qa").text

    refused = admin.form("/admin/qa", _form(jargon={"weight": 500}))
    assert refused.status_code == 422 and "权重必须在 0 到 100 之间" in refused.text
    both = admin.form("/admin/qa", _form(privacy={"advisory": True}))  # critical and advisory
    assert both.status_code == 422 and "不能设为否决项" in both.text
    assert db.scalar(select(func.count()).select_from(QaScorecard)) == 1
    assert {c.value for c in Criterion} == set(row.config)
