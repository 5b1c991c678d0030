"""Two-step verification (TOTP) through the API: enrolment with a first code, the ten recovery
codes, sign-in in two steps, no code twice, the limits, turning it off, an admin's reset, and
admins held to enrol when KEFU_TOTP_REQUIRED_FOR_ADMINS is on."""

from __future__ import annotations

import threading
import warnings
from datetime import timedelta

import httpx
import pyotp
import pytest
from sqlalchemy import func, select

from kefu.app import create_app
from kefu.db.base import utcnow
from kefu.db.models import AuditEvent, StaffRecoveryCode, StaffTwoFactor, User
from kefu.services.staff import auth, pending_login
from tests import factories
from tests.checks import api_error as _error

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


PASSWORD = {"password": factories.PASSWORD}  # enrolment asks for it again


def _login(client, email: str, password: str = factories.PASSWORD) -> httpx.Response:
    return client.post("/api/v1/auth/login", json={"email": email, "password": password})


def _signed_in(client, email: str) -> str:
    """Sign ``client`` in with the password alone; its CSRF token."""
    response = _login(client, email)
    assert response.status_code == 200, response.text
    return response.json()["csrf_token"]


def _next_code(secret: str) -> str:
    """A code of the next time step: later than any code accepted so far in the test."""
    return pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=30))


def _enrol(client, csrf: str) -> tuple[str, list[str]]:
    """Enrol the signed-in user; the secret and the recovery codes."""
    started = client.post("/api/v1/auth/totp/enrol", json=PASSWORD, headers={"X-CSRF-Token": csrf})
    assert started.status_code == 200, started.text
    secret = started.json()["secret"]
    confirmed = client.post("/api/v1/auth/totp/confirm", json={"code": pyotp.TOTP(secret).now()},
                            headers={"X-CSRF-Token": csrf})  # fmt: skip
    assert confirmed.status_code == 200, confirmed.text
    return secret, confirmed.json()["recovery_codes"]


def _actions(db, action: str) -> int:
    db.rollback()
    return db.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    )


@pytest.fixture
def agent(db) -> User:
    return factories.make_user(db, email="agent@example.cn", name="小王")


def test_enrolment_shows_the_secret_once_and_stores_it_sealed(anon, server, db, agent):
    csrf = _signed_in(anon, agent.email)
    assert anon.get("/api/v1/auth/totp").json() == {"enabled": False, "recovery_codes_left": 0}
    started = anon.post(
        "/api/v1/auth/totp/enrol", json=PASSWORD, headers={"X-CSRF-Token": csrf}
    ).json()
    secret = started["secret"]
    assert started["uri"].startswith("otpauth://totp/kefu:agent%40example.cn?secret=" + secret)
    assert started["qr_svg"].startswith("data:image/svg+xml")
    db.rollback()
    row = db.get(StaffTwoFactor, agent.id)
    assert row.secret_sealed.startswith("v2:") and secret not in row.secret_sealed
    assert row.enabled_at is None
    assert anon.get("/api/v1/auth/totp").json()["enabled"] is False  # not before the first code

    wrong = anon.post("/api/v1/auth/totp/confirm", json={"code": "000000"},
                      headers={"X-CSRF-Token": csrf})  # fmt: skip
    if pyotp.TOTP(secret).now() != "000000":
        _error(wrong, 422, "invalid_code")
    confirmed = anon.post("/api/v1/auth/totp/confirm", json={"code": pyotp.TOTP(secret).now()},
                          headers={"X-CSRF-Token": csrf})  # fmt: skip
    codes = confirmed.json()["recovery_codes"]
    assert len(codes) == 10 == len(set(codes))
    assert anon.get("/api/v1/auth/totp").json() == {"enabled": True, "recovery_codes_left": 10}
    db.rollback()
    stored = db.scalars(select(StaffRecoveryCode.code_hash)).all()
    assert len(stored) == 10 and not set(codes) & set(stored)
    # On already: a second enrolment is refused (turning it off needs the password and a code).
    _error(anon.post("/api/v1/auth/totp/enrol", json=PASSWORD, headers={"X-CSRF-Token": csrf}), 409,
           "two_factor_enabled")  # fmt: skip
    assert _actions(db, "auth.totp_enrol_start") == 1 and _actions(db, "auth.totp_enable") == 1


