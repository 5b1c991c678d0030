"""The case library through the API: similar past cases for an open ticket (similar text first,
then best outcomes; dissimilar ones not offered), the library list and entries, who sees the link
to an entry's original ticket, and the knowledge-base draft for supervisors."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kefu.db.models import CaseEntry, Ticket
from kefu.domain import case_loop as cw
from kefu.services.actors import SYSTEM
from kefu.services.cases import loop
from tests import factories
from tests.checks import api_error

LATE = dict(category="logistics", cause="中转站积压，大促运力不足", lesson="大促前加派运力")


def _reopened_and_archived_again(db, ticket):
    ticket = db.get(Ticket, ticket.id)
    for step in (cw.Reopen(), cw.ProposeSolution("再次催件并补发"), cw.Advance(),
                 cw.RecordFeedback(True, 4), cw.Archive("催件要有结果再回复客户")):  # fmt: skip
        loop.do_step(db, SYSTEM, ticket, step, cw.Policy())
    db.commit()


@pytest.fixture
def library(db):
    """Three late-parcel cases that ended differently, and one about a hacked account."""
    group = factories.make_group(db, "售后组")
    reopened = factories.make_archived_complaint(
        db, text="快递五天了还没到，物流一直不更新", facts="快递五天未到，物流信息一直不更新",
        solution="联系快递催件", rating=5, group=group, **LATE)  # fmt: skip
    _reopened_and_archived_again(db, reopened)
    best = factories.make_archived_complaint(
        db, text="包裹五天没到，物流停在中转站", facts="包裹五天未送达，物流停在中转站不更新",
        solution="联系快递加急派送并每日同步物流进度", rating=5,
        compensation=("coupon", 20_00), group=group, **LATE)  # fmt: skip
    unrated = factories.make_archived_complaint(
        db, text="快递一直不到", facts="快递延误五天，物流不更新", solution="改发顺丰",
        rating=None, group=group, **LATE)  # fmt: skip
    hacked = factories.make_archived_complaint(
        db, text="账号被盗了", facts="账户在异地登录，被人改了密码", category="account_privacy",
        cause="异地登录未触发二次验证", solution="冻结登录并协助重置密码", lesson="异地登录强制二次验证",
        group=group)  # fmt: skip
    return {"group": group, "best": best, "unrated": unrated, "reopened": reopened,
            "hacked": hacked}  # fmt: skip


def _entry_of(db, ticket):
    return db.scalar(select(CaseEntry.id).where(CaseEntry.ticket_id == ticket.id))


def _open_late_parcel(db, group):
    return factories.make_ticket(db, text="我的快递已经五天了还没到，物流一直不更新怎么回事",
                                 intent="complaint", category="logistics", group=group)  # fmt: skip


def test_similar_cases_come_by_text_then_outcome_and_a_dissimilar_one_is_left_out(db, library, api):
    ticket = _open_late_parcel(db, library["group"])
    found = api.get(f"/api/v1/tickets/{ticket.id}/similar", params={"limit": 5})
    assert found.status_code == 200, found.text
    cases = found.json()
    ids = [c["id"] for c in cases]
    expected = [_entry_of(db, library[k]) for k in ("best", "unrated", "reopened")]
    assert ids == expected
    assert _entry_of(db, library["hacked"]) not in ids
    best = cases[0]
    assert best["solution"] == "联系快递加急派送并每日同步物流进度"
    assert best["compensation"] == {"kind": "coupon", "amount_yuan": "20.00"}
    assert best["outcome"] == {"first_time": True, "reopen_count": 0, "rating": 5}
    assert best["same_category"] is True and 0 < best["score"] <= 1
    assert cases[2]["outcome"] == {"first_time": False, "reopen_count": 1, "rating": 4}
    assert best["ticket_id"] == library["best"].id


def test_an_unrelated_case_gets_no_similar_cases(db, library, api):
    ticket = factories.make_ticket(db, text="请问你们周末营业吗？发票怎么开", intent="inquiry")
    assert api.get(f"/api/v1/tickets/{ticket.id}/similar").json() == []


def test_the_case_itself_is_not_its_own_similar_case(db, library, api):
    own = _entry_of(db, library["best"])
    ids = [c["id"] for c in api.get(f"/api/v1/tickets/{library['best'].id}/similar").json()]
    assert own not in ids and ids


def test_similar_follows_ticket_visibility_and_links_only_what_the_agent_may_open(
    db, library, client_for
):
    outsider_group = factories.make_group(db, "售前组")
    outsider = client_for(factories.make_user(db, role="agent", groups=[outsider_group]))
    hidden = _open_late_parcel(db, library["group"])
    api_error(outsider.get(f"/api/v1/tickets/{hidden.id}/similar"), 404, "not_found")
    mine = _open_late_parcel(db, outsider_group)
    cases = outsider.get(f"/api/v1/tickets/{mine.id}/similar").json()
    assert len(cases) == 3 and all(c["ticket_id"] is None for c in cases)  # read, not linked
    insider = client_for(factories.make_user(db, role="agent", groups=[library["group"]]))
    linked = insider.get(f"/api/v1/tickets/{hidden.id}/similar").json()
    assert [c["ticket_id"] for c in linked] == [
        library[k].id for k in ("best", "unrated", "reopened")
    ]
    entry = _entry_of(db, library["best"])
    assert outsider.get(f"/api/v1/case-library/{entry}").json()["ticket_id"] is None
    assert insider.get(f"/api/v1/case-library/{entry}").json()["ticket_id"] == library["best"].id


def test_the_library_lists_filters_and_searches(db, library, api):
    listed = api.get("/api/v1/case-library").json()
    assert listed["total"] == 4 and len(listed["items"]) == 4
    assert listed["items"][0]["id"] == _entry_of(db, library["hacked"])  # newest archive first
    logistics = api.get("/api/v1/case-library", params={"category": "logistics"}).json()
    assert logistics["total"] == 3
    assert {i["category"] for i in logistics["items"]} == {"logistics"}
    searched = api.get("/api/v1/case-library", params={"q": "异地登录 密码"}).json()
    assert searched["items"][0]["id"] == _entry_of(db, library["hacked"])
    none = api.get("/api/v1/case-library", params={"q": "异地登录", "category": "logistics"})
    assert none.json() == {"items": [], "total": 0}
    paged = api.get("/api/v1/case-library", params={"limit": 1, "offset": 1}).json()
    assert paged["total"] == 4 and len(paged["items"]) == 1
    api_error(api.get("/api/v1/case-library", params={"limit": 0}), 422, "validation_error")
    api_error(api.get("/api/v1/case-library", params={"q": "长" * 201}), 422, "validation_error")
    api_error(api.get("/api/v1/case-library/999999"), 404, "not_found")


def test_a_supervisor_promotes_an_entry_to_a_knowledge_base_draft(db, library, client_for):
    entry = _entry_of(db, library["best"])
    supervisor = client_for(factories.make_user(db, role="supervisor"))
    draft = supervisor.get(f"/api/v1/case-library/{entry}/article-draft")
    assert draft.status_code == 200, draft.text
    body = draft.json()
    assert body["title"] == "包裹五天未送达" and body["category"] == "logistics"
    assert body["tags"][0] == "案例库"
    assert "## 处理方法\n\n联系快递加急派送并每日同步物流进度" in body["body"]
    assert "## 补偿\n\n优惠券 ¥20.00" in body["body"]
    promoted = supervisor.post(f"/api/v1/case-library/{entry}/promote")
    assert promoted.status_code == 201, promoted.text
    key = promoted.json()["key"]
    article = supervisor.get(f"/api/v1/kb/articles/{key}").json()
    assert article["status"] == "draft" and article["title"] == "包裹五天未送达"
    assert article["body"] == body["body"] and article["category"] == "logistics"
    agent = client_for(factories.make_user(db, role="agent"))
    api_error(agent.get(f"/api/v1/case-library/{entry}/article-draft"), 403, "forbidden")
    api_error(agent.post(f"/api/v1/case-library/{entry}/promote"), 403, "forbidden")


def test_an_integration_reads_nothing_of_the_library(library, integration):
    api_error(integration.get("/api/v1/case-library"), 403, "staff_required")


def test_the_same_story_solved_the_same_way_is_offered_once(db, library, api):
    twin = factories.make_archived_complaint(
        db, text="包裹五天没到，物流停在中转站", facts="包裹五天未送达，物流停在中转站不更新",
        solution="联系快递加急派送并每日同步物流进度", rating=5, compensation=("coupon", 20_00),
        group=library["group"], **LATE)  # fmt: skip
    ticket = _open_late_parcel(db, library["group"])
    ids = [c["id"] for c in api.get(f"/api/v1/tickets/{ticket.id}/similar").json()]
    assert len(ids) == 3 and _entry_of(db, twin) not in ids
    assert ids[0] == _entry_of(db, library["best"])
