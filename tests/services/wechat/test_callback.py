"""The callback's checks, without a server: what is refused before anything is stored."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from kefu.channels.wechat.crypto import aes_key
from kefu.errors import KefuError
from kefu.services.wechat.accounts import AccountKeys
from kefu.services.wechat.callback import Query, open_message, verify_url
from tests.wechat_peer import AES_KEY, APP_ID, TOKEN, Peer, message_xml

ACCOUNT = AccountKeys(
    id=1, key="wx_test", app_id=APP_ID, app_secret="s", token=TOKEN, aes_key=aes_key(AES_KEY),
    message_mode="compatible", api_base_url="http://127.0.0.1:9", group_id=None, bot_mode="off",
    greeting="", template_id="", enabled=True, calendar=None,
)  # fmt: skip


def _refused(call) -> None:
    with pytest.raises(KefuError) as refused:
        call()
    assert (refused.value.code, refused.value.status_code) == ("wechat_signature_invalid", 401)


def test_an_account_without_a_token_verifies_nothing():
    unset = replace(ACCOUNT, token="")
    query = Peer(token="").query()  # signed with the empty token
    _refused(lambda: verify_url(unset, Query(**query, echostr="1"), time.time()))
    query, body = Peer(token="").plain(message_xml(Content="x"))
    _refused(lambda: open_message(unset, Query(**query), body, time.time()))


def test_a_timestamp_from_the_future_or_not_a_number_is_refused():
    for timestamp in (int(time.time()) + 301, None):
        query = Peer().query(timestamp=timestamp)
        if timestamp is None:
            query["timestamp"] = "soon"
        _refused(lambda q=query: verify_url(ACCOUNT, Query(**q, echostr="1"), time.time()))


def test_a_plaintext_account_takes_no_encrypted_message_and_a_safe_one_no_plaintext():
    xml = message_xml(Content="你好")
    query, body = Peer().safe(xml)
    _refused(
        lambda: open_message(
            replace(ACCOUNT, message_mode="plaintext"), Query(**query), body, time.time()
        )
    )
    query, body = Peer().plain(xml)
    _refused(
        lambda: open_message(
            replace(ACCOUNT, message_mode="safe"), Query(**query), body, time.time()
        )
    )
    assert open_message(ACCOUNT, Query(**query), body, time.time()) == xml
    query, body = Peer().safe(xml)
    assert open_message(ACCOUNT, Query(**query), body, time.time()) == xml


def test_the_passive_reply_is_decided_once_between_the_request_and_the_outbox():
    from kefu.services.wechat.callback import PassiveSlot

    taken = PassiveSlot(time.monotonic() + 60)
    assert taken.take() and not taken.give_up()  # the request waits for the committing turn
    left = PassiveSlot(time.monotonic() + 60)
    assert left.give_up() and not left.take()  # the outbox sends it; the turn marks nothing
    late = PassiveSlot(time.monotonic() - 1)
    assert not late.take() and late.give_up()  # past its deadline the turn does not take it