def test_sign_in_takes_two_steps_and_a_code_works_once(anon, server, db, agent):
    secret, _ = _enrol(anon, _signed_in(anon, agent.email))
    with httpx.Client(base_url=server, timeout=30) as browser:
        first = _login(browser, agent.email)
        assert first.status_code == 200
        body = first.json()
        assert body["two_factor_required"] is True and set(body) == {
            "two_factor_required",
            "pending",
        }
        assert first.headers.get_list("set-cookie") == []
        _error(browser.get("/api/v1/auth/me"), 401, "not_authenticated")

        code = _next_code(secret)
        _error(browser.post("/api/v1/auth/login/totp", json={"pending": body["pending"],
               "code": pyotp.TOTP(secret).at(utcnow() - timedelta(seconds=90))}),
               401, "invalid_code")  # fmt: skip
        done = browser.post(
            "/api/v1/auth/login/totp", json={"pending": body["pending"], "code": code}
        )
        assert done.status_code == 200, done.text
        assert done.json()["user"]["id"] == agent.id and done.json()["two_factor_required"] is False
        assert browser.get("/api/v1/auth/me").status_code == 200

    with httpx.Client(base_url=server, timeout=30) as thief:  # the same code, seen over a shoulder
        pending = _login(thief, agent.email).json()["pending"]
        _error(thief.post("/api/v1/auth/login/totp", json={"pending": pending, "code": code}),
               401, "invalid_code")  # fmt: skip
    db.rollback()
    logins = db.scalars(select(AuditEvent.after).where(AuditEvent.action == "auth.login")).all()
    assert {"second_factor": "totp"} in logins


def test_a_recovery_code_signs_in_once(anon, server, db, agent):
    _, codes = _enrol(anon, _signed_in(anon, agent.email))
    with httpx.Client(base_url=server, timeout=30) as browser:
        pending = _login(browser, agent.email).json()["pending"]
        typed = codes[3].upper().replace("-", " ")  # as someone might type it
        done = browser.post("/api/v1/auth/login/totp", json={"pending": pending, "code": typed})
        assert done.status_code == 200, done.text
        assert browser.get("/api/v1/auth/totp").json()["recovery_codes_left"] == 9
        pending = _login(browser, agent.email).json()["pending"]
        _error(browser.post("/api/v1/auth/login/totp", json={"pending": pending, "code": codes[3]}),
               401, "invalid_code")  # fmt: skip
    assert _actions(db, "auth.recovery_code_used") == 1


def test_a_pending_token_altered_expired_or_outlived_by_a_password_change_is_refused(
    anon, server, db, agent, settings
):
    secret, _ = _enrol(anon, _signed_in(anon, agent.email))
    pending = _login(anon, agent.email).json()["pending"]
    version, user_id, expires, fingerprint, signature = pending.split(".")
    other = factories.make_user(db, email="other@example.cn")
    forged = f"{version}.{other.id}.{expires}.{fingerprint}.{signature}"
    for token in (forged, pending[:-2], "x.y.z", "1.2.3.4", pending.removeprefix("p1.")):
        _error(anon.post("/api/v1/auth/login/totp", json={"pending": token, "code": "123456"}),
               401, "sign_in_expired")  # fmt: skip
    db.rollback()
    user = db.get(User, agent.id)
    stale = pending_login.issue(settings.secret_key, user, utcnow() - timedelta(minutes=6))
    _error(anon.post("/api/v1/auth/login/totp", json={"pending": stale, "code": _next_code(secret)}),
           401, "sign_in_expired")  # fmt: skip
    user.password_hash = auth.hash_password("an-entirely-new-pass")
    db.commit()
    _error(anon.post("/api/v1/auth/login/totp", json={"pending": pending, "code": _next_code(secret)}),
           401, "sign_in_expired")  # fmt: skip


def test_the_same_code_sent_twice_at_once_signs_in_once(anon, server, db, agent):
    secret, _ = _enrol(anon, _signed_in(anon, agent.email))
    pending = _login(anon, agent.email).json()["pending"]
    code = _next_code(secret)
    statuses: list[int] = []
    start = threading.Barrier(4)

    def attempt() -> None:
        with httpx.Client(base_url=server, timeout=30) as client:
            start.wait()
            statuses.append(client.post("/api/v1/auth/login/totp",
                                        json={"pending": pending, "code": code}).status_code)  # fmt: skip

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 401, 401, 401]


