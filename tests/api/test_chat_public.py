"""The widget's REST calls (/chat/api/{key}/…) on the live server: sessions, the visitor's
messages, files, the leave-a-message form, origins, and a visitor seeing only their own."""

from __future__ import annotations

import base64
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import select

from kefu.app import create_app
from kefu.db.models import Customer, Message, Ticket
from tests import factories
from tests.conftest import serve
from tests.visitors import Widget, bearer, refused_with, start

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@pytest.fixture
def channel(db):
    group = factories.make_group(db, "在线客服组")
    return factories.make_webchat_channel(
        db, name="演示商城", group_id=group.id, greeting="您好，有什么可以帮您？",
        offline_message="我们稍后联系您",
    )  # fmt: skip


def _say(server: str, key: str, token: str, text: str, client_id: str = "m1") -> int:
    widget = Widget(server, key, token)
    try:
        widget.hello()
        widget.send(type="message", client_id=client_id, text=text)
        return int(widget.until(lambda f: f["type"] == "accepted")["seq"])
    finally:
        widget.close()


def test_a_session_makes_an_anonymous_visitor_and_keeps_them(anon, channel):
    first = start(anon, channel.key)
    assert first["visitor"]["name"].startswith("访客 ")
    assert first["visitor"]["verified"] is False
    assert first["channel"] == {
        "name": "演示商城", "greeting": "您好，有什么可以帮您？", "language": "zh-CN",
        "offline_form": True, "offline_message": "我们稍后联系您", "bot": False,
    }  # fmt: skip
    assert first["last_seq"] == 0
    availability = first["availability"]
    assert availability["online"] is False and availability["queue_position"] is None
    assert availability["expected_response"]
    again = start(anon, channel.key, visitor_token=first["visitor_token"])
    assert again["visitor"] == first["visitor"]
    forged = start(anon, channel.key, visitor_token=first["visitor_token"][:-2] + "xx")
    assert forged["visitor"]["name"] != first["visitor"]["name"]  # a new visitor, no error


def test_an_unknown_or_disabled_channel_is_404(anon, channel, api):
    assert anon.post("/chat/api/wc_nope/session", json={}).status_code == 404
    api.patch(f"/api/v1/webchat/channels/{channel.id}", json={"enabled": False})
    answer = anon.post(f"/chat/api/{channel.key}/session", json={})
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"


def test_the_visitor_reads_only_their_own_messages(server, anon, channel, db):
    mine = start(anon, channel.key)["visitor_token"]
    theirs = start(anon, channel.key)["visitor_token"]
    my_seq = _say(server, channel.key, mine, "我的问题")
    their_seq = _say(server, channel.key, theirs, "别人的订单 SL999")
    listed = anon.get(f"/chat/api/{channel.key}/messages", headers=bearer(mine)).json()
    assert [m["seq"] for m in listed["messages"]] == [my_seq]
    # Asking "after" any seq never reaches into someone else's conversation.
    for after in (0, my_seq, their_seq - 1, their_seq):
        page = anon.get(
            f"/chat/api/{channel.key}/messages", params={"after": after}, headers=bearer(mine)
        ).json()
        assert their_seq not in [m["seq"] for m in page["messages"]]
    assert anon.get(f"/chat/api/{channel.key}/messages").status_code == 401
    other = factories.make_webchat_channel(db)
    assert anon.get(f"/chat/api/{other.key}/messages", headers=bearer(mine)).status_code == 401


