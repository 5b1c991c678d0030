"""The widget in a real browser against the real server: reliability across dropped connections
and reloads, text-only rendering of what people write, keyboard use, English, other sites,
uploads and the offline form."""

from __future__ import annotations

import re
import struct
import threading
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Browser, Page, WebSocketRoute, expect

from kefu.demo.webchat import DEMO_CHANNEL_KEY, ensure_demo_channel
from tests import factories
from tests.browser.conftest import PageErrors, new_context
from tests.browser.widget import ChatWidget, wait_for


class SocketSwitch:
    """The widget's WebSocket routed through the test: ``down()`` refuses new connections,
    ``drop()`` cuts the open ones (both ends, like a lost network), ``up()`` lets them through."""

    def __init__(self, page: Page) -> None:
        self.is_up = True
        self.open: list[tuple[WebSocketRoute, WebSocketRoute]] = []
        self.page = page
        page.route_web_socket(re.compile(r"/chat/ws/"), self._route)

    def _route(self, ws: WebSocketRoute) -> None:
        if not self.is_up:
            ws.close(code=1012, reason="network down (test)")
            return
        self.open.append((ws, ws.connect_to_server()))

    def down(self) -> None:
        self.is_up = False
        for page_side, server_side in self.open:
            page_side.close(code=1012, reason="network down (test)")
            server_side.close()
        self.open.clear()

    def up(self) -> None:
        self.is_up = True
        self.page.evaluate("window.dispatchEvent(new Event('online'))")  # as the browser would


def _ticket_messages(api, sender=None):
    items = api.get("/api/v1/tickets", params={"channel": "webchat"}).json()["items"]
    if not items:
        return []
    messages = api.get(f"/api/v1/tickets/{items[0]['id']}").json()["messages"]
    return [m for m in messages if sender is None or m["direction"] == sender]


def test_nothing_is_lost_or_doubled_across_drops_and_reloads(
    browser: Browser, page_errors: PageErrors, shop, api
):
    context = new_context(browser, page_errors)
    page = context.new_page()
    switch = SocketSwitch(page)
    page.goto(shop)
    widget = ChatWidget(page)
    widget.open()
    widget.send("第一条：在吗？")
    expect(widget.sent()).to_have_count(1)
    ticket_id = wait_for(
        lambda: api.get("/api/v1/tickets", params={"channel": "webchat"}).json()["items"]
    )[0]["id"]

    # The connection drops; the visitor keeps writing and the agent answers meanwhile.
    switch.down()
    expect(page.get_by_role("status").filter(has_text="网络已断开")).to_be_visible()
    widget.send("第二条：断网时写的")
    widget.send("第三条：还是断网")
    expect(widget.pending()).to_have_count(2)
    assert (
        api.post(
            f"/api/v1/tickets/{ticket_id}/messages", json={"text": "断线期间客服的回复"}
        ).status_code
        == 201
    )

    switch.up()  # the widget resumes after its last seq and sends what waited, each once
    expect(widget.sent()).to_have_count(3)
    expect(widget.messages("agent").locator(".kf-text")).to_have_text(["断线期间客服的回复"])

    # Down again, write, and leave the page: the message waits in the page's storage.
    switch.down()
    widget.send("第四条：写完就刷新了页面")
    expect(widget.pending()).to_have_count(1)
    page.reload()
    widget.open()
    expect(widget.pending()).to_have_count(1)
    switch.up()
    expect(widget.sent()).to_have_count(4)
    expect(widget.pending()).to_have_count(0)

    expected = [
        "第一条：在吗？",
        "第二条：断网时写的",
        "第三条：还是断网",
        "第四条：写完就刷新了页面",
    ]
    assert widget.texts("visitor") == expected
    assert widget.texts("agent") == ["断线期间客服的回复"]
    seqs = widget.seqs()
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs) == 5
    stored = wait_for(
        lambda: len(_ticket_messages(api, "inbound")) >= 4 and _ticket_messages(api, "inbound")
    )
    counts = Counter(m["body_text"] for m in stored)
    assert counts == Counter(expected)  # every message stored exactly once
    assert page.evaluate(f"localStorage.getItem('kefu:{DEMO_CHANNEL_KEY}:outbox')") == "[]"
    context.close()