def test_turning_it_off_needs_the_password_and_a_code(anon, server, db, agent):
    csrf = _signed_in(anon, agent.email)
    secret, _ = _enrol(anon, csrf)
    headers = {"X-CSRF-Token": csrf}
    _error(anon.post("/api/v1/auth/totp/disable", json={"password": "wrong-one", "code": _next_code(secret)},
                     headers=headers), 403, "wrong_password")  # fmt: skip
    _error(anon.post("/api/v1/auth/totp/disable", json={"password": factories.PASSWORD, "code": "12345x"},
                     headers=headers), 422, "invalid_code")  # fmt: skip
    assert anon.get("/api/v1/auth/totp").json()["enabled"] is True
    off = anon.post("/api/v1/auth/totp/disable",
                    json={"password": factories.PASSWORD, "code": _next_code(secret)}, headers=headers)  # fmt: skip
    assert off.status_code == 204, off.text
    assert anon.get("/api/v1/auth/totp").json() == {"enabled": False, "recovery_codes_left": 0}
    with httpx.Client(base_url=server, timeout=30) as browser:
        assert "csrf_token" in _login(browser, agent.email).json()  # one step again
    assert _actions(db, "auth.totp_disable") == 1


def test_an_admin_resets_someones_two_factor_and_it_is_audited(
    anon, server, db, agent, admin, client_for
):
    _enrol(anon, _signed_in(anon, agent.email))
    _error(client_for(agent).delete(f"/api/v1/users/{agent.id}/totp"), 403, "forbidden")
    assert client_for(admin).delete(f"/api/v1/users/{agent.id}/totp").status_code == 204
    with httpx.Client(base_url=server, timeout=30) as browser:
        assert "csrf_token" in _login(browser, agent.email).json()
    db.rollback()
    assert db.get(StaffTwoFactor, agent.id) is None
    assert db.scalar(select(func.count()).select_from(StaffRecoveryCode)) == 0
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "auth.totp_reset"))
    assert event.actor_id == admin.id and event.object_id == agent.id
    assert event.before == {"enrolled": True}


@pytest.fixture
def guarded_app(settings, engine, tmp_path, admin):
    """An app on the same database with KEFU_TOTP_REQUIRED_FOR_ADMINS on, 3 attempts a minute."""
    guarded = settings.model_copy(
        update={"totp_required_for_admins": True, "login_attempts_per_minute": 3,
                "data_dir": tmp_path, "outbox_relay_in_server": False}
    )  # fmt: skip
    app = create_app(guarded, engine=engine)
    app.state.login_limiter.clock = lambda: 1_000_000.0  # one window for the whole test
    return app


def test_an_admin_without_totp_may_only_enrol_when_it_is_required(guarded_app, db, agent, admin):
    with TestClient(guarded_app, client=("198.51.100.20", 50000)) as client:
        csrf = _signed_in(client, admin.email)
        headers = {"X-CSRF-Token": csrf}
        _error(client.get("/api/v1/tickets"), 403, "two_factor_enrolment_required")
        _error(client.post("/api/v1/customers", json={"name": "甲"}, headers=headers), 403,
               "two_factor_enrolment_required")  # fmt: skip
        page = client.get("/inbox", headers={"Accept": "text/html"})
        assert page.status_code == 403 and "两步验证" in page.text
        assert 'href="/account#two-factor"' in page.text
        assert client.get("/account").status_code == 200
        assert client.get("/api/v1/auth/me").status_code == 200
        _enrol(client, csrf)
        assert client.get("/api/v1/tickets").status_code == 200
        assert client.get("/inbox").status_code == 200
    with TestClient(guarded_app, client=("198.51.100.21", 50000)) as client:
        _signed_in(client, agent.email)  # an agent is not held
        assert client.get("/api/v1/tickets").status_code == 200


def test_codes_are_limited_like_passwords(guarded_app, db, agent):
    with TestClient(guarded_app, client=("198.51.100.30", 50000)) as client:
        secret, _ = _enrol(client, _signed_in(client, agent.email))
    pendings = []
    for n in range(2):  # the password step from two addresses: the code attempts add up
        with TestClient(guarded_app, client=(f"198.51.100.{40 + n}", 50000)) as client:
            pendings.append(_login(client, agent.email).json()["pending"])
    for n in range(3):  # three addresses, one wrong code each
        with TestClient(guarded_app, client=(f"198.51.100.{50 + n}", 50000)) as client:
            wrong = {"pending": pendings[n % 2], "code": "abcdef"}
            _error(client.post("/api/v1/auth/login/totp", json=wrong), 401, "invalid_code")
    with TestClient(guarded_app, client=("198.51.100.60", 50000)) as client:
        right = {"pending": pendings[0], "code": _next_code(secret)}
        _error(client.post("/api/v1/auth/login/totp", json=right), 429, "rate_limited")


