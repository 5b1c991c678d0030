"""The WeChat callback on a live kefu, called the way WeChat's servers do, built with wechatpy:
URL verification, plaintext and safe-mode messages and events, refusals that store nothing,
the bot's passive reply within the window, and an agent's reply through the outbox to the
(fake) WeChat API."""

from __future__ import annotations

import time
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select

from kefu.db.models import (
    Attachment,
    AuditEvent,
    Identity,
    InboundPayload,
    Message,
    OutboxEntry,
    Ticket,
    WechatAccount,
    WechatFollower,
)
from tests.fake_wechat import FakeWechat
from tests.wechat_peer import (
    APP_ID,
    APP_SECRET,
    Peer,
    age_messages,
    make_account,
    message_xml,
    parse_message_field,
    writing,
)


@pytest.fixture
def fake():
    with FakeWechat(app_id=APP_ID, app_secret=APP_SECRET) as running:
        yield running


@pytest.fixture
def peer():
    return Peer()


@pytest.fixture
def account(db, settings, fake):
    return make_account(db, settings.secret_key, api_base_url=fake.url)


def _url(account) -> str:
    return f"/api/v1/channels/wechat/{account.key}"


def _post(anon, account, query, body):
    return anon.post(
        _url(account), params=query, content=body, headers={"Content-Type": "text/xml"}
    )


def _count(db, model) -> int:
    db.rollback()  # a fresh read: what the server committed
    return db.scalar(select(func.count()).select_from(model))


# --- URL verification ----------------------------------------------------------------------------


def test_url_verification_echoes_when_the_signature_verifies(anon, account, peer):
    query = {**peer.query(), "echostr": "5837397520000000000"}
    answer = anon.get(_url(account), params=query)
    assert answer.status_code == 200 and answer.text == "5837397520000000000"

    forged = {**query, "signature": "0" * 40}
    assert anon.get(_url(account), params=forged).status_code == 401
    stale = {**peer.query(timestamp=int(time.time()) - 600), "echostr": "1"}
    assert anon.get(_url(account), params=stale).status_code == 401
    assert anon.get("/api/v1/channels/wechat/wx_nobody", params=query).status_code == 404


def test_safe_mode_url_verification_answers_the_decrypted_echostr(anon, account, peer):
    query = peer.query()
    envelope = peer.crypto.encrypt_message("echo-4242", query["nonce"], query["timestamp"])
    echostr = parse_message_field(envelope, "Encrypt")  # what WeChat sends, encrypted
    signed = parse_message_field(envelope, "MsgSignature")
    answer = anon.get(_url(account), params={**query, "echostr": echostr, "msg_signature": signed})
    assert answer.status_code == 200 and answer.text == "echo-4242"


# --- messages ------------------------------------------------------------------------------------


def test_a_plaintext_text_message_opens_a_case_once(anon, db, account, peer):
    xml = message_xml("text", openid="o-plain-1", msg_id=7001, Content="我的订单还没发货")
    query, body = peer.plain(xml)
    answer = _post(anon, account, query, body)
    assert answer.status_code == 200 and answer.text == "success"
    query, body = peer.plain(xml)  # WeChat's retry of the same MsgId
    assert _post(anon, account, query, body).text == "success"

    [message] = db.scalars(select(Message).where(Message.channel == "wechat"))
    assert message.body_text == "我的订单还没发货" and message.external_id == f"{account.id}:7001"
    ticket = db.get(Ticket, message.ticket_id)
    assert ticket.channel == "wechat"
    identity = db.scalar(select(Identity).where(Identity.customer_id == ticket.customer_id))
    assert (identity.channel, identity.external_id) == ("wechat", "o-plain-1")
    follower = db.scalar(select(WechatFollower))
    assert follower.openid == "o-plain-1" and follower.account_id == account.id