def test_what_people_write_is_shown_as_text(
    browser: Browser, page_errors: PageErrors, shop, api, db, client_for
):
    agent = factories.make_user(db, role="admin", name="<i>坏</i>客服")
    payload = '<img src=x onerror="window.__pwned=1">'
    reply = (
        "<script>window.__pwned=2</script><b>粗体</b> javascript:window.__pwned=3 "
        'http://shop.example.cn/a"><svg onload="window.__pwned=4">'
    )
    context = new_context(browser, page_errors)
    page = context.new_page()
    page.goto(shop)
    widget = ChatWidget(page)
    widget.open()
    widget.send(payload)
    expect(widget.sent()).to_have_count(1)
    ticket_id = wait_for(
        lambda: api.get("/api/v1/tickets", params={"channel": "webchat"}).json()["items"]
    )[0]["id"]
    assert (
        client_for(agent)
        .post(f"/api/v1/tickets/{ticket_id}/messages", json={"text": reply})
        .status_code
        == 201
    )

    agent_message = widget.messages("agent")
    expect(agent_message.locator(".kf-text")).to_have_text(reply)
    expect(agent_message.locator(".kf-author")).to_have_text("<i>坏</i>客服")
    expect(widget.sent().locator(".kf-text")).to_have_text(payload)
    bodies = page.locator(".kf-msg")
    assert bodies.locator("img, script, b, i, svg, iframe").count() == 0
    links = bodies.locator("a")
    assert links.evaluate_all("links => links.map(a => a.protocol)") == ["http:"]
    assert page.evaluate("window.__pwned") is None
    context.close()


def test_a_keyboard_alone_opens_writes_picks_an_emoji_and_closes(
    browser: Browser, page_errors: PageErrors, shop
):
    context = new_context(browser, page_errors)
    page = context.new_page()
    page.goto(shop)
    widget = ChatWidget(page)
    expect(widget.launcher).to_have_attribute("aria-expanded", "false")
    for _ in range(40):  # Tab through the shop until the chat button has the focus
        page.keyboard.press("Tab")
        if widget.launcher.evaluate("b => b.getRootNode().activeElement === b"):
            break
    else:
        pytest.fail("Tab never reached the chat button")
    page.keyboard.press("Enter")
    expect(widget.launcher).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("dialog", name="示例商城在线客服")).to_be_visible()
    expect(widget.input).to_be_focused()

    page.keyboard.type("第一行")
    page.keyboard.press("Shift+Enter")  # a new line, not a send
    page.keyboard.type("第二行")
    expect(widget.pending()).to_have_count(0)
    expect(widget.sent()).to_have_count(0)
    page.keyboard.press("Enter")
    expect(widget.sent().locator(".kf-text")).to_have_text("第一行\n第二行")

    emoji = page.get_by_role("button", name="插入表情")
    emoji.focus()
    page.keyboard.press("Enter")
    expect(emoji).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    expect(widget.input).to_be_focused()
    expect(widget.input).to_have_value("😁")
    expect(emoji).to_have_attribute("aria-expanded", "false")

    page.keyboard.press("Escape")
    expect(page.locator(".kf-panel")).to_be_hidden()
    expect(widget.launcher).to_have_attribute("aria-expanded", "false")
    assert widget.launcher.evaluate("b => b.getRootNode().activeElement === b")
    context.close()


def _embedding_page(script_src: str, lang: str) -> bytes:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Another shop</title></head>'
        f'<body><h1>Another shop</h1><script src="{script_src}" data-channel="{DEMO_CHANNEL_KEY}" '
        f'data-lang="{lang}" async></script></body></html>'
    ).encode()


