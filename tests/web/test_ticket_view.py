"""The ticket page over HTTP: the timeline in order with notes marked, analysis chips and the
words that raised them, the header's clocks and reasons, every action (and its refusals), the
composer (reply, note, files, another channel), a dead reply sent again, other groups' tickets,
and hostile content shown as text."""

from __future__ import annotations

import base64
import html
import json
import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from kefu.db.base import utcnow
from kefu.db.models import Attachment, AuditEvent, Message, OutboxEntry, Ticket, TicketLink
from kefu.domain.delivery import DeliveryState
from kefu.services.outbound import states
from tests import factories
from tests.checks import api_error
from tests.web.conftest import Browser

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
HOSTILE_BODY = "<img src=x onerror=alert(1)>"
HOSTILE_SUBJECT = "<script>alert('subject')</script>"
HOSTILE_FILE = '"><svg onload=alert(1)>.png'
HOSTILE_TAG = "<b>x</b>"


@pytest.fixture
def world(db):
    north, south = factories.make_group(db, "华北组"), factories.make_group(db, "华南组")
    customer = factories.make_customer(
        db, name="王小明", identities=[("webchat", "visitor-1"), ("wechat", "openid-1")]
    )
    return {
        "north": north,
        "south": south,
        "customer": customer,
        "agent": factories.make_user(db, groups=[north], name="李娜"),
        "colleague": factories.make_user(db, groups=[north], name="王磊"),
        "stranger": factories.make_user(db, groups=[south], name="赵婷"),
        "admin": factories.make_user(db, role="admin", name="周敏"),
        "ticket": factories.make_ticket(
            db, customer=customer, group=north, channel="email", text="我的快递还没到"
        ),
    }


def hx(browser: Browser, path: str, data: dict | None = None, **kwargs) -> httpx.Response:
    """A change as the page's htmx sends it: same origin, the CSRF header."""
    headers = {
        "HX-Request": "true",
        "X-CSRF-Token": browser.csrf,
        "Origin": str(browser.client.base_url).rstrip("/"),
    }
    return browser.client.post(path, data=data, headers=headers, **kwargs)


def customer_writes(integration: httpx.Client, name: str, text: str, **more: str) -> int:
    """A customer's message delivered through the API (analysed as intake does); its ticket."""
    sender = {"external_id": f"buyer-{name}", "name": name}
    body = {"channel": "api", "external_id": f"msg-{text}", "sender": sender, "text": text}
    posted = integration.post("/api/v1/inbound", json={**body, **more})
    assert posted.status_code == 201, posted.text
    return int(posted.json()["ticket_id"])


def refreshed(answer: httpx.Response) -> dict:
    assert answer.status_code == 204, answer.text
    return json.loads(answer.headers["HX-Trigger"])


