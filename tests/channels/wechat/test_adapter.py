"""The WeChat API client and adapter against the local fake WeChat server (itself checked
against wechatpy's client): sends, template messages, what each error means, and one token
refresh shared by concurrent senders in separate "processes"."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select
from wechatpy import WeChatClient

from kefu.channels.base import DeliveryFailed, OutboundDelivery
from kefu.channels.wechat.adapter import WechatAccounts, WechatAdapter
from kefu.db.engine import make_session_factory
from kefu.db.models import WechatAccessToken
from tests.fake_wechat import FakeWechat
from tests.wechat_peer import APP_ID, APP_SECRET, make_account


@pytest.fixture
def fake():
    with FakeWechat(app_id=APP_ID, app_secret=APP_SECRET) as running:
        yield running


@pytest.fixture
def account(db, settings, fake):
    return make_account(db, settings.secret_key, api_base_url=fake.url, template_id="TPL-REPLY")


def _accounts(engine, settings) -> WechatAccounts:
    return WechatAccounts(make_session_factory(engine), settings.secret_key, timeout=2.0)


def _delivery(account_id: int, text: str = "您好，已为您补发。", **target) -> OutboundDelivery:
    return OutboundDelivery(
        outbox_id=1, idempotency_key="kefu-1-abc", channel="wechat", kind="message",
        target={"account_id": account_id, "openid": "o-follower-1", **target}, ticket_id=1,
        message_id=1, text=text, created_at=datetime(2026, 12, 7, tzinfo=UTC),
    )  # fmt: skip


def test_the_fake_answers_wechatpy_as_wechat_would(fake):
    token = httpx.get(
        f"{fake.url}/cgi-bin/token",
        params={"grant_type": "client_credential", "appid": APP_ID, "secret": APP_SECRET},
    ).json()["access_token"]
    client = WeChatClient(APP_ID, APP_SECRET, access_token=token)
    client.API_BASE_URL = f"{fake.url}/cgi-bin/"
    assert client.message.send_text("o-follower-1", "你好")["errcode"] == 0
    answer = client.message.send_template("o-follower-1", "TPL", {"content": {"value": "你好"}})
    assert answer["errcode"] == 0 and answer["msgid"]
    fake.media["M1"] = (b"\xff\xd8jpeg", "image/jpeg")
    assert client.media.download("M1").content == b"\xff\xd8jpeg"
    assert fake.sent() == [
        {"touser": "o-follower-1", "msgtype": "text", "text": {"content": "你好"}}
    ]


def test_a_reply_goes_as_a_customer_service_message_with_one_token(engine, settings, fake, account):
    adapter = WechatAdapter(_accounts(engine, settings))
    adapter.send(_delivery(account.id, "第一条"))
    adapter.send(_delivery(account.id, "第二条"))
    assert [b["text"]["content"] for b in fake.sent()] == ["第一条", "第二条"]
    assert fake.token_requests == 1
    adapter.close()


def test_past_the_window_a_template_message_carries_the_reply(engine, settings, fake, account):
    adapter = WechatAdapter(_accounts(engine, settings))
    result = adapter.send(_delivery(account.id, "您的退款已到账", template=True))
    [sent] = fake.sent("/cgi-bin/message/template/send")
    assert (
        sent["template_id"] == "TPL-REPLY" and sent["data"]["content"]["value"] == "您的退款已到账"
    )
    assert result.external_ref and fake.sent() == []
    adapter.close()


@pytest.mark.parametrize(
    ("answer", "permanent", "reason"),
    [
        ({"errcode": 45015, "errmsg": "response out of time limit"}, True, "48 hours"),
        ({"errcode": 45047, "errmsg": "out of response count limit"}, True, "too many"),
        ({"errcode": -1, "errmsg": "system error"}, False, "errcode -1"),
        (502, False, "HTTP 502"),
    ],
)
def test_what_each_refusal_means(engine, settings, fake, account, answer, permanent, reason):
    adapter = WechatAdapter(_accounts(engine, settings))
    fake.fail_next("/cgi-bin/message/custom/send", answer)
    with pytest.raises(DeliveryFailed) as failed:
        adapter.send(_delivery(account.id))
    assert failed.value.permanent is permanent and reason in failed.value.reason
    adapter.close()


def test_a_refused_token_is_refreshed_once_and_the_send_tried_again(
    engine, settings, fake, account
):
    adapter = WechatAdapter(_accounts(engine, settings))
    adapter.send(_delivery(account.id, "一"))
    fake.revoke_token()  # WeChat ended it (another app fetched a new one, say)
    adapter.send(_delivery(account.id, "二"))
    assert [b["text"]["content"] for b in fake.sent()] == ["一", "二"]
    assert fake.token_requests == 2
    adapter.close()


def test_no_connection_is_temporary(engine, settings, db, account):
    account.api_base_url = "http://127.0.0.1:9"  # nothing listens there
    db.commit()
    adapter = WechatAdapter(_accounts(engine, settings))
    with pytest.raises(DeliveryFailed) as failed:
        adapter.send(_delivery(account.id))
    assert not failed.value.permanent
    adapter.close()


def test_concurrent_senders_share_one_token_refresh(engine, settings, fake, account, db):
    """Six senders, each with its own store and HTTP client (as separate processes would have),
    start together while WeChat is slow to give a token: it is asked once."""
    fake.token_delay = 0.3
    senders = [WechatAdapter(_accounts(engine, settings)) for _ in range(6)]
    start = threading.Barrier(len(senders))
    errors: list[BaseException] = []

    def send(adapter: WechatAdapter, n: int) -> None:
        start.wait()
        try:
            adapter.send(_delivery(account.id, f"消息 {n}"))
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=send, args=(a, n)) for n, a in enumerate(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert fake.token_requests == 1
    assert len(fake.sent()) == 6
    row = db.scalar(select(WechatAccessToken).where(WechatAccessToken.account_id == account.id))
    assert row.refreshes == 1 and "ACCESS_TOKEN" not in row.token  # sealed at rest
    for a in senders:
        a.close()


def test_an_api_address_that_became_internal_is_not_called(engine, settings, db, account):
    account.api_base_url = "http://10.9.9.9"  # written around the admin page's check
    db.commit()
    adapter = WechatAdapter(_accounts(engine, settings))
    with pytest.raises(DeliveryFailed) as failed:
        adapter.send(_delivery(account.id))
    assert failed.value.permanent and "refused" in failed.value.reason
    adapter.close()
