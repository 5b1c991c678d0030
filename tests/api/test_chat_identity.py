"""Acceptance 4 of #18: a site's signed identity links a visitor to their customer and history;
forged, expired, replayed and malformed claims are ignored (the visitor stays anonymous and
sees nothing of that customer); a visitor guessing ids reads nothing of anyone else's (404)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kefu.db.base import utcnow
from kefu.db.models import Identity, WebchatNonce
from kefu.jobs.registry import JobContext, periodic_jobs
from tests import factories
from tests.visitors import PNG_BYTES, Widget, bearer, claim, start


@pytest.fixture
def channel(db):
    return factories.make_webchat_channel(db, name="会员商城")


def _history(anon, key: str, token: str) -> list[str]:
    answer = anon.get(f"/chat/api/{key}/messages", headers=bearer(token)).json()
    return [m["text"] for m in answer["messages"]]


def _say(server, key, token, text, client_id="m1") -> int:
    widget = Widget(server, key, token)
    widget.hello()
    widget.send(type="message", client_id=client_id, text=text)
    seq = widget.until(lambda f: f["type"] == "accepted")["seq"]
    widget.close()
    return int(seq)


def test_a_signed_claim_links_the_visitor_to_their_customer_and_history(server, anon, channel, db):
    laptop = start(
        anon,
        channel.key,
        identity=claim(factories.channel_secret(channel), "u-1001", name="陈先生"),
    )
    assert laptop["visitor"] == {"name": "陈先生", "verified": True}
    _say(server, channel.key, laptop["visitor_token"], "上周买的耳机坏了")
    # Another device, another page load, a fresh claim from the site: the same customer.
    phone = start(anon, channel.key, identity=claim(factories.channel_secret(channel), "u-1001"))
    assert phone["visitor"]["verified"] is True
    assert phone["last_seq"] > 0
    assert _history(anon, channel.key, phone["visitor_token"]) == ["上周买的耳机坏了"]
    identity = db.scalar(select(Identity).where(Identity.channel == "webchat"))
    assert identity.verified and identity.external_id == f"{channel.key}:u-1001"


def test_an_existing_customer_with_that_identity_gets_the_conversation(server, anon, channel, db):
    known = factories.make_customer(
        db, name="老客户", identities=[("webchat", f"{channel.key}:42")]
    )
    session = start(anon, channel.key, identity=claim(factories.channel_secret(channel), "42"))
    _say(server, channel.key, session["visitor_token"], "还是上次那个问题")
    db.expire_all()
    [ticket_customer] = db.scalars(
        select(Identity.customer_id).where(Identity.external_id == f"{channel.key}:42")
    )
    assert ticket_customer == known.id
    assert db.get(Identity, known.identities[0].id).verified is True


def test_a_signed_phone_joins_the_profile_that_proved_the_same_number(anon, channel, db):
    """The site verified its user's phone and signed it: the WeChat profile bound to that number
    (proven by an integration) is the same customer, joined automatically."""
    from kefu.domain.customer_joins import ContactKind, Proof
    from kefu.services.customers import joins

    wechat = factories.make_customer(db, name="微信用户", identities=[("wechat", "oWx-7")])
    joins.record_verified_contact(db, wechat.id, ContactKind.PHONE, "13755556666", Proof.BOUND)
    db.commit()
    signed = claim(
        factories.channel_secret(channel), "u-77", name="林先生", phone="+86 137 5555 6666"
    )
    assert start(anon, channel.key, identity=signed)["visitor"]["verified"] is True
    db.expire_all()
    visitor = db.scalar(select(Identity).where(Identity.external_id == f"{channel.key}:u-77"))
    assert visitor.customer_id == wechat.id  # the newer profile was merged into the older
    # A phone that was not signed is not taken from the claim: changing it breaks the signature.
    forged = {
        **claim(factories.channel_secret(channel), "u-78", phone="13700000000"),
        "phone": "13755556666",
    }
    assert start(anon, channel.key, identity=forged)["visitor"]["verified"] is False


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda c, s: claim("not-the-secret", "42"), id="forged signature"),
        pytest.param(lambda c, s: {**claim(s, "42"), "user_id": "43"}, id="another user"),
        pytest.param(lambda c, s: claim(s, "42", at=time.time() - 3600), id="expired"),
        pytest.param(lambda c, s: claim(s, "42", at=time.time() + 3600), id="from the future"),
        pytest.param(lambda c, s: claim(s, "4.2"), id="malformed user id"),
        pytest.param(lambda c, s: claim(s, "42", nonce="short"), id="malformed nonce"),
        pytest.param(lambda c, s: {**claim(s, "42"), "timestamp": "soon"}, id="malformed time"),
        pytest.param(lambda c, s: {"user_id": ["42"], "signature": {"x": 1}}, id="wrong types"),
        pytest.param(lambda c, s: {**claim(s, "42"), "signature": ""}, id="unsigned"),
    ],
)
def test_a_claim_that_is_not_valid_is_ignored(server, anon, channel, db, forge):
    owner = start(anon, channel.key, identity=claim(factories.channel_secret(channel), "42"))
    _say(server, channel.key, owner["visitor_token"], "我的地址是北京市朝阳区")
    impostor = start(anon, channel.key, identity=forge(channel, factories.channel_secret(channel)))
    assert impostor["visitor"]["verified"] is False
    assert impostor["visitor"]["name"].startswith("访客 ")
    assert impostor["last_seq"] == 0
    assert _history(anon, channel.key, impostor["visitor_token"]) == []
    assert db.scalar(select(func.count()).select_from(Identity)) == 1  # nothing was linked


def test_a_replayed_claim_is_ignored(anon, channel, db):
    copied = claim(factories.channel_secret(channel), "42")
    assert start(anon, channel.key, identity=copied)["visitor"]["verified"] is True
    replay = start(anon, channel.key, identity=copied)
    assert replay["visitor"]["verified"] is False
    assert db.scalar(select(func.count()).select_from(WebchatNonce)) == 1


def test_a_claim_signed_with_a_rotated_secret_is_ignored(anon, channel, api):
    old = factories.channel_secret(channel)
    new = api.post(f"/api/v1/webchat/channels/{channel.id}/secret").json()["secret"]
    assert new != old
    assert start(anon, channel.key, identity=claim(old, "42"))["visitor"]["verified"] is False
    assert start(anon, channel.key, identity=claim(new, "42"))["visitor"]["verified"] is True


def test_a_verified_token_is_honoured_only_while_the_page_speaks_for_that_user(anon, channel):
    first = claim(factories.channel_secret(channel), "42")
    token = start(anon, channel.key, identity=first)["visitor_token"]
    # A reload of a cached page: the same (now used) claim, the token: still that user.
    again = start(anon, channel.key, visitor_token=token, identity=first)
    assert again["visitor"]["verified"] is True
    # The next person at the computer, not signed in to the site: a new anonymous visitor.
    stranger = start(anon, channel.key, visitor_token=token)
    assert stranger["visitor"]["verified"] is False
    # Another user signed in on the page, with an old (expired) claim: not the token's user.
    other = start(
        anon, channel.key, visitor_token=token,
        identity=claim(factories.channel_secret(channel), "77", at=time.time() - 3600),
    )  # fmt: skip
    assert other["visitor"]["verified"] is False


def test_guessing_another_visitors_ids_finds_nothing(server, anon, channel, db):
    victim = start(anon, channel.key)["visitor_token"]
    seq = _say(server, channel.key, victim, "我的手机号 13800138000")
    uploaded = anon.post(
        f"/chat/api/{channel.key}/uploads", headers=bearer(victim),
        files={"file": ("身份证.png", PNG_BYTES, "image/png")},
    ).json()["message"]  # fmt: skip
    attachment_id = uploaded["attachments"][0]["id"]
    guesser = start(anon, channel.key)["visitor_token"]
    for after in range(0, seq + 2):
        page = anon.get(
            f"/chat/api/{channel.key}/messages", params={"after": after}, headers=bearer(guesser)
        ).json()
        assert page == {"messages": [], "last_seq": 0}
    for guess in range(1, attachment_id + 3):
        answer = anon.get(f"/chat/api/{channel.key}/attachments/{guess}", headers=bearer(guesser))
        assert answer.status_code == 404, guess
    # A socket resuming "after 0" or acknowledging the victim's seq learns nothing either.
    widget = Widget(server, channel.key, guesser)
    widget.hello(last_seq=0)
    widget.send(type="ack", seq=seq)
    widget.send(type="read", seq=seq)
    widget.send(type="ping")
    widget.until(lambda f: f["type"] == "pong")
    widget.close()
    assert all("13800138000" not in str(frame) for frame in widget.frames)


def test_used_nonces_are_forgotten_once_their_claims_would_have_expired(
    anon, channel, db, engine, settings
):
    from kefu.db.engine import make_session_factory

    start(anon, channel.key, identity=claim(factories.channel_secret(channel), "42"))
    [job] = [j for j in periodic_jobs(settings) if j.name == "chat_offers"]
    context = JobContext(make_session_factory(engine), utcnow, settings)
    assert job.run(context)["nonces_forgotten"] == 0
    later = JobContext(
        make_session_factory(engine), lambda: utcnow() + timedelta(hours=1), settings
    )
    assert job.run(later)["nonces_forgotten"] == 1
