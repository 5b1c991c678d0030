"""The customer pages: the panel beside a ticket, the list, the profile and its forms, the
timeline, merging and undoing a merge — with the services' permission rules."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import AuditEvent, Customer, CustomerMerge, Identity, Ticket
from kefu.services.actors import SYSTEM
from kefu.services.cases import tickets as ticket_service
from tests import factories
from tests.web.conftest import Browser, SignIn

PHONE = "13812345678"
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _htmx(browser: Browser, path: str, data: dict[str, str]) -> httpx.Response:
    """A form as htmx sends it: the CSRF token in a header, from a page of this origin."""
    return browser.client.post(
        path,
        data=data,
        headers={
            "HX-Request": "true",
            "X-CSRF-Token": browser.csrf,
            "Origin": str(browser.client.base_url).rstrip("/"),
        },
    )


def _reread(db: Session, customer_id: int) -> Customer:
    db.rollback()  # see what the server committed
    customer = db.get(Customer, customer_id)
    assert customer is not None
    db.refresh(customer)
    return customer


def _owner_of_tickets(db: Session, ids: list[int]) -> set[int]:
    db.rollback()
    return set(db.scalars(select(Ticket.customer_id).where(Ticket.id.in_(ids))))


def _rich_customer(db: Session) -> Customer:
    return factories.make_customer(
        db,
        name="刘经理",
        phone=PHONE,
        email="liu.manager@example.cn",
        note="企业客户，需要增值税专用发票",
        tags=["VIP", "企业客户"],
        identities=[("wechat", "wx-liu-001"), ("phone", "13900001111")],
    )


# --- the panel --------------------------------------------------------------------------


def test_the_panel_shows_the_profile_masked_and_the_latest_ten_tickets(
    sign_in: SignIn, db: Session
) -> None:
    customer = _rich_customer(db)
    made = [factories.make_ticket(db, customer=customer, subject=f"第{n}个问题") for n in range(12)]
    ticket_service.do_update_ticket(db, SYSTEM, made[-1], {"priority": "P1"})
    db.commit()
    browser = sign_in(factories.make_user(db))
    panel = browser.client.get(f"/customers/{customer.id}/panel?ticket={made[-1].id}")
    assert panel.status_code == 200
    html = panel.text
    assert "<html" not in html  # a fragment for the ticket page's side column
    assert "刘经理" in html and f'href="/customers/{customer.id}"' in html
    # Contact details masked: the phone's middle digits, the email's local part.
    assert "138****5678" in html and PHONE not in html
    assert "l***@example.cn" in html and "liu.manager" not in html
    assert "139****1111" in html and "13900001111" not in html
    assert "wx-liu-001" in html and "微信" in html
    assert "VIP" in html and "企业客户" in html and "增值税专用发票" in html
    # The ten newest tickets, newest first, with their chips; the two oldest left to "all".
    shown = [int(n) for n in re.findall(r'href="/tickets/(\d+)"', html)]
    assert shown == [t.id for t in reversed(made)][:10]
    assert "P1 紧急" in html and "新建" in html
    assert 'aria-current="true"' in html  # the ticket open beside it
    assert f'href="/customers/{customer.id}/timeline"' in html
    assert f'href="/customers/{customer.id}#tickets"' in html


def test_the_profile_shows_supervisors_the_numbers_in_full_and_agents_masked(
    sign_in: SignIn, db: Session
) -> None:
    customer = factories.make_customer(
        db, name="刘经理", phone=PHONE, email="liu.manager@example.cn",
        note="身份证110101199003071234，退款卡6222020012345678", identities=[("phone", "13900001111")],
    )  # fmt: skip
    supervisor = sign_in(factories.make_user(db, role="supervisor")).client
    page = supervisor.get(f"/customers/{customer.id}").text
    assert f'value="{PHONE}"' in page and "13900001111" in page
    assert "110101199003071234" in page and "显示完整号码" not in page

    agent_browser = sign_in(factories.make_user(db))
    agent = agent_browser.client
    masked = agent.get(f"/customers/{customer.id}").text
    assert "138****5678" in masked and PHONE not in masked
    assert "139****1111" in masked and "13900001111" not in masked
    assert "110101********1234" in masked and "****5678" in masked
    assert "110101199003071234" not in masked and "6222020012345678" not in masked
    assert 'name="phone"' not in masked and 'name="note"' not in masked  # kept when saving
    assert "liu.manager@example.cn" in masked  # e-mail addresses are not masked here
    assert f'action="/customers/{customer.id}/full"' in masked
    assert agent.get(f"/customers/{customer.id}?full=1").text.count(PHONE) == 0  # not by a link
    full = agent_browser.form(f"/customers/{customer.id}/full", {}).text
    assert f'value="{PHONE}"' in full and "110101199003071234" in full

    # Saving the masked form keeps the numbers it did not show.
    browser = sign_in(factories.make_user(db))
    assert (
        browser.form(f"/customers/{customer.id}", {"name": "刘建国", "tags": ""}).status_code == 303
    )
    after = _reread(db, customer.id)
    assert (after.name, after.phone) == ("刘建国", PHONE) and "110101199003071234" in after.note


def test_each_look_at_the_full_profile_and_timeline_is_audited(
    sign_in: SignIn, db: Session
) -> None:
    customer = _rich_customer(db)
    user = factories.make_user(db)
    browser = sign_in(user)
    assert browser.client.get(f"/customers/{customer.id}").status_code == 200  # masked: not full
    assert browser.form(f"/customers/{customer.id}/full", {}).status_code == 200
    assert browser.client.get(f"/customers/{customer.id}/timeline").status_code == 200
    supervisor = factories.make_user(db, role="supervisor")
    assert sign_in(supervisor).client.get(f"/customers/{customer.id}").status_code == 200
    db.rollback()
    seen = db.execute(
        select(AuditEvent.actor_id, AuditEvent.after)
        .where(AuditEvent.action == "customer.access", AuditEvent.customer_id == customer.id)
        .order_by(AuditEvent.id)
    ).all()
    assert [tuple(row) for row in seen] == [
        (user.id, {"what": "page:profile:full"}),
        (user.id, {"what": "page:timeline"}),
        (supervisor.id, {"what": "page:profile"}),
    ]


def test_note_and_tags_are_saved_from_the_panel(sign_in: SignIn, db: Session) -> None:
    customer = _rich_customer(db)
    browser = sign_in(factories.make_user(db))
    answer = _htmx(
        browser,
        f"/customers/{customer.id}/panel",
        {"tags": "老客户，投诉过、 VIP", "note": "第二行\n已致电确认"},
    )
    assert answer.status_code == 200
    assert f'id="customer-panel-{customer.id}"' in answer.text
    assert "已致电确认" in answer.text
    saved = _reread(db, customer.id)
    assert sorted(t.name for t in saved.tags) == sorted(["老客户", "投诉过", "VIP"])
    assert saved.note == "第二行\n已致电确认"
    assert saved.phone == PHONE  # untouched
    too_many = _htmx(
        browser, f"/customers/{customer.id}/panel", {"tags": ",".join(map(str, range(21)))}
    )
    assert too_many.status_code == 422
    assert too_many.json()["error"]["code"] == "validation_error"
    assert len(_reread(db, customer.id).tags) == 3


def test_the_profile_lists_every_ticket_the_rest_a_click_away(sign_in: SignIn, db: Session) -> None:
    customer = factories.make_customer(db, name="老客户")
    made = [factories.make_ticket(db, customer=customer, subject=f"问题{n}") for n in range(27)]
    browser = sign_in(factories.make_user(db))
    page = browser.client.get(f"/customers/{customer.id}")
    first = [int(n) for n in re.findall(r'<td class="subject"><a href="/tickets/(\d+)"', page.text)]
    assert first == [t.id for t in reversed(made)][:25]
    more = re.search(r'hx-get="(/customers/\d+/tickets\?cursor=[^"]+)"', page.text)
    assert more
    rest = browser.client.get(more.group(1).replace("&amp;", "&"), headers={"HX-Request": "true"})
    assert rest.status_code == 200
    ids = [int(n) for n in re.findall(r'<td class="subject"><a href="/tickets/(\d+)"', rest.text)]
    assert ids == [made[1].id, made[0].id]
    assert "cursor=" not in rest.text  # nothing after these


# --- the list ---------------------------------------------------------------------------


def test_the_list_searches_by_name_phone_and_channel_id_and_pages_by_keyset(
    sign_in: SignIn, db: Session
) -> None:
    customer = _rich_customer(db)
    for n in range(32):
        factories.make_customer(db, name=f"批量客户{n:02d}")
    browser = sign_in(factories.make_user(db, role="supervisor"))
    first = browser.client.get("/customers")
    assert first.status_code == 200
    ids = [int(n) for n in re.findall(r'class="customer-name" href="/customers/(\d+)"', first.text)]
    assert len(ids) == 30 and ids == sorted(ids, reverse=True)
    cursor = re.search(r"cursor=([A-Za-z0-9_%-]+)", first.text)
    assert cursor
    second = browser.client.get(f"/customers?cursor={cursor.group(1)}")
    more = [
        int(n) for n in re.findall(r'class="customer-name" href="/customers/(\d+)"', second.text)
    ]
    assert len(more) == 3 and max(more) < min(ids)
    assert "cursor=" not in second.text.split("pager", 1)[1]  # the last page

    for query in ("刘经理", PHONE, "wx-liu-001", "liu.manager"):
        found = browser.client.get("/customers", params={"q": query})
        assert f'href="/customers/{customer.id}"' in found.text, query
        assert "批量客户" not in found.text
        assert PHONE in found.text.split("<tbody>", 1)[1]  # a supervisor reads it in full
    agent = sign_in(factories.make_user(db)).client
    rows = agent.get("/customers", params={"q": PHONE}).text.split("<tbody>", 1)[1]
    assert "138****5678" in rows and PHONE not in rows and "l***@example.cn" in rows
    nothing = browser.client.get("/customers", params={"q": "没有这个人"})
    assert "没有找到匹配的客户" in nothing.text
    bad = browser.client.get("/customers?cursor=garbage")
    assert bad.status_code == 400
    assert "<html" in bad.text


# --- editing the profile ------------------------------------------------------------------


def test_the_profile_form_saves_and_refuses_bad_input_without_changing_anything(
    sign_in: SignIn, db: Session
) -> None:
    customer = _rich_customer(db)
    browser = sign_in(factories.make_user(db))
    fields = {
        "name": "刘建国",
        "phone": "+86 139 0000 2222",
        "email": "",
        "language": "zh-TW",
        "tags": "VIP，重点关注",
        "note": "新备注",
    }
    saved = browser.form(f"/customers/{customer.id}", fields)
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/customers/{customer.id}?done=saved"
    after = _reread(db, customer.id)
    assert (after.name, after.phone, after.email, after.language, after.note) == (
        "刘建国",
        "+86 139 0000 2222",
        None,
        "zh-TW",
        "新备注",
    )
    assert sorted(t.name for t in after.tags) == ["VIP", "重点关注"]
    assert "资料已保存" in browser.client.get(saved.headers["location"]).text

    refused = browser.form(
        f"/customers/{customer.id}", {**fields, "email": "不是邮箱", "name": "改不了"}
    )
    assert refused.status_code == 422
    assert "邮箱格式不正确" in refused.text
    assert 'value="改不了"' in refused.text  # what was typed stays in the form
    assert _reread(db, customer.id).name == "刘建国"
    empty = browser.form(f"/customers/{customer.id}", {**fields, "name": "  "})
    assert empty.status_code == 422
    assert "请填写姓名" in empty.text
    # A field the form did not send is left as it is.
    assert browser.form(f"/customers/{customer.id}", {"note": "只改备注"}).status_code == 303
    partly = _reread(db, customer.id)
    assert (partly.name, partly.note, partly.phone) == ("刘建国", "只改备注", "+86 139 0000 2222")
    assert sorted(t.name for t in partly.tags) == ["VIP", "重点关注"]


def test_an_identity_is_added_and_one_of_another_customer_is_refused_with_its_owner(
    sign_in: SignIn, db: Session
) -> None:
    customer = _rich_customer(db)
    other = factories.make_customer(db, name="另一个人", identities=[("email", "dup@example.cn")])
    supervisor = sign_in(factories.make_user(db, role="supervisor"))
    added = supervisor.form(
        f"/customers/{customer.id}/identities",
        {"channel": "email", "external_id": " liu@corp.example ", "verified": "true"},
    )
    assert added.status_code == 303
    db.rollback()
    identity = db.scalar(select(Identity).where(Identity.external_id == "liu@corp.example"))
    assert identity is not None and identity.customer_id == customer.id and identity.verified

    taken = supervisor.form(
        f"/customers/{customer.id}/identities",
        {"channel": "email", "external_id": "dup@example.cn"},
    )
    assert taken.status_code == 409
    assert "该渠道身份已属于其他客户" in taken.text
    assert f'href="/customers/{other.id}"' in taken.text
    assert f"/customers/{customer.id}/merge?source={other.id}" in taken.text
    assert 'value="dup@example.cn"' in taken.text  # what was typed stays in the form
    db.rollback()
    assert (
        db.scalar(select(Identity.customer_id).where(Identity.external_id == "dup@example.cn"))
        == other.id
    )

    bad = supervisor.form(
        f"/customers/{customer.id}/identities", {"channel": "Not A Channel", "external_id": "x"}
    )
    assert bad.status_code == 422
    assert "请选择渠道" in bad.text


# --- the timeline -------------------------------------------------------------------------


def test_the_timeline_shows_every_ticket_with_its_messages_on_every_channel(
    sign_in: SignIn, db: Session
) -> None:
    customer = _rich_customer(db)
    by_mail = factories.make_ticket(db, customer=customer, text="邮件里问发票", channel="email")
    by_chat = factories.make_ticket(db, customer=customer, text="微信上催发货", channel="wechat")
    ticket_service.do_add_message(db, SYSTEM, by_chat, text="已经加急处理", internal=False)
    ticket_service.do_add_message(db, SYSTEM, by_chat, text="仓库说明天发", internal=True)
    db.commit()
    browser = sign_in(factories.make_user(db))
    page = browser.client.get(f"/customers/{customer.id}/timeline")
    assert page.status_code == 200
    text = page.text
    newest_first = text.index(f'href="/tickets/{by_chat.id}"') < text.index(
        f'href="/tickets/{by_mail.id}"'
    )
    assert newest_first
    for body in ("邮件里问发票", "微信上催发货", "已经加急处理", "仓库说明天发"):
        assert body in text
    assert text.index("微信上催发货") < text.index("已经加急处理") < text.index("仓库说明天发")
    assert "内部备注" in text and "邮件" in text and "微信" in text


# --- merging --------------------------------------------------------------------------------


def test_a_supervisor_merges_a_duplicate_through_the_forms_and_undoes_it(
    sign_in: SignIn, db: Session
) -> None:
    target = _rich_customer(db)
    source = factories.make_customer(
        db, name="刘经理（微信）", note="重复档案", identities=[("wechat", "wx-dup-liu")]
    )
    moved = [factories.make_ticket(db, customer=source, subject=f"微信问题{n}") for n in range(2)]
    supervisor = sign_in(factories.make_user(db, role="supervisor", name="陈主管"))

    profile = supervisor.client.get(f"/customers/{target.id}")
    assert f'href="/customers/{target.id}/merge"' in profile.text
    found = supervisor.client.get(f"/customers/{target.id}/merge", params={"q": "刘经理"})
    assert found.status_code == 200
    assert f"source={source.id}" in found.text
    assert f"source={target.id}" not in found.text  # never itself
    preview = supervisor.client.get(
        f"/customers/{target.id}/merge", params={"q": "刘经理", "source": source.id}
    )
    assert preview.status_code == 200
    assert "确认合并" in preview.text
    assert "wx-dup-liu" in preview.text
    for ticket in moved:
        assert f'href="/tickets/{ticket.id}"' in preview.text
    assert "重复档案" in preview.text  # what stays on the duplicate is shown too
    assert _owner_of_tickets(db, [t.id for t in moved]) == {source.id}  # a preview moves nothing

    merged = supervisor.form(f"/customers/{target.id}/merge", {"source_id": str(source.id)})
    assert merged.status_code == 303
    assert merged.headers["location"] == f"/customers/{target.id}?done=merged"
    assert _owner_of_tickets(db, [t.id for t in moved]) == {target.id}
    assert _reread(db, source.id).merged_into_id == target.id
    merge = db.scalar(select(CustomerMerge).where(CustomerMerge.source_id == source.id))
    assert merge is not None

    after = supervisor.client.get(merged.headers["location"])
    assert "已合并" in after.text
    assert f"/customers/merges/{merge.id}/undo" in after.text
    assert "陈主管" in after.text
    for ticket in moved:
        assert f'href="/tickets/{ticket.id}"' in after.text  # the tickets are listed here now
    old = supervisor.client.get(f"/customers/{source.id}")
    assert "此客户已合并到" in old.text and f'href="/customers/{target.id}"' in old.text

    undone = supervisor.form(f"/customers/merges/{merge.id}/undo", {"back": str(target.id)})
    assert undone.status_code == 303
    assert undone.headers["location"] == f"/customers/{target.id}?done=unmerged"
    assert _owner_of_tickets(db, [t.id for t in moved]) == {source.id}
    assert _reread(db, source.id).merged_into_id is None
    page = supervisor.client.get(undone.headers["location"])
    assert "合并已撤销" in page.text
    assert f"/customers/merges/{merge.id}/undo" not in page.text  # nothing left to undo
    again = supervisor.form(f"/customers/merges/{merge.id}/undo")
    assert again.status_code == 409
    assert "该合并已撤销" in again.text


def test_merging_a_customer_into_itself_or_one_already_merged_is_refused_on_the_page(
    sign_in: SignIn, db: Session
) -> None:
    target = _rich_customer(db)
    gone = factories.make_customer(db, name="已合并的")
    admin = sign_in(factories.make_user(db, role="admin"))
    assert (
        admin.form(f"/customers/{target.id}/merge", {"source_id": str(gone.id)}).status_code == 303
    )
    itself = admin.client.get(f"/customers/{target.id}/merge", params={"source": target.id})
    assert itself.status_code == 422
    assert "不能把客户合并到自身" in itself.text
    posted = admin.form(f"/customers/{target.id}/merge", {"source_id": str(target.id)})
    assert posted.status_code == 422
    assert "不能把客户合并到自身" in posted.text
    twice = admin.form(f"/customers/{target.id}/merge", {"source_id": str(gone.id)})
    assert twice.status_code == 409
    assert "其中一个客户已被合并过" in twice.text
    assert _reread(db, target.id).merged_into_id is None


def test_an_agent_may_not_merge_or_undo_and_is_not_offered_to(sign_in: SignIn, db: Session) -> None:
    target = _rich_customer(db)
    source = factories.make_customer(db, name="重复的")
    merge = factories.make_customer(db, name="撤销用")
    from kefu.services.customers import profiles

    done = profiles.do_merge(db, SYSTEM, target_id=target.id, source_id=merge.id)
    db.commit()
    agent = sign_in(factories.make_user(db))
    profile = agent.client.get(f"/customers/{target.id}")
    assert profile.status_code == 200
    assert "/merge" not in profile.text
    assert f"/customers/merges/{done.id}/undo" not in profile.text
    assert "由主管或管理员操作" in profile.text
    page = agent.client.get(f"/customers/{target.id}/merge", params={"q": "重复"})
    assert page.status_code == 403
    assert "<html" in page.text
    refused = agent.form(f"/customers/{target.id}/merge", {"source_id": str(source.id)})
    assert refused.status_code == 403
    assert _reread(db, source.id).merged_into_id is None
    undo = agent.form(f"/customers/merges/{done.id}/undo")
    assert undo.status_code == 403
    db.rollback()
    assert db.get(CustomerMerge, done.id).undone_at is None  # type: ignore[union-attr]


def test_a_customer_of_another_group_is_a_404_page_on_every_route(
    sign_in: SignIn, db: Session
) -> None:
    mine, theirs = factories.make_group(db), factories.make_group(db)
    hidden = factories.make_ticket(db, group=theirs).customer
    factories.make_customer(db)  # a profile without tickets is everyone's (services rule)
    agent = sign_in(factories.make_user(db, groups=[mine]))
    for path in (
        f"/customers/{hidden.id}",
        f"/customers/{hidden.id}/timeline",
        f"/customers/{hidden.id}/tickets",
    ):
        answer = agent.client.get(path)
        assert answer.status_code == 404, path
        assert "<html" in answer.text and "客户不存在或无权访问" in answer.text, path
    panel = agent.client.get(f"/customers/{hidden.id}/panel", headers={"HX-Request": "true"})
    assert panel.status_code == 404
    assert panel.json()["error"]["code"] == "not_found"
    edit = agent.form(f"/customers/{hidden.id}", {"name": "改名"})
    assert edit.status_code == 404
    assert _reread(db, hidden.id).name != "改名"
    listed = agent.client.get("/customers")
    assert f'href="/customers/{hidden.id}"' not in listed.text
    assert agent.client.get("/customers/99999999999").status_code == 404
    assert agent.client.get("/customers/0").status_code == 422


# --- hostile text ---------------------------------------------------------------------------


def test_hostile_names_notes_tags_and_identities_are_shown_as_text_everywhere(
    sign_in: SignIn, db: Session
) -> None:
    evil = factories.make_customer(
        db,
        name=HOSTILE,
        note=HOSTILE,
        tags=["<b>tag</b>"],
        identities=[("wechat", "<svg onload=alert(2)>")],
    )
    target = factories.make_customer(db, name="正常客户")
    factories.make_ticket(db, customer=evil, subject=HOSTILE, text=HOSTILE)
    admin = sign_in(factories.make_user(db, role="admin"))
    pages = [
        f"/customers?q={httpx.QueryParams({'q': 'script'})['q']}",
        "/customers",
        f"/customers/{evil.id}",
        f"/customers/{evil.id}/panel",
        f"/customers/{evil.id}/timeline",
        f"/customers/{target.id}/merge?q=script&source={evil.id}",
    ]
    for path in pages:
        answer = admin.client.get(path)
        assert answer.status_code == 200, path
        assert "<script>alert" not in answer.text, path
        assert "<img src=x" not in answer.text, path
        assert "<svg onload" not in answer.text, path
        assert "<b>tag</b>" not in answer.text, path
        assert "&lt;script&gt;" in answer.text, path
    merged = admin.form(f"/customers/{target.id}/merge", {"source_id": str(evil.id)})
    history = admin.client.get(merged.headers["location"])
    assert "<script>alert" not in history.text and "&lt;script&gt;" in history.text
