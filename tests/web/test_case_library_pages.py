"""/cases/library: the case library's pages — the list (by category, searched), an entry with its
original ticket linked only for those who may open it, the similar-cases panel of a ticket, and a
supervisor's promotion to a knowledge-base draft (refused until the knowledge base is in kefu).
Text is escaped."""

from __future__ import annotations

from sqlalchemy import select

from kefu.db.models import CaseEntry
from tests import factories


def _entry(db, **overrides):
    ticket = factories.make_archived_complaint(db, **{
        "text": "快递五天了还没到", "facts": "快递五天未到，物流一直不更新", "category": "logistics",
        "cause": "中转站积压", "solution": "联系快递加急派送<script>alert(1)</script>",
        "lesson": "大促前加派运力", "compensation": ("coupon", 20_00), **overrides})  # fmt: skip
    entry = db.scalar(select(CaseEntry).where(CaseEntry.ticket_id == ticket.id))
    return ticket, entry


def test_the_library_lists_filters_and_searches_with_text_escaped(db, sign_in):
    _entry(db)
    factories.make_archived_complaint(
        db, text="账号被盗", facts="账户异地登录被改密码", category="account_privacy",
        cause="未触发二次验证", solution="冻结并重置密码", lesson="异地登录强制二次验证")  # fmt: skip
    browser = sign_in(factories.make_user(db, role="agent"))
    page = browser.client.get("/cases/library")
    assert page.status_code == 200
    for words in ("案例库", "快递五天未到", "账户异地登录被改密码", "一次解决", "客户好评 5/5",
                  'href="/cases/library"'):  # fmt: skip
        assert words in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "<script>alert" not in page.text
    logistics = browser.client.get("/cases/library", params={"category": "logistics"}).text
    assert "快递五天未到" in logistics and "账户异地登录" not in logistics
    searched = browser.client.get("/cases/library", params={"q": "异地登录"}).text
    assert "账户异地登录被改密码" in searched and "快递五天未到" not in searched
    assert browser.client.get("/cases/library", params={"page": 0}).status_code == 422


def test_the_entry_page_links_the_ticket_only_for_those_who_may_open_it(db, sign_in):
    group = factories.make_group(db, "售后组")
    ticket, entry = _entry(db, group=group)
    insider = sign_in(factories.make_user(db, role="agent", groups=[group]))
    page = insider.client.get(f"/cases/library/{entry.id}")
    assert page.status_code == 200
    assert f'href="/tickets/{ticket.id}"' in page.text and "优惠券 ¥20.00" in page.text
    assert "生成知识库文章草稿" not in page.text  # agents do not promote
    outsider = sign_in(factories.make_user(db, role="agent", groups=[factories.make_group(db)]))
    hidden = outsider.client.get(f"/cases/library/{entry.id}")
    assert hidden.status_code == 200 and "联系快递加急派送" in hidden.text
    assert f'href="/tickets/{ticket.id}"' not in hidden.text
    assert outsider.client.get("/cases/library/999999").status_code == 404


def test_a_supervisor_promotes_an_entry_and_lands_in_the_draft_s_editor(db, sign_in):
    _, entry = _entry(db)
    supervisor = sign_in(factories.make_user(db, role="supervisor"))
    assert "生成知识库文章草稿" in supervisor.client.get(f"/cases/library/{entry.id}").text
    promoted = supervisor.form(f"/cases/library/{entry.id}/promote")
    assert promoted.status_code == 303
    editor = supervisor.client.get(promoted.headers["location"])
    assert editor.status_code == 200
    assert "联系快递加急派送" in editor.text  # the entry's solution is in the draft
    agent = sign_in(factories.make_user(db, role="agent"))
    assert agent.form(f"/cases/library/{entry.id}/promote").status_code == 403


def test_the_ticket_panel_shows_similar_cases_and_hides_another_groups_ticket(db, sign_in):
    group = factories.make_group(db, "售后组")
    _, entry = _entry(db, group=group)
    ticket = factories.make_ticket(db, text="我的快递五天还没到，物流不更新", intent="complaint",
                                   category="logistics", group=group)  # fmt: skip
    browser = sign_in(factories.make_user(db, role="agent", groups=[group]))
    page = browser.client.get(f"/tickets/{ticket.id}")
    assert f'hx-get="/tickets/{ticket.id}/similar-cases"' in page.text and "相似案例" in page.text
    panel = browser.client.get(f"/tickets/{ticket.id}/similar-cases")
    assert panel.status_code == 200
    for words in (f'href="/cases/library/{entry.id}"', "快递五天未到", "一次解决", "优惠券 ¥20.00",
                  "大促前加派运力", 'id="similar-count" hx-swap-oob="true">1<'):  # fmt: skip
        assert words in panel.text
    outsider = sign_in(factories.make_user(db, role="agent", groups=[factories.make_group(db)]))
    assert outsider.client.get(f"/tickets/{ticket.id}/similar-cases").status_code == 404