def text_of(page: str) -> str:
    """The page's text as a reader sees it (tags removed, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def fresh(db, ticket_id: int) -> Ticket:
    db.rollback()
    db.expire_all()
    return db.get(Ticket, ticket_id)


# --- the page -------------------------------------------------------------------------------


def test_the_timeline_shows_messages_and_events_in_order_with_notes_marked(sign_in, world, db):
    ticket, agent = world["ticket"], sign_in(world["agent"])
    assert refreshed(
        hx(agent, f"/tickets/{ticket.id}/messages", {"text": "内部：仓库已查", "kind": "note"})
    )
    assert refreshed(hx(agent, f"/tickets/{ticket.id}/claim"))
    assert refreshed(hx(agent, f"/tickets/{ticket.id}/messages", {"text": "您好，今天发出"}))

    page = agent.client.get(f"/tickets/{ticket.id}")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    order = [
        page.text.index(s)
        for s in ("我的快递还没到", "内部：仓库已查", "客服认领了工单", "您好，今天发出")
    ]
    assert order == sorted(order)
    note = re.search(r'<li class="msg msg-note"[^>]*>.*?</li>', page.text, re.S)
    assert note and "内部：仓库已查" in note.group(0) and "内部备注" in note.group(0)
    reply = re.search(r'<li class="msg msg-outbound"[^>]*>.*?</li>', page.text, re.S)
    assert reply and "李娜" in reply.group(0) and "内部备注" not in reply.group(0)
    assert f'id="case-panel" hx-get="/tickets/{ticket.id}/case"' in page.text
    assert f'hx-get="/customers/{ticket.customer_id}/panel?ticket={ticket.id}"' in page.text
    for placeholder in ('id="suggestions"', 'id="norms"', 'id="kb-search"'):
        assert placeholder in page.text


def test_a_stranger_is_sent_to_sign_in_and_sees_nothing(anon, world):
    answer = anon.get(f"/tickets/{world['ticket'].id}", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/login?next=/tickets/{world['ticket'].id}"


def test_another_groups_ticket_is_a_404_page_everywhere(sign_in, world, db):
    ticket, stranger = world["ticket"], sign_in(world["stranger"])
    theirs = str(factories.make_ticket(db, customer=world["customer"], group=world["south"]).id)
    page = stranger.client.get(f"/tickets/{ticket.id}", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert "<html" in page.text and "工单不存在或无权访问" in page.text
    assert "我的快递还没到" not in page.text
    for part in ("head", "side", "timeline"):
        api_error(
            stranger.client.get(f"/tickets/{ticket.id}/{part}", headers={"HX-Request": "1"}),
            404,
            "not_found",
        )
    for path, data in (
        ("messages", {"text": "越权回复"}),
        ("claim", None),
        ("assign", {"assignee_id": "me"}),
        ("fields", {"priority": "P1"}),
        ("link", {"other_ticket_id": theirs}),
        ("merge", {"into_ticket_id": theirs}),
    ):
        api_error(hx(stranger, f"/tickets/{ticket.id}/{path}", data), 404, "not_found")
    assert fresh(db, ticket.id).assignee_id is None
    assert db.scalar(select(Message).where(Message.body_text == "越权回复")) is None


def test_chips_and_the_words_that_raised_them(sign_in, world, integration, db):
    text = "你们的充电宝爆炸了！再不处理我就找媒体曝光"
    ticket_id = customer_writes(integration, "陈先生", text)
    supervisor = sign_in(factories.make_user(db, role="supervisor"))
    page = supervisor.client.get(f"/tickets/{ticket_id}").text
    assert "P1 紧急" in page and "媒体曝光" in page and "人身安全" in page
    marks = re.findall(r'<mark class="cue cue-negative" title="([^"]*)">([^<]*)</mark>', page)
    assert marks, page
    assert any("媒体" in title for title, _ in marks)
    assert "".join(words for _, words in marks) in text  # the customer's own words, marked
    assert any("曝光" in words for _, words in marks)
    assert re.search(r'class="chip risk" title="[^"]*媒体[^"]*"', page)  # the reason on hover
    assert re.search(r'class="chip emotion-\w+" title="置信度 \d+%"', page)
    assert "分派原因" in page or "优先级原因" in page


def test_the_header_shows_the_sla_clocks_and_what_routing_decided(sign_in, world, db):
    ticket = world["ticket"]
    page = sign_in(world["agent"]).client.get(f"/tickets/{ticket.id}").text
    clocks = re.findall(r'<time class="clock" datetime="([^"]+)" data-due="([^"]+)"', page)
    assert clocks and all(a == b for a, b in clocks)
    assert "首次响应" in page and "解决时限" in page
    assert "华北组" in page and "未分配" in page


def test_next_and_previous_follow_my_queue_soonest_deadline_first(sign_in, world, db):
    agent = world["agent"]
    tickets = [
        factories.make_ticket(db, group=world["north"], assignee_id=agent.id) for _ in range(3)
    ]
    now = utcnow()
    for hours, t in zip((3, 1, 2), tickets, strict=True):
        t = db.get(Ticket, t.id)
        t.first_response_due_at = now + timedelta(hours=hours)
    db.commit()
    soonest, middle, latest = tickets[1].id, tickets[2].id, tickets[0].id
    page = sign_in(agent).client.get(f"/tickets/{middle}?from=view%3Dmine").text
    assert f'href="/tickets/{soonest}?from=view%3Dmine" data-shortcut="k"' in page
    assert f'href="/tickets/{latest}?from=view%3Dmine" data-shortcut="j"' in page
    first = sign_in(agent).client.get(f"/tickets/{soonest}").text
    assert (
        'data-shortcut="k"' not in first and f'href="/tickets/{middle}" data-shortcut="j"' in first
    )


def test_the_page_speaks_english_when_asked(sign_in, world):
    browser = sign_in(world["agent"])
    browser.client.get("/language?to=en&back=/inbox")
    page = browser.client.get(f"/tickets/{world['ticket'].id}").text
    assert "Reply to the customer" in page and "Internal note" in page
    assert "回复客户" not in page and "内部备注" not in page


# --- the composer -------------------------------------------------------------------------------


def test_a_reply_goes_out_on_the_channel_chosen_with_its_files(sign_in, world, db, held_outbox):
    ticket, agent = world["ticket"], sign_in(world["agent"])
    page = agent.client.get(f"/tickets/{ticket.id}").text
    options = re.findall(
        r'<option value="(\w+)"[^>]*>[^<]*</option>',
        page.split('name="channel"')[1].split("</select>")[0],
    )
    assert options == ["email", "webchat", "wechat"]  # the case's, then the customer's others

    files = [
        ("files", ("发票.png", PNG, "image/png")),
        ("files", ("说明.txt", b"hello", "text/plain")),
    ]
    said = refreshed(
        hx(
            agent,
            f"/tickets/{ticket.id}/messages",
            {"text": "网页聊天里回复您", "kind": "reply", "channel": "webchat"},
            files=files,
        )
    )
    assert said["kefu-ticket-refresh"] and said["kefu-toast"] == "回复已发送"
    message = db.get(Message, said["kefu-composer-sent"])
    assert (message.direction, message.channel, message.delivery_state) == (
        "outbound",
        "webchat",
        "queued",
    )
    names = sorted(
        a.filename
        for a in db.scalars(select(Attachment).where(Attachment.message_id == message.id))
    )
    assert names == ["发票.png", "说明.txt"]
    timeline = agent.client.get(f"/tickets/{ticket.id}/timeline").text
    image = db.scalar(select(Attachment).where(Attachment.filename == "发票.png"))
    assert f'<img src="/api/v1/attachments/{image.id}"' in timeline  # a thumbnail for the image
    assert timeline.count("<img ") == 1
    assert (
        agent.client.get(f"/api/v1/attachments/{image.id}").content == PNG
    )  # the session opens it
    assert "发送中" in timeline and "网页聊天" in timeline


def test_a_note_stays_inside_and_a_bad_composer_post_is_refused(sign_in, world, db, held_outbox):
    ticket, agent = world["ticket"], sign_in(world["agent"])
    said = refreshed(
        hx(
            agent,
            f"/tickets/{ticket.id}/messages",
            {"text": "备注：客户是老会员", "kind": "note", "channel": "webchat"},
        )
    )
    note = db.get(Message, said["kefu-composer-sent"])
    assert (note.direction, note.channel, note.delivery_state) == ("note", "email", None)
    assert db.scalar(select(OutboxEntry).where(OutboxEntry.message_id == note.id)) is None
    url = f"/tickets/{ticket.id}/messages"
    api_error(hx(agent, url, {"text": "  "}), 422, "empty_message")
    api_error(hx(agent, url, {"text": "x", "kind": "shout"}), 422, "validation_error")
    api_error(hx(agent, url, {"text": "x", "channel": "sms"}), 422, "channel_unreachable")
    api_error(hx(agent, url, {"text": "x", "channel": "pigeon"}), 422, "validation_error")
    api_error(hx(agent, url, {"text": "a\x00b"}), 422, "validation_error")
    eleven = [("files", (f"{i}.txt", b"x", "text/plain")) for i in range(11)]
    api_error(hx(agent, url, {"text": "x"}, files=eleven), 422, "too_many_attachments")
    no_token = agent.client.post(
        url, data={"text": "x"}, headers={"Origin": str(agent.client.base_url)}
    )
    assert no_token.status_code == 403
    foreign = agent.client.post(
        url,
        data={"text": "x", "csrf_token": agent.csrf},
        headers={"Origin": "https://evil.example"},
    )
    assert foreign.status_code == 403
    count = db.scalar(
        select(Message.id).where(Message.ticket_id == ticket.id, Message.body_text == "x")
    )
    assert count is None


def test_the_composer_shows_a_norms_refusal_and_sends_with_a_reason(
    sign_in, world, db, held_outbox
):
    ticket, agent = world["ticket"], sign_in(world["agent"])
    page = agent.client.get(f"/tickets/{ticket.id}").text
    assert 'id="norms-refusal"' in page and 'name="norms_override_reason"' in page
    url = f"/tickets/{ticket.id}/messages"
    refused = hx(agent, url, {"text": "您好，您的订单[单号]已发货，请问还有其他可以帮您的吗？"})
    error = api_error(refused, 422, "norms_blocked")
    assert [f["rule"] for f in error["details"]["findings"] if f["severity"] == "error"] == [
        "unfilled_placeholder"
    ]
    said = refreshed(
        hx(
            agent,
            url,
            {
                "text": "您好，您的订单[单号]已发货，请问还有其他可以帮您的吗？",
                "norms_override_reason": "单号稍后补发",
            },
        )
    )
    sent = db.get(Message, said["kefu-composer-sent"])
    assert (sent.norm_override_reason, sent.norm_override_by_id) == (
        "单号稍后补发",
        world["agent"].id,
    )


def test_a_file_over_the_limit_is_refused(sign_in, world, live_app):
    agent = sign_in(world["agent"])
    limit = live_app.state.settings.max_attachment_bytes
    big = [("files", ("big.bin", b"0" * (limit + 1), "application/octet-stream"))]
    api_error(
        hx(agent, f"/tickets/{world['ticket'].id}/messages", {"text": "大文件"}, files=big),
        413,
        "attachment_too_large",
    )


# --- actions -------------------------------------------------------------------------------------


def test_claiming_and_assigning(sign_in, world, db):
    ticket = world["ticket"]
    agent, colleague = sign_in(world["agent"]), sign_in(world["colleague"])
    page = agent.client.get(f"/tickets/{ticket.id}").text
    assert f'hx-post="/tickets/{ticket.id}/claim"' in page and 'data-shortcut="a"' in page
    assert refreshed(hx(agent, f"/tickets/{ticket.id}/claim"))["kefu-toast"] == "已认领"
    assert fresh(db, ticket.id).assignee_id == world["agent"].id
    api_error(hx(colleague, f"/tickets/{ticket.id}/claim"), 409, "already_claimed")
    taken = colleague.client.get(f"/tickets/{ticket.id}").text
    assert "改派给我" in taken and "李娜" in taken

    refreshed(hx(colleague, f"/tickets/{ticket.id}/assign", {"assignee_id": "me"}))
    assert fresh(db, ticket.id).assignee_id == world["colleague"].id
    refreshed(
        hx(colleague, f"/tickets/{ticket.id}/assign", {"assignee_id": str(world["agent"].id)})
    )
    assert fresh(db, ticket.id).assignee_id == world["agent"].id
    refreshed(hx(agent, f"/tickets/{ticket.id}/assign", {"assignee_id": ""}))
    assert fresh(db, ticket.id).assignee_id is None
    api_error(
        hx(agent, f"/tickets/{ticket.id}/assign", {"assignee_id": "李娜"}), 422, "validation_error"
    )
    api_error(
        hx(agent, f"/tickets/{ticket.id}/assign", {"assignee_id": "999999"}), 404, "not_found"
    )
    side = agent.client.get(f"/tickets/{ticket.id}/side").text
    assert "王磊" in side and "赵婷" not in side  # members of the case's group only


def test_transferring_to_another_group_sends_a_member_of_the_old_one_back_to_the_inbox(
    sign_in, world, db
):
    ticket, agent = world["ticket"], sign_in(world["agent"])
    hx(agent, f"/tickets/{ticket.id}/claim")
    answer = hx(agent, f"/tickets/{ticket.id}/transfer", {"group_id": str(world["south"].id)})
    assert answer.status_code == 204 and answer.headers["HX-Redirect"] == "/inbox"
    moved = fresh(db, ticket.id)
    assert (moved.group_id, moved.assignee_id) == (world["south"].id, None)
    assert agent.client.get(f"/tickets/{ticket.id}").status_code == 404
    stranger = sign_in(world["stranger"])  # the new group's
    assert stranger.client.get(f"/tickets/{ticket.id}").status_code == 200
    api_error(
        hx(stranger, f"/tickets/{ticket.id}/transfer", {"group_id": "999999"}), 404, "not_found"
    )
    api_error(
        hx(stranger, f"/tickets/{ticket.id}/transfer", {"group_id": "x"}), 422, "validation_error"
    )


def test_changing_priority_category_and_tags(sign_in, world, db):
    ticket, agent = world["ticket"], sign_in(world["agent"])
    fields = {"priority": "P2", "category": "logistics", "tags": "加急，会员 加急"}
    assert refreshed(hx(agent, f"/tickets/{ticket.id}/fields", fields))["kefu-toast"] == "已保存"
    changed = fresh(db, ticket.id)
    assert (changed.priority, changed.category) == ("P2", "logistics")
    assert sorted(t.name for t in changed.tags) == ["会员", "加急"]
    assert "李娜人工调整" in changed.priority_reason
    assert (
        refreshed(hx(agent, f"/tickets/{ticket.id}/fields", {**fields, "tags": "会员,加急"}))[
            "kefu-toast"
        ]
        == "没有改动"
    )
    api_error(
        hx(agent, f"/tickets/{ticket.id}/fields", {"priority": "P0"}), 422, "validation_error"
    )
    api_error(
        hx(agent, f"/tickets/{ticket.id}/fields", {"priority": "P2", "category": "x"}),
        422,
        "validation_error",
    )
    long_tag = {"priority": "P2", "tags": "长" * 51}
    api_error(hx(agent, f"/tickets/{ticket.id}/fields", long_tag), 422, "validation_error")
    page = agent.client.get(f"/tickets/{ticket.id}").text
    assert '<span class="chip tag">加急</span>' in page and "P2 高" in page


def test_merging_into_another_case_of_the_customer_and_linking(sign_in, world, db):
    ticket, agent = world["ticket"], sign_in(world["agent"])
    kept = factories.make_ticket(
        db, customer=world["customer"], group=world["north"], text="还是快递的事"
    )
    other_customer = factories.make_ticket(db, group=world["north"])
    api_error(
        hx(agent, f"/tickets/{ticket.id}/merge", {"into_ticket_id": str(ticket.id)}),
        422,
        "merge_same_ticket",
    )
    api_error(
        hx(agent, f"/tickets/{ticket.id}/merge", {"into_ticket_id": str(other_customer.id)}),
        409,
        "merge_other_customer",
    )
    api_error(
        hx(agent, f"/tickets/{ticket.id}/link", {"other_ticket_id": str(ticket.id)}),
        422,
        "self_link",
    )

    refreshed(hx(agent, f"/tickets/{ticket.id}/link", {"other_ticket_id": f"#{other_customer.id}"}))
    assert db.scalar(select(TicketLink).where(TicketLink.kind == "related")) is not None
    side = agent.client.get(f"/tickets/{ticket.id}/side").text
    assert f'href="/tickets/{other_customer.id}"' in side and "相关" in side

    merged = hx(agent, f"/tickets/{ticket.id}/merge", {"into_ticket_id": str(kept.id)})
    assert merged.status_code == 204 and merged.headers["HX-Redirect"] == f"/tickets/{kept.id}"
    assert fresh(db, ticket.id).merged_into_id == kept.id
    duplicate = agent.client.get(f"/tickets/{ticket.id}").text
    assert "此工单已作为重复工单合并到" in duplicate and 'id="composer"' not in duplicate
    kept_page = agent.client.get(f"/tickets/{kept.id}").text
    assert "我的快递还没到" in kept_page and "合并了重复工单" in kept_page


def test_a_dead_reply_is_sent_again_by_an_admin(sign_in, world, db, held_outbox):
    ticket = factories.make_ticket(
        db, customer=world["customer"], group=world["north"], channel="webchat"
    )
    reply = factories.make_reply(db, ticket, "您好，这是一条没送到的回复")
    entry = db.scalar(select(OutboxEntry).where(OutboxEntry.message_id == reply.id))
    states.move(db, entry, DeliveryState.DEAD, utcnow())
    db.commit()

    agent = sign_in(world["agent"])
    seen = agent.client.get(f"/tickets/{ticket.id}").text
    assert "发送失败" in seen and "请联系管理员重新发送" in seen and "/retry" not in seen
    api_error(hx(agent, f"/tickets/{ticket.id}/outbox/{entry.id}/retry"), 403, "forbidden")

    admin = sign_in(world["admin"])
    page = admin.client.get(f"/tickets/{ticket.id}").text
    assert f'hx-post="/tickets/{ticket.id}/outbox/{entry.id}/retry"' in page
    api_error(hx(admin, f"/tickets/{world['ticket'].id}/outbox/{entry.id}/retry"), 404, "not_found")
    said = refreshed(hx(admin, f"/tickets/{ticket.id}/outbox/{entry.id}/retry"))
    assert said[f"kefu-delivery-{reply.id}"]
    db.rollback()
    db.expire_all()
    assert db.get(OutboxEntry, entry.id).state == "queued"
    delivery = admin.client.get(f"/tickets/{ticket.id}/messages/{reply.id}/delivery").text
    assert "发送中" in delivery and "/retry" not in delivery
    api_error(hx(admin, f"/tickets/{ticket.id}/outbox/{entry.id}/retry"), 409, "not_retryable")
    api_error(
        admin.client.get(
            f"/tickets/{world['ticket'].id}/messages/{reply.id}/delivery",
            headers={"HX-Request": "1"},
        ),
        404,
        "not_found",
    )


# --- hostile content ----------------------------------------------------------------------------


def test_hostile_content_is_shown_as_text(sign_in, world, db, integration, client_for, held_outbox):
    ticket_id = customer_writes(
        integration,
        "<script>alert('name')</script>",
        HOSTILE_BODY,
        subject=HOSTILE_SUBJECT,
        html="<p>hi</p><img src=x onerror=alert(2)><script>alert(3)</script>",
    )
    admin = sign_in(world["admin"])
    refreshed(hx(admin, f"/tickets/{ticket_id}/fields", {"priority": "P3", "tags": HOSTILE_TAG}))
    # Through the API, as an integration or a script would: the name exactly as given (a
    # browser's form would send the quote as %22).
    upload = {"filename": HOSTILE_FILE, "content_type": "image/png"}
    upload["content_base64"] = base64.b64encode(PNG).decode()
    noted = client_for(world["admin"]).post(
        f"/api/v1/tickets/{ticket_id}/messages",
        json={"text": HOSTILE_BODY, "internal": True, "attachments": [upload]},
    )
    assert noted.status_code == 201, noted.text

    for path in ("", "/timeline", "/head", "/side"):
        page = admin.client.get(f"/tickets/{ticket_id}{path}").text
        for raw in ("<img src=x", "<script>alert", "<svg onload", "<b>x</b>", "onerror=alert(2)"):
            assert raw not in page, (path, raw)
    page = admin.client.get(f"/tickets/{ticket_id}").text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page
    shown = text_of(page)
    for hostile in (HOSTILE_BODY, HOSTILE_TAG, HOSTILE_FILE):
        assert hostile in shown, hostile
    assert HOSTILE_SUBJECT in shown or "alert('subject')" in shown


def test_agents_read_the_customers_numbers_masked_and_supervisors_in_full(sign_in, world, db):
    """The stored message keeps the numbers; the workspace masks them for agents."""
    text = "我的电话13812345678，身份证110101199003071234，退款到卡6222020012345678"
    ticket = factories.make_ticket(db, customer=world["customer"], group=world["north"], text=text)
    agent_browser = sign_in(world["agent"])
    agent = agent_browser.client
    agent_view = agent.get(f"/tickets/{ticket.id}/timeline").text
    assert "138****5678" in agent_view and "110101********1234" in agent_view
    assert "****5678" in agent_view and "13812345678" not in agent_view
    # the subject (the message's first words) in the page, the inbox and the customer's panel
    for path in (
        f"/tickets/{ticket.id}",
        "/inbox?view=groups",
        f"/customers/{ticket.customer_id}/panel",
    ):
        shown = agent.get(path).text
        assert "138****5678" in shown and "13812345678" not in shown, path
    # The agent shows them for the case: the timeline again, in full, and on the audit trail.
    assert f'hx-post="/tickets/{ticket.id}/timeline/full"' in agent_view
    shown = hx(agent_browser, f"/tickets/{ticket.id}/timeline/full").text
    assert "13812345678" in shown and "显示完整号码" not in shown
    supervisor = factories.make_user(db, role="supervisor", groups=[world["north"]])
    full_view = sign_in(supervisor).client.get(f"/tickets/{ticket.id}/timeline").text
    assert "显示完整号码" not in full_view
    assert "13812345678" in full_view and "110101199003071234" in full_view
    assert "13812345678" in sign_in(supervisor).client.get(f"/tickets/{ticket.id}").text
    db.rollback()
    assert db.scalar(select(Message.body_text).where(Message.ticket_id == ticket.id)) == text
    whats = db.scalars(select(AuditEvent.after).where(AuditEvent.action == "customer.access"))
    assert list(whats) == [{"what": f"page:ticket:{ticket.id}:full"}]