def test_turning_it_off_is_limited_per_account(guarded_app, db, agent):
    with TestClient(guarded_app, client=("198.51.100.80", 50000)) as client:
        csrf = _signed_in(client, agent.email)
        secret, _ = _enrol(client, csrf)
        guess = {"password": "a-guess-at-it", "code": _next_code(secret)}
        for _ in range(3):
            _error(client.post("/api/v1/auth/totp/disable", json=guess,
                               headers={"X-CSRF-Token": csrf}), 403, "wrong_password")  # fmt: skip
        right = {"password": factories.PASSWORD, "code": _next_code(secret)}
        _error(client.post("/api/v1/auth/totp/disable", json=right,
                           headers={"X-CSRF-Token": csrf}), 429, "rate_limited")  # fmt: skip
        assert client.get("/api/v1/auth/totp").json()["enabled"] is True


def test_enrolling_asks_for_the_password_again(anon, server, db, agent):
    """ASVS V7.5.1: a session alone cannot bind a phone: the password is typed again, and a
    wrong or missing one changes nothing."""
    headers = {"X-CSRF-Token": _signed_in(anon, agent.email)}
    wrong = anon.post("/api/v1/auth/totp/enrol", json={"password": "not-the-password"},
                      headers=headers)  # fmt: skip
    assert _error(wrong, 403, "wrong_password")["message"] == "当前密码不正确"
    _error(anon.post("/api/v1/auth/totp/enrol", json={}, headers=headers), 422, "validation_error")
    _error(anon.post("/api/v1/auth/totp/enrol", headers=headers), 422, "validation_error")
    db.rollback()
    assert db.get(StaffTwoFactor, agent.id) is None
    assert _actions(db, "auth.totp_enrol_start") == 0
    right = anon.post("/api/v1/auth/totp/enrol", json=PASSWORD, headers=headers)
    assert right.status_code == 200 and right.json()["secret"]
    assert _actions(db, "auth.totp_enrol_start") == 1


def test_an_agent_without_totp_may_only_enrol_when_it_is_required_for_all(
    settings, engine, tmp_path, db, agent
):
    """ASVS V6.3.3: KEFU_TOTP_REQUIRED_FOR=all holds every staff member, as admins are held."""
    strict = settings.model_copy(update={"totp_required_for": "all", "data_dir": tmp_path,
                                         "outbox_relay_in_server": False})  # fmt: skip
    with TestClient(create_app(strict, engine=engine), client=("198.51.100.90", 50000)) as client:
        csrf = _signed_in(client, agent.email)
        _error(client.get("/api/v1/tickets"), 403, "two_factor_enrolment_required")
        _error(client.post("/api/v1/customers", json={"name": "甲"},
                           headers={"X-CSRF-Token": csrf}), 403, "two_factor_enrolment_required")  # fmt: skip
        page = client.get("/inbox", headers={"Accept": "text/html"})
        assert page.status_code == 403 and 'href="/account#two-factor"' in page.text
        account = client.get("/account")
        assert account.status_code == 200 and "你的账号必须开启两步验证" in account.text
        assert client.get("/api/v1/auth/me").status_code == 200
        _enrol(client, csrf)  # the password again, then the first code
        assert client.get("/api/v1/tickets").status_code == 200
        assert client.get("/inbox").status_code == 200


def test_who_must_use_totp_is_one_setting_and_the_old_switch_still_works():
    from kefu.settings import Settings

    assert [Settings().totp_required(r) for r in ("agent", "admin")] == [False, False]
    admins = Settings(totp_required_for="admins")
    assert [admins.totp_required(r) for r in ("agent", "supervisor", "admin")] == [
        False,
        False,
        True,
    ]
    everyone = Settings(totp_required_for="all")
    assert all(everyone.totp_required(r) for r in ("agent", "specialist", "supervisor", "admin"))
    old = Settings(totp_required_for_admins=True)
    assert [old.totp_required(r) for r in ("agent", "admin")] == [False, True]
    assert Settings(totp_required_for="all", totp_required_for_admins=True).totp_required("agent")