@contextmanager
def _another_site(page_body: bytes) -> Iterator[int]:
    """Another web site (a real server on loopback, its own port: its own origin) whose page
    embeds kefu's widget; yields its port."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(page_body)

        def log_message(self, *args: object) -> None:
            pass

    site = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    try:
        yield site.server_address[1]
    finally:
        site.shutdown()
        site.server_close()


def test_english_on_another_site_and_nothing_on_a_site_not_allowed(
    browser: Browser, page_errors: PageErrors, server, db
):
    with _another_site(_embedding_page(f"{server}/chat/widget.js", "en")) as port:
        allowed, refused = f"http://127.0.0.1:{port}", f"http://localhost:{port}"
        ensure_demo_channel(db, secret_key=factories.SECRET_KEY, origins=[allowed])
        db.commit()
        context = new_context(browser, page_errors)
        page = context.new_page()
        page.goto(allowed)
        widget = ChatWidget(page, input_label="Message")
        expect(page.get_by_role("button", name="Open chat")).to_be_visible()
        widget.open()
        expect(widget.input).to_have_attribute("placeholder", "Type a message…")
        widget.send("Where is my parcel?")
        expect(widget.sent()).to_have_count(1)
        expect(widget.sent().locator(".kf-state")).to_have_text("Sent")

        other = context.new_page()
        asked: list[str] = []
        other.on("request", lambda r: asked.append(r.url) if r.url.endswith("/session") else None)
        other.goto(refused)
        # kefu refuses the origin (403, no CORS grant, so the page cannot even read it); the
        # widget asks again later, so a second request shows it took the first answer as no.
        wait_for(lambda: len(asked) >= 2, page=other)
        assert other.locator(".kf-launcher").count() == 0
        context.close()


def _png(width: int, height: int) -> bytes:
    """A small valid PNG (one colour), made here so the test needs no image library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\x5a\x1f" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def test_an_image_goes_up_and_shows_and_a_disguised_file_is_refused(
    browser: Browser, page_errors: PageErrors, shop, api
):
    context = new_context(browser, page_errors)
    page = context.new_page()
    page.goto(shop)
    widget = ChatWidget(page)
    widget.open()
    page.locator(".kf-file").set_input_files(
        files=[{"name": "快递单<照片>.png", "mimeType": "image/png", "buffer": _png(40, 30)}]
    )
    image = widget.sent().locator("img.kf-image")
    expect(image).to_have_attribute("alt", "快递单<照片>.png")
    wait_for(lambda: image.evaluate("img => img.complete && img.naturalWidth") == 40)
    stored = wait_for(lambda: _ticket_messages(api, "inbound"))
    attachment = stored[0]["attachments"][0]
    assert attachment["content_type"] == "image/png" and attachment["size"] > 0

    page.locator(".kf-file").set_input_files(
        files=[
            {
                "name": "invoice.png",
                "mimeType": "image/png",
                "buffer": b"<html><script>alert(1)</script>",
            }
        ]
    )
    failed = page.locator(".kf-msg[data-from='visitor'][data-state='failed']")
    expect(failed).to_have_count(1)
    expect(failed.get_by_role("button", name="重试")).to_be_visible()
    context.close()


def test_with_nobody_online_the_visitor_leaves_a_phone_number(
    browser: Browser, page_errors: PageErrors, shop, api
):
    context = new_context(browser, page_errors)
    page = context.new_page()
    page.goto(shop)
    ChatWidget(page).open()
    expect(page.locator(".kf-subtitle")).to_contain_text("客服暂时不在线")
    form = page.get_by_role("form", name="留下联系方式")
    form.get_by_role("button", name="提交").click()
    expect(form.get_by_role("alert")).to_have_text("请填写手机号或邮箱")
    form.get_by_label("称呼").fill("李女士")
    form.get_by_label("手机号").fill("13800138000")
    form.get_by_label("留言内容").fill("耳机一周了还没到，麻烦回电")
    form.get_by_role("button", name="提交").click()
    expect(page.get_by_text("已收到您的留言")).to_be_visible()
    customers = wait_for(lambda: api.get("/api/v1/customers", params={"q": "13800138000"}).json())
    assert customers[0]["phone"] == "13800138000"
    context.close()