def test_safe_mode_text_image_voice_and_location(anon, db, account, peer, fake):
    fake.media["MEDIA-PIC-1"] = (b"\xff\xd8\xff\xe0 a jpeg", "image/jpeg")
    sent = [
        message_xml("text", openid="o-safe", Content="你好，在吗"),
        message_xml("image", openid="o-safe", PicUrl="http://mmbiz.example/pic", MediaId="MEDIA-PIC-1"),
        message_xml("voice", openid="o-safe", MediaId="MEDIA-VOICE-1", Format="amr", Recognition="我要退货"),
        message_xml("voice", openid="o-safe", MediaId="MEDIA-VOICE-2", Format="amr"),
        message_xml("location", openid="o-safe", Location_X="31.2304", Location_Y="121.4737", Scale="15", Label="上海市黄浦区"),
    ]  # fmt: skip
    for xml in sent:
        query, body = peer.safe(xml)
        answer = _post(anon, account, query, body)
        assert answer.status_code == 200 and answer.text == "success"
    texts = list(
        db.scalars(
            select(Message.body_text).where(Message.channel == "wechat").order_by(Message.id)
        )
    )
    assert texts == [
        "你好，在吗", "[图片]", "我要退货", "[语音] MEDIA-VOICE-2", "[位置] 上海市黄浦区（31.2304, 121.4737）",
    ]  # fmt: skip
    assert (
        len({t for t in db.scalars(select(Message.ticket_id).where(Message.channel == "wechat"))})
        == 1
    )

    def picture_stored() -> bool:
        db.rollback()  # a fresh read each time: SQLite keeps a transaction's first snapshot
        return (
            db.scalar(select(Attachment).where(Attachment.content_type == "image/jpeg")) is not None
        )

    fake.wait_for(picture_stored)
    attachment = db.scalar(select(Attachment))
    image = db.scalar(select(Message).where(Message.body_text == "[图片]"))
    assert attachment.message_id == image.id and attachment.size == len(b"\xff\xd8\xff\xe0 a jpeg")


def test_subscribe_is_greeted_and_unsubscribe_recorded_without_a_case(
    anon, db, settings, fake, peer
):
    account = make_account(
        db, settings.secret_key, api_base_url=fake.url, greeting="欢迎关注！有问题随时留言。"
    )
    query, body = peer.safe(message_xml("event", openid="o-fan", Event="subscribe"))
    answer = _post(anon, account, query, body)
    reply = peer.read_reply(answer.text, query)  # decrypted and its signature checked by wechatpy
    assert (reply.type, reply.target, reply.content) == (
        "text",
        "o-fan",
        "欢迎关注！有问题随时留言。",
    )

    created = int(time.time())
    xml = message_xml("event", openid="o-fan", Event="unsubscribe", created=created)
    for _ in range(2):  # the second: WeChat's retry, taken once
        query, body = peer.safe(xml)
        assert _post(anon, account, query, body).text == "success"
    assert _count(db, Ticket) == 0
    follower = db.scalar(select(WechatFollower))
    assert follower.subscribed is False and follower.unsubscribed_at is not None
    actions = list(
        db.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.object_type == "wechat_follower")
            .order_by(AuditEvent.id)
        )
    )
    assert actions == ["wechat.subscribe", "wechat.unsubscribe"]
    assert _count(db, InboundPayload) == 2


def test_other_message_kinds_are_kept_raw_and_ignored(anon, db, account, peer):
    query, body = peer.plain(
        message_xml("video", openid="o-video", MediaId="V1", ThumbMediaId="T1")
    )
    assert _post(anon, account, query, body).text == "success"
    assert _count(db, Ticket) == 0 and _count(db, InboundPayload) == 1


# --- refusals ------------------------------------------------------------------------------------


def test_forged_stale_or_downgraded_callbacks_are_refused_and_store_nothing(
    anon, db, settings, account, fake
):
    xml = message_xml("text", openid="o-forger", Content="伪造的消息")
    forged = Peer(token="not-the-token")
    query, body = forged.plain(xml)
    assert _post(anon, account, query, body).status_code == 401
    query, body = Peer(aes_key="A" * 43).safe(xml)  # signed right, encrypted with another key
    assert _post(anon, account, query, body).status_code == 401
    query, body = Peer().plain(xml, timestamp=int(time.time()) - 301)
    assert _post(anon, account, query, body).status_code == 401
    query, body = Peer().safe(xml)
    query["msg_signature"] = "f" * 40
    assert _post(anon, account, query, body).status_code == 401
    safe_only = make_account(db, settings.secret_key, api_base_url=fake.url, message_mode="safe")
    query, body = Peer().plain(xml)  # a safe-mode account never takes plaintext
    assert _post(anon, safe_only, query, body).status_code == 401
    assert (
        _count(db, InboundPayload) == 0
        and _count(db, Message) == 0
        and _count(db, WechatFollower) == 0
    )


# --- replies -------------------------------------------------------------------------------------


