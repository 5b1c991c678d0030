"""The widget's files and the demo shop page, as a browser or another site fetches them."""

from __future__ import annotations

import re

from kefu.demo.webchat import DEMO_CHANNEL_KEY, ensure_demo_channel
from tests import factories


def test_widget_files_are_served_cacheable_and_revalidated(anon):
    for path, media_type, marker in (
        ("/chat/widget.js", "text/javascript", "/chat/ws/"),
        ("/chat/widget.css", "text/css", ".kf-launcher"),
    ):
        first = anon.get(path)
        assert first.status_code == 200
        assert first.headers["content-type"].startswith(media_type)
        assert marker in first.text
        assert first.headers["x-content-type-options"] == "nosniff"
        assert (
            first.headers["cross-origin-resource-policy"] == "cross-origin"
        )  # other sites embed it
        etag = first.headers["etag"]
        again = anon.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        changed = anon.get(path, headers={"If-None-Match": '"something-else"'})
        assert changed.status_code == 200 and changed.content == first.content


def test_widget_script_puts_data_in_the_page_as_text_only(anon):
    script = anon.get("/chat/widget.js").text
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script
    assert "textContent" in script


def test_demo_shop_needs_the_demo_channel(anon, db):
    missing = anon.get("/demo/shop")
    assert missing.status_code == 404
    assert "make demo" in missing.text

    ensure_demo_channel(db, secret_key=factories.SECRET_KEY)
    db.commit()
    page = anon.get("/demo/shop")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "示例商城" in page.text
    tags = re.findall(r"<script\b[^>]*>", page.text)
    assert tags == [
        f'<script src="/chat/widget.js" data-channel="{DEMO_CHANNEL_KEY}" data-lang="zh-CN" async>'
    ]
    # No inline script or style: the page's policy forbids both, and the widget needs neither.
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "<style" not in page.text and " style=" not in page.text
    assert anon.get("/demo/shop.css").headers["content-type"].startswith("text/css")
    # ?lang=en opens the widget in English; anything else is Chinese, never echoed into the page.
    assert 'data-lang="en"' in anon.get("/demo/shop", params={"lang": "en"}).text
    odd = anon.get("/demo/shop", params={"lang": '"><script>alert(1)</script>'}).text
    assert 'data-lang="zh-CN"' in odd and "alert(1)" not in odd


def test_a_disabled_demo_channel_hides_the_shop(anon, db):
    channel, _ = ensure_demo_channel(db, secret_key=factories.SECRET_KEY)
    channel.enabled = False
    db.commit()
    assert anon.get("/demo/shop").status_code == 404
