"""The security log (``kefu.security``): refused sign-ins, refused requests and refused
security controls, each with who, from where, what and why, never a body or a password."""

from __future__ import annotations

import logging

import httpx
import pytest

from kefu.services.infra.security_log import masked_email
from tests import factories
from tests.api.test_auth import TestClient, _login, strict_app  # noqa: F401 - a fixture
from tests.api.test_two_factor import _enrol, _signed_in
from tests.api.test_webhooks import SMS, _post, _source
from tests.checks import api_error as _error


@pytest.fixture
def security(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.WARNING, logger="kefu.security")
    return caplog


def _events(caplog: pytest.LogCaptureFixture, event: str) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records if r.name == "kefu.security" and getattr(r, "event", "") == event
    ]


def test_failed_sign_ins_are_logged_masked_with_the_reason_and_the_same_answer(
    anon, db, admin, security
):
    gone = factories.make_user(db, email="gone@example.cn")
    gone.is_active = False
    db.commit()
    answers = [
        _login(anon, password="not-the-password-123"),
        _login(anon, email="nobody@example.cn"),
        _login(anon, email="gone@example.cn"),
    ]
    assert all(a.status_code == 401 for a in answers)
    assert answers[0].json() == answers[1].json() == answers[2].json()
    refused = _events(security, "sign_in_refused")
    assert [(r.account, r.reason, r.client) for r in refused] == [  # type: ignore[attr-defined]
        ("a***@example.cn", "wrong_password", "127.0.0.1"),
        ("n***@example.cn", "unknown_account", "127.0.0.1"),
        ("g***@example.cn", "inactive_account", "127.0.0.1"),
    ]
    assert refused[1].getMessage() == (
        "sign-in refused: n***@example.cn from 127.0.0.1 (unknown_account)"
    )
    assert "not-the-password-123" not in security.text
    assert "admin@example.cn" not in security.text
    # The sign-in that works is not a refusal.
    assert _login(anon).status_code == 200
    assert len(_events(security, "sign_in_refused")) == 3


def test_a_sign_in_refused_by_the_limiter_is_logged(strict_app, security):  # noqa: F811
    with TestClient(strict_app, client=("198.51.100.9", 50000)) as client:
        for _ in range(3):
            _error(_login(client, password="guess-guess"), 401, "invalid_credentials")
        _error(_login(client), 429, "rate_limited")
    refused = _events(security, "sign_in_refused")
    assert [r.reason for r in refused] == ["wrong_password"] * 3 + ["rate_limited"]  # type: ignore[attr-defined]
    assert {r.client for r in refused} == {"198.51.100.9"}  # type: ignore[attr-defined]
    # The 429 itself is a refused request too, on the route, without the account.
    limited = _events(security, "access_refused")[-1]
    assert (limited.status, limited.route, limited.reason) == (  # type: ignore[attr-defined]
        429,
        "/api/v1/auth/login",
        "rate_limited",
    )


def test_a_wrong_second_step_code_is_logged_with_the_user(anon, server, db, security):
    agent = factories.make_user(db, email="agent@example.cn", name="小王")
    _enrol(anon, _signed_in(anon, agent.email))
    with httpx.Client(base_url=server, timeout=30) as browser:
        pending = _login(browser, agent.email).json()["pending"]
        wrong = browser.post(
            "/api/v1/auth/login/totp", json={"pending": pending, "code": "12345678"}
        )
        assert wrong.status_code == 401
        expired = browser.post("/api/v1/auth/login/totp",
                               json={"pending": "1.2.forged", "code": "123456"})  # fmt: skip
        _error(expired, 401, "sign_in_expired")
    refused = _events(security, "sign_in_refused")
    assert [(r.actor, r.reason) for r in refused] == [  # type: ignore[attr-defined]
        (agent.id, "wrong_code"),
        (None, "sign_in_expired"),
    ]
    assert "12345678" not in security.text and pending not in security.text


def test_every_401_and_403_on_the_api_is_logged_with_actor_route_and_method(
    anon, client_for, db, security
):
    agent = factories.make_user(db, email="agent@example.cn")
    _error(anon.get("/api/v1/users"), 401, "not_authenticated")
    forbidden = client_for(agent).post(
        "/api/v1/users", json={"email": "body-secret@example.cn", "name": "不该出现在日志里"}
    )
    assert forbidden.status_code == 403
    denied = client_for(agent).delete(f"/api/v1/users/{agent.id}")
    assert denied.status_code == 403
    refused = _events(security, "access_refused")
    fields = [(r.status, r.method, r.route, r.actor, r.client) for r in refused]  # type: ignore[attr-defined]
    assert fields == [
        (401, "GET", "/api/v1/users", None, "127.0.0.1"),
        (403, "POST", "/api/v1/users", agent.id, "127.0.0.1"),
        (403, "DELETE", "/api/v1/users/{user_id}", agent.id, "127.0.0.1"),  # the route, no id
    ]
    assert (
        refused[1]
        .getMessage()
        .startswith(f"POST /api/v1/users refused 403 forbidden for user {agent.id}")
    )
    assert "body-secret" not in security.text and "不该出现" not in security.text


def test_a_csrf_failure_is_logged_as_a_refused_control(anon, admin, security):
    assert _login(anon).status_code == 200
    _error(anon.post("/api/v1/auth/logout"), 403, "csrf_failed")  # no X-CSRF-Token
    (record,) = _events(security, "control_refused")
    assert (record.reason, record.route, record.actor) == (  # type: ignore[attr-defined]
        "csrf_failed",
        "/api/v1/auth/logout",
        admin.id,  # type: ignore[attr-defined]
    )


def test_a_refused_webhook_signature_is_logged_without_the_body(anon, client_for, admin, security):
    source = _source(client_for(admin), ["sms.received"], key="sms-gw")
    refused = _post(anon, "sms-gw", source["secret"], SMS, headers={"webhook-signature": "v1,AAAA"})
    assert refused.status_code == 401
    (record,) = _events(security, "control_refused")
    assert (record.reason, record.route, record.method, record.actor) == (  # type: ignore[attr-defined]
        "webhook_signature_invalid",
        "/api/v1/channels/webhook/{source}",
        "POST",
        None,
    )
    assert "快递" not in security.text and "13800138000" not in security.text


def test_masked_email_masks_and_bounds_whatever_was_typed():
    assert masked_email("  Li.Ming@Example.CN ") == "l***@example.cn"
    assert masked_email("13812345678") == "138****5678"
    assert len(masked_email("x" * 5000)) == 200