def test_the_bots_answer_is_the_passive_reply_within_the_window(
    anon, db, settings, fake, peer, demo_kb
):
    account = make_account(db, settings.secret_key, api_base_url=fake.url, bot_mode="first")
    query, body = peer.safe(message_xml("text", openid="o-bot", Content="怎么申请退货退款？"))
    answer = _post(anon, account, query, body)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/xml; charset=utf-8"  # ASVS V4.1.1
    reply = peer.read_reply(answer.text, query)
    bot_message = db.scalar(select(Message).where(Message.author_type == "bot"))
    assert (
        reply.type == "text" and reply.content == bot_message.body_text and reply.target == "o-bot"
    )
    entry = db.scalar(select(OutboxEntry).where(OutboxEntry.message_id == bot_message.id))
    assert (entry.state, entry.external_ref) == ("sent", "passive-reply")
    time.sleep(0.3)  # the relay leaves it be: nothing goes through the API
    assert fake.sent() == []


@contextmanager
def _passive_seconds(live_app, seconds: float):
    before = live_app.state.settings
    live_app.state.settings = before.model_copy(update={"wechat_passive_reply_seconds": seconds})
    try:
        yield
    finally:
        live_app.state.settings = before


def test_a_late_bot_answer_goes_through_the_customer_service_api(
    anon, db, settings, fake, peer, demo_kb, live_app
):
    account = make_account(db, settings.secret_key, api_base_url=fake.url, bot_mode="first")
    with _passive_seconds(live_app, 0.0):  # no time to wait: the answer leaves later
        query, body = peer.plain(message_xml("text", openid="o-late", Content="怎么申请退货退款？"))
        assert _post(anon, account, query, body).text == "success"
    fake.wait_for(lambda: len(fake.sent()) == 1)
    bot_message = db.scalar(select(Message).where(Message.author_type == "bot"))
    assert fake.sent() == [
        {"touser": "o-late", "msgtype": "text", "text": {"content": bot_message.body_text}}
    ]


def _wechat_case(anon, db, account, peer, openid: str) -> Ticket:
    query, body = peer.plain(message_xml("text", openid=openid, Content="发票什么时候开？"))
    assert _post(anon, account, query, body).text == "success"
    return db.scalar(select(Ticket).where(Ticket.channel == "wechat"))


def test_an_agents_reply_reaches_the_wechat_api_through_the_outbox(
    anon, db, account, peer, fake, api
):
    ticket = _wechat_case(anon, db, account, peer, "o-agent")
    answer = api.post(
        f"/api/v1/tickets/{ticket.id}/messages", json={"text": "您好，发票将在三个工作日内开具。"}
    )
    assert answer.status_code == 201, answer.text
    fake.wait_for(lambda: len(fake.sent()) == 1)
    assert fake.sent()[0] == {
        "touser": "o-agent",
        "msgtype": "text",
        "text": {"content": "您好，发票将在三个工作日内开具。"},
    }
    assert fake.token_requests == 1


def test_past_48_hours_a_free_reply_is_refused_and_a_template_message_offered(
    anon, db, account, peer, fake, api
):
    ticket = _wechat_case(anon, db, account, peer, "o-late-reply")
    age_messages(db, ticket.id, 49)
    refused = api.post(f"/api/v1/tickets/{ticket.id}/messages", json={"text": "您好，久等了。"})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "wechat_window_closed"
    no_template = api.post(
        f"/api/v1/tickets/{ticket.id}/messages",
        json={"text": "您好，久等了。", "wechat_template": True},
    )
    assert no_template.json()["error"]["code"] == "wechat_template_missing"

    writing(db)
    db.get(WechatAccount, account.id).template_id = "TPL-REPLY"
    db.commit()
    sent = api.post(
        f"/api/v1/tickets/{ticket.id}/messages",
        json={"text": "您好，久等了。", "wechat_template": True},
    )
    assert sent.status_code == 201, sent.text
    fake.wait_for(lambda: len(fake.sent("/cgi-bin/message/template/send")) == 1)
    [template] = fake.sent("/cgi-bin/message/template/send")
    assert (
        template["template_id"] == "TPL-REPLY"
        and template["data"]["content"]["value"] == "您好，久等了。"
    )


def test_callbacks_past_the_limit_get_429(anon, db, account, peer, live_app):
    from kefu.services.infra.ratelimit import RateLimiter

    before = getattr(live_app.state, "wechat_limiter", None)
    live_app.state.wechat_limiter = RateLimiter(2, 60)
    try:
        answers = [
            anon.get(_url(account), params={**peer.query(), "echostr": "1"}).status_code
            for _ in range(3)
        ]
    finally:
        live_app.state.wechat_limiter = before
    assert answers == [200, 200, 429]
