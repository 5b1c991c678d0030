"""Password reset by e-mail: the same answer for every address, one live single-use token of 32
random bytes stored as SHA-256, 30 minutes, the mail through the outbox, the new password under
the policy ending every session and token, and the limits per address and per client."""

from __future__ import annotations

import hashlib
import re
import time
import warnings
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select, update

from kefu.app import create_app
from kefu.db.base import utcnow
from kefu.db.models import ApiToken, AuditEvent, LoginSession, OutboxEntry, PasswordResetToken
from kefu.services.staff import auth
from tests import factories
from tests.checks import api_error as _error

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

NEW_PASSWORD = "violet-harbour-kettle"  # noqa: S105 - a test's password


def _ask(client, email: str) -> httpx.Response:
    return client.post("/api/v1/auth/password-reset", json={"email": email})


def _mails(db, *, wait_for: int = 0) -> list[OutboxEntry]:
    """The reset mails queued; with ``wait_for``, after that many are there (the mail is queued
    after the answer went out) and a moment more for any other to show."""
    deadline = time.monotonic() + 10
    while wait_for and len(_queued(db)) < wait_for and time.monotonic() < deadline:
        time.sleep(0.05)
    if wait_for:
        time.sleep(0.3)
    return _queued(db)


def _queued(db) -> list[OutboxEntry]:
    db.rollback()
    return list(
        db.scalars(select(OutboxEntry).where(OutboxEntry.kind == "notice").order_by(OutboxEntry.id))
    )


def _token_of(mail: OutboxEntry) -> str:
    found = re.search(r"/password-reset/([A-Za-z0-9_-]+)", mail.target["text"])
    assert found is not None
    return found.group(1)


@pytest.fixture
def agent(db):
    return factories.make_user(db, email="agent@example.cn", name="小王")


def test_known_unknown_and_inactive_addresses_get_the_same_answer(anon, db, agent, held_outbox):
    gone = factories.make_user(db, email="gone@example.cn")
    gone.is_active = False
    db.commit()
    answers = [
        _ask(anon, email) for email in ("agent@example.cn", "nobody@example.cn", "gone@example.cn")
    ]
    assert {a.status_code for a in answers} == {202}
    assert {a.content for a in answers} == {b'{"status":"sent"}'}
    assert all(a.headers.get_list("set-cookie") == [] for a in answers)
    [mail] = _mails(db, wait_for=1)  # one mail: the active user's
    assert mail.target["to"] == ["agent@example.cn"] and mail.channel == "email"
    assert (
        "30" in mail.target["text"]
        and "http://127.0.0.1:8000/password-reset/" in mail.target["text"]
    )
    token = _token_of(mail)
    assert len(token) == 43  # 32 bytes, base64url
    [row] = db.scalars(select(PasswordResetToken)).all()
    assert row.user_id == agent.id and row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert timedelta(minutes=29) < row.expires_at - utcnow() <= timedelta(minutes=30)
    assert db.scalar(select(func.count()).select_from(AuditEvent)
                     .where(AuditEvent.action == "auth.password_reset_requested")) == 1  # fmt: skip


def test_a_new_request_replaces_the_live_token(anon, db, agent, held_outbox):
    assert _ask(anon, agent.email).status_code == 202
    _mails(db, wait_for=1)
    assert _ask(anon, "  AGENT@example.cn ").status_code == 202
    first, second = (_token_of(m) for m in _mails(db, wait_for=2))
    assert db.scalar(select(func.count()).select_from(PasswordResetToken)) == 1
    _error(anon.post("/api/v1/auth/password-reset/confirm",
                     json={"token": first, "new_password": NEW_PASSWORD}), 400, "reset_link_invalid")  # fmt: skip
    done = anon.post(
        "/api/v1/auth/password-reset/confirm", json={"token": second, "new_password": NEW_PASSWORD}
    )
    assert done.status_code == 204, done.text


