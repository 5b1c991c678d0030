"""The inbox over HTTP: views and their counts, visibility, filters, sorting, paging, unread
markers and bulk changes, as a signed-in agent's browser sees them."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.engine import make_session_factory, writer_bind
from kefu.db.models import Group, Integration, Ticket, User
from kefu.services.actors import SYSTEM
from kefu.services.cases import reads, tickets
from kefu.services.sla import clocks as sla
from tests import factories
from tests.web.conftest import Browser, SignIn

ALWAYS_OPEN = {"always_open": True}


@dataclass
class Groups:
    after_sales: Group
    pre_sales: Group


@pytest.fixture
def groups(db: Session) -> Groups:
    return Groups(
        factories.make_group(db, name="售后组", calendar=ALWAYS_OPEN),
        factories.make_group(db, name="售前组", calendar=ALWAYS_OPEN),
    )


@pytest.fixture
def li(db: Session, groups: Groups) -> User:
    return factories.make_user(db, groups=[groups.after_sales], name="李娜")


@pytest.fixture
def wang(db: Session, groups: Groups) -> User:
    return factories.make_user(db, groups=[groups.pre_sales], name="王磊")


def _ticket(db: Session, subject: str, **fields: object) -> Ticket:
    return factories.make_ticket(db, subject=subject, text=f"{subject}，请尽快处理", **fields)


def _change(db: Session, ticket: Ticket, changes: dict[str, object]) -> None:
    locked = tickets.access_ticket(db, SYSTEM, ticket.id, for_update=True)
    tickets.do_update_ticket(db, SYSTEM, locked, changes)
    db.commit()


def _sweep(engine: Engine) -> None:
    sla.sweep_until_done(make_session_factory(writer_bind(engine)), utcnow)


def _rows(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-ticket-id="(\d+)"', html)]


def _counts(html: str) -> dict[str, int]:
    return {v: int(n) for v, n in re.findall(r'data-view-count="(\w+)">(\d+)<', html)}


def _view(browser: Browser, query: str = "") -> str:
    answer = browser.client.get(f"/inbox{query}")
    assert answer.status_code == 200, answer.text[:500]
    return answer.text


@pytest.fixture
def cases(db: Session, engine: Engine, groups: Groups, li: User, wang: User) -> dict[str, Ticket]:
    """One case for each view of 李娜 (售后组), and cases she must not see."""
    group = groups.after_sales
    made = {
        "mine": _ticket(db, "我的工单", group=group, assignee_id=li.id),
        "group": _ticket(db, "组里的工单", group=group),
        "shared": _ticket(db, "公共队列的工单"),
        "p1": _ticket(db, "危机工单", group=group, priority="P1", assignee_id=wang.id),
        "waiting": _ticket(db, "等客户回复", group=group, assignee_id=li.id),
        "resolved": _ticket(db, "刚解决的", group=group),
        "old": _ticket(db, "上个月解决的", group=group),
        "risk": _ticket(db, "快超时的聊天", group=group, channel="webchat"),
        "other": _ticket(db, "售前组的工单", group=groups.pre_sales),
        "other_p1": _ticket(db, "售前组的危机", group=groups.pre_sales, priority="P1"),
    }
    _change(db, made["waiting"], {"status": "pending"})
    for key in ("resolved", "old"):
        _change(db, made[key], {"status": "resolved"})
    db.execute(
        update(Ticket)
        .where(Ticket.id == made["old"].id)
        .values(resolved_at=utcnow() - timedelta(days=8))
    )
    # The live chat came in a minute ago: its 30-second first response is overdue.
    minute_ago = utcnow() - timedelta(minutes=1)
    db.execute(
        update(Ticket)
        .where(Ticket.id == made["risk"].id)
        .values(created_at=minute_ago, sla_check_at=minute_ago)
    )
    db.commit()
    _sweep(engine)
    for ticket in made.values():
        db.refresh(ticket)
    return made


VIEWS_OF_LI = {
    "mine": {"mine", "waiting"},
    "groups": {"mine", "group", "p1", "waiting", "risk"},
    "unassigned": {"group", "shared", "risk"},
    "at_risk": {"risk"},
    "p1": {"p1"},
    "waiting": {"waiting"},
    "resolved": {"resolved"},
}


def test_each_view_shows_its_cases_and_counts_them(
    sign_in: SignIn, li: User, cases: dict[str, Ticket]
) -> None:
    browser = sign_in(li)
    ids = {key: t.id for key, t in cases.items()}
    for view, expected in VIEWS_OF_LI.items():
        page = _view(browser, f"?view={view}")
        assert set(_rows(page)) == {ids[k] for k in expected}, view
        assert _counts(page) == {v: len(keys) for v, keys in VIEWS_OF_LI.items()}
    assert set(_rows(_view(browser))) == {ids["mine"], ids["waiting"]}  # "mine" by default
    assert cases["risk"].sla_warn_at is not None and cases["risk"].sla_warn_at <= utcnow()
    assert cases["mine"].sla_warn_at is not None and cases["mine"].sla_warn_at > utcnow()


def test_an_agent_neither_sees_nor_counts_another_groups_cases(
    sign_in: SignIn, wang: User, cases: dict[str, Ticket]
) -> None:
    browser = sign_in(wang)
    assert _counts(_view(browser)) == {
        "mine": 1,  # the crisis of 售后组 assigned to him: his
        "groups": 2,
        "unassigned": 3,  # his group's two, and the shared queue's case
        "at_risk": 0,
        "p1": 2,
        "waiting": 0,
        "resolved": 0,
    }
    unassigned = _view(browser, "?view=unassigned")
    assert set(_rows(unassigned)) == {cases[k].id for k in ("other", "other_p1", "shared")}
    assert "快超时的聊天" not in unassigned
    assert browser.client.get("/inbox?view=all").status_code == 422  # not a view of an agent


def test_a_supervisor_has_every_open_case_in_all(
    sign_in: SignIn, db: Session, cases: dict[str, Ticket]
) -> None:
    browser = sign_in(factories.make_user(db, role="supervisor", name="陈静"))
    page = _view(browser)
    open_cases = {k for k in cases if k not in ("resolved", "old")}
    assert set(_rows(page)) == {cases[k].id for k in open_cases}
    assert _counts(page)["all"] == len(open_cases)
    assert _counts(page)["at_risk"] == 1


def test_filters_narrow_the_view_and_make_a_link(
    sign_in: SignIn, db: Session, groups: Groups, li: User
) -> None:
    group = groups.after_sales
    angry = _ticket(db, "快递三天没动", group=group, assignee_id=li.id, channel="email",
                    category="logistics", intent="complaint", tags=["催单"])  # fmt: skip
    _change(db, angry, {"emotion": "angry"})
    calm = _ticket(db, "发票怎么开", group=group, assignee_id=li.id, priority="P3",
                   category="price_billing", intent="inquiry")  # fmt: skip
    repeat = _ticket(db, "又坏了", group=group, assignee_id=li.id, intent="complaint")
    db.execute(update(Ticket).where(Ticket.id == repeat.id).values(repeat_complaint=True))
    db.commit()
    browser = sign_in(li)
    expectations = {
        "channel=email": {angry.id},
        "priority=P3": {calm.id},
        "category=logistics": {angry.id},
        "emotion=angry": {angry.id},
        "intent=complaint": {angry.id, repeat.id},
        "stage=registered": {angry.id, repeat.id},  # complaints start at 受理登记
        "tag=催单": {angry.id},
        "repeat=1": {repeat.id},
        "repeat=0": {angry.id, calm.id},
        "intent=complaint&repeat=0": {angry.id},
        "tag=没有这个标签": set(),
    }
    for query, expected in expectations.items():
        page = _view(browser, f"?{query}")
        assert set(_rows(page)) == expected, query
        assert "清除筛选" in page
    assert "清除筛选" not in _view(browser)
    for bad in ("channel=fax", "priority=P9", "view=nowhere", "sort=random", "repeat=maybe",
                "view=resolved&sort=sla"):  # fmt: skip
        answer = browser.client.get(f"/inbox?{bad}", headers={"Accept": "text/html"})
        assert answer.status_code == 422, bad
        assert "<html" in answer.text  # a page for a person


def test_sorted_by_sla_time_left_by_default_then_newest_or_priority(
    sign_in: SignIn, db: Session, engine: Engine, groups: Groups, li: User
) -> None:
    group = groups.after_sales
    email = _ticket(db, "邮件：一天内回复", group=group, assignee_id=li.id, channel="email")
    chat = _ticket(db, "聊天：30 秒内回复", group=group, assignee_id=li.id, channel="webchat")
    form = _ticket(db, "表单：4 小时内回复", group=group, assignee_id=li.id, priority="P2")
    _sweep(engine)
    browser = sign_in(li)
    assert _rows(_view(browser)) == [chat.id, form.id, email.id]
    assert _rows(_view(browser, "?view=groups")) == [chat.id, form.id, email.id]  # by its index
    assert _rows(_view(browser, "?sort=newest")) == [form.id, chat.id, email.id]
    assert _rows(_view(browser, "?sort=priority")) == [form.id, chat.id, email.id]
    page = _view(browser)
    assert 'class="clock"' in page and "data-due=" in page


def test_more_pages_by_keyset_without_gaps_or_repeats(
    sign_in: SignIn, db: Session, groups: Groups, li: User
) -> None:
    customer = factories.make_customer(db)
    made = [
        _ticket(db, f"第{n}个", customer=customer, group=groups.after_sales, assignee_id=li.id)
        for n in range(53)
    ]
    browser = sign_in(li)
    # "mine" is found by its own index, "groups" reads the SLA order's index in order.
    for view, sort in itertools.product(("mine", "groups"), ("sla", "newest", "priority")):
        first = _view(browser, f"?view={view}&sort={sort}")
        assert len(_rows(first)) == 50
        more = re.search(r'hx-get="(/inbox/rows\?[^"]+)"', first)
        assert more, (view, sort)
        rest = browser.client.get(more.group(1).replace("&amp;", "&"))
        assert rest.status_code == 200
        assert len(_rows(rest.text)) == 3
        assert "/inbox/rows" not in rest.text  # the last page
        assert sorted(_rows(first) + _rows(rest.text)) == sorted(t.id for t in made)
    sla_cursor = re.search(r"cursor=([\w-]+)", _view(browser)).group(1)
    assert browser.client.get(f"/inbox/rows?sort=newest&cursor={sla_cursor}").status_code == 400
    assert browser.client.get("/inbox/rows?cursor=bm9wZQ").status_code == 400


def test_unread_marker_until_opened_and_again_after_a_customer_message(
    sign_in: SignIn, db: Session, li: User
) -> None:
    factories.make_integration(db, name="商城", channels=["api"])
    shop = db.scalars(select(Integration)).one()
    ticket = factories.make_api_conversation(db, shop, sender="buyer-7", text="我的快递到哪了？")
    _change(db, ticket, {"assignee_id": li.id})
    browser = sign_in(li)

    def marked() -> bool:
        row = re.search(
            rf'<li class="ticket-row([^"]*)" data-ticket-id="{ticket.id}"', _view(browser)
        )
        assert row
        return "unread" in row.group(1)

    assert marked()  # never opened
    reads.mark_seen(db, li.id, ticket.id, utcnow())
    db.commit()
    assert not marked()
    factories.make_reply(db, ticket)
    assert not marked()  # her own side's reply is nothing new
    again = factories.make_api_conversation(db, shop, sender="buyer-7", text="还没到，急用")
    assert again.id == ticket.id
    assert marked()


def test_bulk_assign_tag_and_close_report_per_case(
    sign_in: SignIn, db: Session, groups: Groups, li: User, wang: User
) -> None:
    group = groups.after_sales
    one = _ticket(db, "咨询一", group=group)
    two = _ticket(db, "咨询二", group=group)
    complaint = _ticket(db, "投诉：商品有划痕", group=group, intent="complaint")
    elsewhere = _ticket(db, "售前组的", group=groups.pre_sales)
    browser = sign_in(li)
    hx = {"HX-Request": "true"}

    def bulk(action: str, ids: list[Ticket], **fields: str) -> str:
        answer = browser.client.post(
            "/inbox/bulk",
            data={"action": action, "ids": [str(t.id) for t in ids], **fields},
            headers={"X-CSRF-Token": browser.csrf, "Origin": str(browser.client.base_url), **hx},
        )
        assert answer.status_code == 200, answer.text[:500]
        assert answer.headers["HX-Trigger"] == "inbox-changed"
        return answer.text

    assert "已分配给我 2 个" in bulk("assign_me", [one, two])
    assert set(_rows(_view(browser))) == {one.id, two.id}
    summary = bulk("assign", [one, complaint, elsewhere], assignee_id=str(wang.id))
    assert "已分配 2 个，1 个未执行：" in summary
    assert f"#{elsewhere.id}" in summary and "工单不存在或无权访问" in summary
    assert "已加标签 2 个" in bulk("tag", [one, two], tag="待回访")
    closed = bulk("close", [one, two, complaint])
    assert "已关闭 2 个，1 个未执行：" in closed
    assert "投诉须在工单页按闭环步骤处理" in closed and "受理登记" in closed

    db.expire_all()
    rows = {t.id: t for t in db.scalars(select(Ticket)).all()}
    assert (rows[one.id].assignee_id, rows[one.id].status) == (wang.id, "closed")
    assert (rows[two.id].assignee_id, rows[two.id].status) == (li.id, "closed")
    assert [t.name for t in rows[two.id].tags] == ["待回访"]
    assert rows[complaint.id].status == "new" and rows[complaint.id].assignee_id == wang.id
    assert rows[elsewhere.id].assignee_id is None


def test_bulk_refuses_bad_requests_and_foreign_pages(
    sign_in: SignIn, db: Session, groups: Groups, li: User
) -> None:
    ticket = _ticket(db, "咨询", group=groups.after_sales)
    browser = sign_in(li)
    ids = {"ids": str(ticket.id)}
    assert browser.form("/inbox/bulk", {"action": "explode", **ids}).status_code == 422
    assert browser.form("/inbox/bulk", {"action": "close"}).status_code == 422
    assert browser.form("/inbox/bulk", {"action": "assign", **ids}).status_code == 422
    assert browser.form("/inbox/bulk", {"action": "tag", "tag": " ", **ids}).status_code == 422
    assert (
        browser.form(
            "/inbox/bulk", {"action": "assign", "assignee_id": "999999", **ids}
        ).status_code
        == 404
    )
    foreign = browser.client.post(
        "/inbox/bulk",
        data={"csrf_token": browser.csrf, "action": "close", **ids},
        headers={"Origin": "https://evil.example"},
    )
    assert foreign.status_code == 403
    no_token = browser.client.post(
        "/inbox/bulk",
        data={"action": "close", **ids},
        headers={"Origin": str(browser.client.base_url)},
    )
    assert no_token.status_code == 403
    db.refresh(ticket)
    assert ticket.status == "new"


def test_bulk_without_htmx_shows_the_inbox_with_the_summary(
    sign_in: SignIn, db: Session, groups: Groups, li: User
) -> None:
    ticket = _ticket(db, "咨询", group=groups.after_sales)
    browser = sign_in(li)
    answer = browser.form(
        "/inbox/bulk", {"action": "assign_me", "ids": str(ticket.id), "back": "/inbox?view=mine"}
    )
    assert answer.status_code == 200
    assert "已分配给我 1 个" in answer.text
    assert _rows(answer.text) == [ticket.id]


def test_the_parts_reload_on_their_own(
    sign_in: SignIn, db: Session, groups: Groups, li: User
) -> None:
    ticket = _ticket(db, "咨询", group=groups.after_sales, assignee_id=li.id)
    browser = sign_in(li)
    page = _view(browser, "?view=groups&channel=web")
    assert 'data-list-url="/inbox/list?view=groups&amp;channel=web"' in page
    part = browser.client.get("/inbox/list?view=groups&channel=web&limit=120")
    assert part.status_code == 200 and _rows(part.text) == [ticket.id]
    assert "<html" not in part.text
    counts = browser.client.get("/inbox/counts?view=groups")
    assert _counts(counts.text)["groups"] == 1 and 'aria-current="page"' in counts.text
    assert browser.client.get("/inbox/list?limit=lots").status_code == 422


def test_a_stranger_is_sent_to_sign_in(anon) -> None:  # type: ignore[no-untyped-def]
    answer = anon.get("/inbox?view=p1", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=/inbox")


def test_hostile_text_is_shown_as_text(
    sign_in: SignIn, db: Session, groups: Groups, li: User
) -> None:
    evil = "<script>alert(1)</script>"
    customer = factories.make_customer(db, name="<img src=x onerror=alert(2)>")
    _ticket(
        db, evil, customer=customer, group=groups.after_sales, assignee_id=li.id, tags=["<b>x</b>"]
    )
    page = _view(sign_in(li))
    assert evil not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page and "<b>x</b>" not in page


def test_the_inbox_speaks_english(sign_in: SignIn, db: Session, groups: Groups, li: User) -> None:
    _ticket(db, "咨询", group=groups.after_sales, assignee_id=li.id, priority="P1")
    browser = sign_in(li)
    browser.client.get("/language?to=en&back=/inbox")
    page = _view(browser)
    for english in (
        "My tickets",
        "SLA at risk",
        "Unassigned",
        "Filter",
        "Assign to me",
        "P1 urgent",
    ):
        assert english in page, english
    assert "我的工单" not in page
