"""kefu's WeChat crypto against wechatpy's, an implementation kefu did not write."""

from __future__ import annotations

import base64
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature

from kefu.channels.wechat import crypto
from kefu.channels.wechat import messages as wx

TOKEN = "kefu-callback-token"
APP_ID = "wx0123456789abcdef"
AES_KEY = base64.b64encode(os.urandom(32)).decode().rstrip("=")


def test_the_signature_is_the_one_wechat_checks():
    made = crypto.signature(TOKEN, "1733560000", "nonce-1")
    check_signature(TOKEN, made, "1733560000", "nonce-1")  # raises if wrong
    with pytest.raises(InvalidSignatureException):
        check_signature(
            TOKEN, crypto.signature(TOKEN, "1733560001", "nonce-1"), "1733560000", "nonce-1"
        )
    assert crypto.signature_ok(made.upper(), TOKEN, "1733560000", "nonce-1")
    assert not crypto.signature_ok(made, TOKEN, "1733560000", "nonce-2")


@given(st.text(max_size=300))
def test_what_wechatpy_encrypts_kefu_decrypts_and_back(text):
    peer = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
    key = crypto.aes_key(AES_KEY)
    xml = f"<xml><Content><![CDATA[{text}]]></Content></xml>"
    envelope = wx.parse(peer.encrypt_message(xml, "nonce", "1733560000").encode())
    assert crypto.decrypt(key, APP_ID, envelope.get("Encrypt")) == xml
    assert crypto.signature_ok(
        envelope.get("MsgSignature"), TOKEN, "1733560000", "nonce", envelope.get("Encrypt")
    )

    sealed = crypto.encrypt(key, APP_ID, xml)
    signature = crypto.signature(TOKEN, "1733560000", "nonce", sealed)
    reply = wx.encrypted_envelope(
        encrypted=sealed, msg_signature=signature, timestamp="1733560000", nonce="nonce"
    )
    assert peer.decrypt_message(reply, signature, "1733560000", "nonce") == xml


def test_another_appid_or_a_tampered_message_does_not_decrypt():
    key = crypto.aes_key(AES_KEY)
    sealed = crypto.encrypt(key, "wxsomeoneelse000000", "<xml/>")
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt(key, APP_ID, sealed)
    data = bytearray(base64.b64decode(crypto.encrypt(key, APP_ID, "<xml/>")))
    data[-1] ^= 0x55
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt(key, APP_ID, base64.b64encode(bytes(data)).decode())
    for garbage in ("", "not base64!", base64.b64encode(b"short").decode()):
        with pytest.raises(crypto.CryptoError):
            crypto.decrypt(key, APP_ID, garbage)


def test_an_encoding_aes_key_has_43_base64_characters():
    assert len(crypto.aes_key(AES_KEY)) == 32
    for bad in ("", AES_KEY[:-1], "!" * 43):
        with pytest.raises(ValueError):
            crypto.aes_key(bad)


def test_a_body_declaring_entities_is_refused_before_parsing():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><xml><Content>&a;</Content></xml>'
    )
    with pytest.raises(wx.BadMessage):
        wx.parse(bomb)
    for bad in (b"not xml", b"<other/>", b"<xml>" + b"a" * 70_000 + b"</xml>"):
        with pytest.raises(wx.BadMessage):
            wx.parse(bad)


def test_a_passive_reply_is_what_wechatpy_reads():
    from wechatpy import parse_message

    xml = wx.text_reply(
        to_openid="o-follower", from_account="gh_kefu", text="您好]]>，已收到", created=1733560000
    )
    reply = parse_message(xml)
    assert (reply.type, reply.source, reply.target, reply.content) == (
        "text",
        "gh_kefu",
        "o-follower",
        "您好]]>，已收到",
    )