def test_a_visitor_sends_an_image_and_it_is_served_back_as_a_sandboxed_download(
    server, anon, channel
):
    token = start(anon, channel.key)["visitor_token"]
    sent = anon.post(
        f"/chat/api/{channel.key}/uploads",
        headers=bearer(token),
        files={"file": ("收据", PNG, "text/html")},  # the browser's word counts for nothing
        data={"client_id": "up-1"},
    )
    assert sent.status_code == 200, sent.text
    message = sent.json()["message"]
    assert message["from"] == "visitor" and message["client_id"] == "up-1"
    [file] = message["attachments"]
    assert file["filename"] == "收据.png" and file["content_type"] == "image/png"
    assert file["size"] == len(PNG)
    got = anon.get(file["url"], headers=bearer(token))
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["content-type"] == "image/png"
    assert got.headers["content-disposition"].startswith("attachment;")
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-security-policy"] == "sandbox"
    # Never in the URL (the widget fetches with the header and shows a blob: address).
    assert anon.get(file["url"], params={"token": token}).status_code == 401
    someone_else = start(anon, channel.key)["visitor_token"]
    assert anon.get(file["url"], headers=bearer(someone_else)).status_code == 404
    assert anon.get(file["url"]).status_code == 401
    again = anon.post(
        f"/chat/api/{channel.key}/uploads", headers=bearer(token),
        files={"file": ("收据.png", PNG, "image/png")}, data={"client_id": "up-1"},
    )  # fmt: skip
    assert again.json()["message"]["seq"] == message["seq"]  # the same client id: stored once


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b"<html><script>alert(1)</script></html>", 415, "unsupported_file_type"),
        (b"MZ\x90\x00" + b"\0" * 60, 415, "unsupported_file_type"),
        (b"", 415, "unsupported_file_type"),
    ],
)
def test_files_that_are_not_images_or_pdf_are_refused(anon, channel, content, status, code):
    token = start(anon, channel.key)["visitor_token"]
    sent = anon.post(
        f"/chat/api/{channel.key}/uploads", headers=bearer(token),
        files={"file": ("photo.png", content, "image/png")},
    )  # fmt: skip
    assert sent.status_code == status and sent.json()["error"]["code"] == code


def test_a_file_over_the_limit_is_refused(anon, channel, live_app):
    token = start(anon, channel.key)["visitor_token"]
    limit = live_app.state.webchat.limits.max_upload_bytes
    sent = anon.post(
        f"/chat/api/{channel.key}/uploads", headers=bearer(token),
        files={"file": ("big.pdf", b"%PDF-1.4\n" + b"0" * limit, "application/pdf")},
    )  # fmt: skip
    assert sent.status_code == 413 and sent.json()["error"]["code"] == "attachment_too_large"


def test_the_leave_a_message_form_reaches_the_team_with_the_contact(anon, channel, db):
    token = start(anon, channel.key)["visitor_token"]
    url = f"/chat/api/{channel.key}/offline"
    nobody = anon.post(url, headers=bearer(token), json={"name": "张女士", "text": "退货问题"})
    assert nobody.status_code == 422 and nobody.json()["error"]["code"] == "contact_required"
    form = {"name": "张女士", "phone": "13800138000", "email": "Zhang@Example.cn",
            "text": "快递一周了还没到，请回电"}  # fmt: skip
    assert anon.post(url, headers=bearer(token), json=form).status_code == 201
    assert anon.post(url, headers=bearer(token), json=form).status_code == 201  # sent twice
    [message] = db.scalars(select(Message).where(Message.channel == "webchat")).all()
    assert "快递一周了还没到" in message.body_text and "13800138000" in message.body_text
    ticket = db.get(Ticket, message.ticket_id)
    assert ticket.group_id == channel.group_id
    assert [t.name for t in ticket.tags] == ["离线留言"]
    customer = db.get(Customer, ticket.customer_id)
    assert (customer.name, customer.phone, customer.email) == (
        "张女士",
        "13800138000",
        "zhang@example.cn",
    )


def test_the_form_is_closed_when_the_channel_has_none(anon, channel, api):
    api.patch(f"/api/v1/webchat/channels/{channel.id}", json={"offline_form": False})
    token = start(anon, channel.key)["visitor_token"]
    sent = anon.post(
        f"/chat/api/{channel.key}/offline", headers=bearer(token),
        json={"phone": "13800138000", "text": "你好"},
    )  # fmt: skip
    assert sent.status_code == 403


