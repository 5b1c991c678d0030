"""The search page: Chinese substrings and traditional characters found, matches marked, only
what the user may see, hostile text shown as text."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests import factories
from tests.web.conftest import SignIn


def test_a_word_inside_a_longer_word_is_found_and_marked(sign_in: SignIn, db: Session) -> None:
    group = factories.make_group(db)
    agent = factories.make_user(db, groups=[group])
    ticket = factories.make_ticket(
        db, group=group, subject="派送问题", text="快递员把包裹放在门口就走了"
    )
    page = sign_in(agent).client.get("/search", params={"q": "快递"})
    assert page.status_code == 200
    assert f"/tickets/{ticket.id}" in page.text
    assert "<mark>快递</mark>员" in page.text
    traditional = sign_in(agent).client.get("/search", params={"q": "快遞員"})
    assert f"/tickets/{ticket.id}" in traditional.text


def test_another_groups_ticket_is_not_found(sign_in: SignIn, db: Session) -> None:
    mine, theirs = factories.make_group(db), factories.make_group(db)
    agent = factories.make_user(db, groups=[mine])
    hidden = factories.make_ticket(db, group=theirs, subject="保密", text="退款申请SO99887766")
    page = sign_in(agent).client.get("/search", params={"q": "SO99887766"})
    assert f"/tickets/{hidden.id}" not in page.text
    assert "没有找到" in page.text


def test_hostile_text_in_a_result_stays_text(sign_in: SignIn, db: Session) -> None:
    admin = factories.make_user(db, role="admin")
    factories.make_ticket(
        db, subject="<script>alert(1)</script>发票", text='<img src=x onerror="alert(1)">发票开错了'
    )
    page = sign_in(admin).client.get("/search", params={"q": "发票"})
    assert "<script>alert(1)" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<mark>发票</mark>" in page.text
    assert "<img src=x" not in page.text


def test_an_empty_or_overlong_query_is_a_page_not_an_error(sign_in: SignIn, db: Session) -> None:
    browser = sign_in(factories.make_user(db))
    assert browser.client.get("/search").status_code == 200
    long = browser.client.get("/search", params={"q": "长" * 500})
    assert long.status_code == 200
    assert "alert-warn" in long.text