def test_the_reset_ends_every_session_and_token_and_works_once(
    anon, server, db, agent, client_for, held_outbox
):
    token_client = client_for(agent)
    with httpx.Client(base_url=server, timeout=30) as browser:
        assert browser.post("/api/v1/auth/login", json={"email": agent.email,
                            "password": factories.PASSWORD}).status_code == 200  # fmt: skip
        assert _ask(anon, agent.email).status_code == 202
        token = _token_of(_mails(db, wait_for=1)[0])
        weak = anon.post(
            "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": "1qaz2wsx"}
        )
        error = _error(weak, 422, "validation_error")
        assert error["details"] == {"new_password": "这个密码出现在已泄露的常用密码中，请换一个。"}
        assert browser.get("/api/v1/auth/me").status_code == 200  # nothing changed yet
        done = anon.post(
            "/api/v1/auth/password-reset/confirm",
            json={"token": token, "new_password": NEW_PASSWORD},
        )
        assert done.status_code == 204, done.text
        _error(browser.get("/api/v1/auth/me"), 401, "not_authenticated")
        _error(token_client.get("/api/v1/auth/me"), 401, "not_authenticated")
    again = anon.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": token, "new_password": "another-long-one"},
    )
    _error(again, 400, "reset_link_invalid")
    db.rollback()
    assert (
        db.scalar(
            select(func.count()).select_from(LoginSession).where(LoginSession.revoked_at.is_(None))
        )
        == 0
    )
    assert (
        db.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.revoked_at.is_(None)))
        == 0
    )
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "auth.password_reset"))
    assert event.object_id == agent.id and event.after == {"sessions_ended": 1, "tokens_revoked": 1}
    login = anon.post("/api/v1/auth/login", json={"email": agent.email, "password": NEW_PASSWORD})
    assert login.status_code == 200


def test_an_expired_token_or_a_deactivated_user_is_refused(anon, db, agent, held_outbox):
    assert _ask(anon, agent.email).status_code == 202
    token = _token_of(_mails(db, wait_for=1)[0])
    db.execute(update(PasswordResetToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.commit()
    body = {"token": token, "new_password": NEW_PASSWORD}
    _error(anon.post("/api/v1/auth/password-reset/confirm", json=body), 400, "reset_link_invalid")
    db.execute(update(PasswordResetToken).values(expires_at=utcnow() + timedelta(minutes=5)))
    agent.is_active = False
    db.commit()
    _error(anon.post("/api/v1/auth/password-reset/confirm", json=body), 400, "reset_link_invalid")
    db.rollback()
    assert auth.verify_password(db.get(type(agent), agent.id).password_hash, factories.PASSWORD)


def test_bad_input_is_a_4xx_and_stores_nothing(anon, db, held_outbox):
    for body in ({}, {"email": "not-an-address"}, {"email": "a@b.cn", "extra": 1}):
        _error(anon.post("/api/v1/auth/password-reset", json=body), 422, "validation_error")
    for body in (
        {"token": "short", "new_password": NEW_PASSWORD},
        {"token": "x" * 43, "new_password": "short"},
    ):
        _error(anon.post("/api/v1/auth/password-reset/confirm", json=body), 422, "validation_error")
    assert _mails(db) == []


@pytest.fixture
def limited_app(settings, engine, tmp_path):
    app = create_app(settings.model_copy(update={"password_resets_per_hour": 2, "data_dir": tmp_path,
                                                 "outbox_relay_in_server": False}), engine=engine)  # fmt: skip
    app.state.reset_limiter.clock = lambda: 1_000_000.0  # one window for the whole test
    return app


def test_requests_are_limited_per_address_and_per_client(limited_app, db, agent, held_outbox):
    with TestClient(limited_app, client=("198.51.100.70", 50000)) as client:
        assert _ask(client, agent.email).status_code == 202
        assert _ask(client, "nobody@example.cn").status_code == 202
        _error(_ask(client, "someone-else@example.cn"), 429, "rate_limited")  # this client's third
    with TestClient(limited_app, client=("198.51.100.71", 50000)) as client:
        assert _ask(client, agent.email).status_code == 202  # the address's second
    with TestClient(limited_app, client=("198.51.100.72", 50000)) as client:
        _error(_ask(client, agent.email), 429, "rate_limited")  # the address's third, from anywhere
        # the limit answers the same for an unknown address
        assert _ask(client, "nobody@example.cn").status_code == 202
        _error(_ask(client, "nobody@example.cn"), 429, "rate_limited")
    assert len(_mails(db)) == 2


def test_a_reset_does_not_bypass_two_step_verification(anon, server, db, agent, held_outbox):
    import pyotp

    with httpx.Client(base_url=server, timeout=30) as browser:
        csrf = browser.post("/api/v1/auth/login", json={"email": agent.email,
                            "password": factories.PASSWORD}).json()["csrf_token"]  # fmt: skip
        secret = browser.post("/api/v1/auth/totp/enrol", json={"password": factories.PASSWORD},
                              headers={"X-CSRF-Token": csrf}).json()["secret"]  # fmt: skip
        assert browser.post("/api/v1/auth/totp/confirm", json={"code": pyotp.TOTP(secret).now()},
                            headers={"X-CSRF-Token": csrf}).status_code == 200  # fmt: skip
    assert _ask(anon, agent.email).status_code == 202
    token = _token_of(_mails(db, wait_for=1)[0])
    done = anon.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert done.status_code == 204
    login = anon.post("/api/v1/auth/login", json={"email": agent.email, "password": NEW_PASSWORD})
    assert login.json()["two_factor_required"] is True and "kefu_session" not in login.cookies