def test_only_the_channels_sites_may_call_it_from_a_browser(anon, api):
    made = api.post(
        "/api/v1/webchat/channels",
        json={"name": "商城", "allowed_origins": ["https://shop.example.cn"]},
    ).json()
    url = f"/chat/api/{made['key']}/session"
    site = {"Origin": "https://shop.example.cn"}
    preflight = anon.options(
        url, headers={**site, "Access-Control-Request-Method": "POST",
                      "Access-Control-Request-Headers": "authorization, content-type"},
    )  # fmt: skip
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "https://shop.example.cn"
    assert "Authorization" in preflight.headers["access-control-allow-headers"]
    answer = anon.post(url, headers=site, json={})
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "https://shop.example.cn"
    assert answer.headers["x-content-type-options"] == "nosniff"
    foreign = anon.post(url, headers={"Origin": "https://evil.example"}, json={})
    assert foreign.status_code == 403 and foreign.json()["error"]["code"] == "origin_not_allowed"
    assert "access-control-allow-origin" not in foreign.headers
    assert anon.post(url, json={}).status_code == 200  # no Origin: no browser's cross-site call


@contextmanager
def _server_with(settings, engine, **changes):
    app = create_app(settings.model_copy(update=changes), engine=engine)
    serving = serve(app)
    try:
        yield next(serving)
    finally:
        serving.close()


def test_visitors_are_rate_limited_per_visitor_and_per_address(settings, engine, db):
    channel = factories.make_webchat_channel(db)
    with _server_with(
        settings, engine, webchat_sessions_per_minute=3, webchat_messages_per_minute=2,
        webchat_address_messages_per_minute=3,
    ) as url, httpx.Client(base_url=url, timeout=30) as client:  # fmt: skip
        tokens = [start(client, channel.key)["visitor_token"] for _ in range(3)]
        refused = client.post(f"/chat/api/{channel.key}/session", json={})
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
        assert refused.headers["retry-after"]
        widget = Widget(url, channel.key, tokens[0])
        widget.hello()
        codes = []
        for n in range(3):
            widget.send(type="message", client_id=f"m{n}", text=f"第{n}条")
            codes.append(widget.until(lambda f: f["type"] in ("accepted", "error")))
        assert [f["type"] for f in codes] == ["accepted", "accepted", "error"]
        assert codes[2]["code"] == "rate_limited" and codes[2]["client_id"] == "m2"
        widget.close()
        other = Widget(url, channel.key, tokens[1])  # another visitor, the same address
        other.hello()
        other.send(type="message", client_id="x", text="你好")
        assert other.until(lambda f: f["type"] in ("accepted", "error"))["type"] == "accepted"
        other.send(type="message", client_id="y", text="你好")
        assert other.until(lambda f: f["type"] in ("accepted", "error"))["code"] == "rate_limited"
        other.close()


def test_a_socket_from_a_foreign_origin_is_refused(server, anon, channel):
    token = start(anon, channel.key)["visitor_token"]
    assert refused_with(server, channel.key, token, origin="https://evil.example") == 403


def test_messages_page_forward_without_end_when_many_arrive_at_once(server, anon, channel):
    token = start(anon, channel.key)["visitor_token"]
    widget = Widget(server, channel.key, token)
    widget.hello()
    for n in range(12):
        widget.send(type="message", client_id=f"m{n}", text=f"第{n}条")
    seqs = [widget.until(lambda f: f["type"] == "accepted")["seq"] for _ in range(12)]
    widget.close()
    held: set[int] = set()
    after, pages = 0, 0
    while pages < 20:
        page = anon.get(
            f"/chat/api/{channel.key}/messages", params={"after": after, "limit": 5},
            headers=bearer(token),
        ).json()  # fmt: skip
        pages += 1
        held |= {m["seq"] for m in page["messages"]}
        newest = max((m["seq"] for m in page["messages"]), default=after)
        if newest <= after or newest == page["last_seq"]:
            break
        after = newest
    assert held == set(seqs) and pages < 20


def test_upload_bodies_over_a_small_json_limit_still_reach_the_upload(anon, channel):
    token = start(anon, channel.key)["visitor_token"]
    pdf = b"%PDF-1.4\n" + base64.b64encode(b"x" * 1_500_000)  # above the 1 MiB JSON body limit
    sent = anon.post(
        f"/chat/api/{channel.key}/uploads", headers=bearer(token),
        files={"file": ("合同.pdf", pdf, "application/pdf")},
    )  # fmt: skip
    assert sent.status_code == 200, sent.text
