"""The composer on a WeChat case: the time left of the 48-hour window; past it, the template
message (sent through the outbox to the fake WeChat API) and the customer's other channels."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kefu.db.models import Identity, Ticket
from tests.fake_wechat import FakeWechat
from tests.web.test_ticket_view import hx, refreshed, text_of
from tests.wechat_peer import (
    APP_ID,
    APP_SECRET,
    Peer,
    age_messages,
    make_account,
    message_xml,
    writing,
)


@pytest.fixture
def fake():
    with FakeWechat(app_id=APP_ID, app_secret=APP_SECRET) as running:
        yield running


def test_the_composer_counts_down_the_window_then_offers_a_template(
    anon, db, settings, fake, sign_in, admin
):
    account = make_account(db, settings.secret_key, api_base_url=fake.url, template_id="TPL-9")
    query, body = Peer().plain(message_xml("text", openid="o-composer", Content="请问发货了吗？"))
    assert (
        anon.post(f"/api/v1/channels/wechat/{account.key}", params=query, content=body).text
        == "success"
    )
    ticket = db.scalar(select(Ticket).where(Ticket.channel == "wechat"))
    browser = sign_in(admin)

    page = text_of(browser.client.get(f"/tickets/{ticket.id}").text)
    assert "微信 48 小时内可自由回复，剩余 47 小时 59 分" in page or "剩余 48 小时 0 分" in page

    age_messages(db, ticket.id, 50)
    writing(db).add(
        Identity(customer_id=ticket.customer_id, channel="email", external_id="composer@example.cn")
    )
    db.commit()
    page = browser.client.get(f"/tickets/{ticket.id}").text
    assert "已超过 48 小时" in text_of(page) and 'name="wechat_template"' in page
    assert "邮件" in text_of(page.split('id="wechat-window"')[1].split("</div>")[0])

    url = f"/tickets/{ticket.id}/messages"
    refused = hx(browser, url, {"text": "您好，已经发货了。"})
    assert refused.status_code == 422 and "wechat_window_closed" in refused.text
    refreshed(hx(browser, url, {"text": "您好，已经发货了。", "wechat_template": "1"}))
    fake.wait_for(lambda: len(fake.sent("/cgi-bin/message/template/send")) == 1)
    assert (
        fake.sent("/cgi-bin/message/template/send")[0]["data"]["content"]["value"]
        == "您好，已经发货了。"
    )
