"""Passwords someone else set (ASVS V6.4.1): an admin's new password for a person, or an
admin-created account's first one, must be changed at the first sign-in — until then the API
answers 403 ``password_change_required`` and the pages lead to the change form — and after
KEFU_TEMPORARY_PASSWORD_DAYS it signs in no more. Accounts made without an admin (the demo, the
test factories) are not held; `kefu user create` is in tests/test_cli.py."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update

from kefu.db.base import utcnow
from kefu.db.models import User
from tests import factories
from tests.checks import api_error as _error
from tests.web.conftest import sign_in_with

GIVEN = "given-by-the-admin-1"
OWN = "chosen-by-myself-22"


def _login(client: httpx.Client, email: str, password: str) -> httpx.Response:
    return client.post("/api/v1/auth/login", json={"email": email, "password": password})


@pytest.fixture
def person(db, api) -> User:
    """An agent whose password an admin has just set."""
    agent = factories.make_user(db, email="new.agent@example.cn")
    assert not agent.must_change_password  # made without an admin: not held
    assert api.patch(f"/api/v1/users/{agent.id}", json={"password": GIVEN}).status_code == 200
    return agent


def test_a_password_an_admin_set_opens_only_the_change_step(anon, db, person):
    signed_in = _login(anon, person.email, GIVEN)
    assert signed_in.status_code == 200 and signed_in.json()["must_change_password"] is True
    csrf = {"X-CSRF-Token": signed_in.json()["csrf_token"]}
    error = _error(anon.get("/api/v1/tickets"), 403, "password_change_required")
    assert error["message"].startswith("请先修改密码")
    _error(anon.post("/api/v1/customers", json={"name": "甲"}, headers=csrf), 403,
           "password_change_required")  # fmt: skip
    _error(anon.get("/api/v1/auth/sessions"), 403, "password_change_required")
    _error(anon.post("/api/v1/auth/totp/enrol", json={"password": GIVEN}, headers=csrf), 403,
           "password_change_required")  # fmt: skip
    assert anon.get("/api/v1/auth/me").status_code == 200
    same = {"current_password": GIVEN, "new_password": GIVEN}
    _error(anon.post("/api/v1/auth/password", json=same, headers=csrf), 422, "password_unchanged")
    changed = {"current_password": GIVEN, "new_password": OWN}
    assert anon.post("/api/v1/auth/password", json=changed, headers=csrf).status_code == 204
    assert anon.get("/api/v1/tickets").status_code == 200  # this session goes on, now free
    db.rollback()
    user = db.get(User, person.id)
    assert (user.must_change_password, user.temporary_password_expires_at) == (False, None)
    assert _login(anon, person.email, OWN).json()["must_change_password"] is False


def test_an_admin_created_accounts_first_password_is_temporary(anon, api, db):
    made = api.post("/api/v1/users", json={"email": "fresh@example.cn", "name": "新人",
                                           "password": GIVEN})  # fmt: skip
    assert made.status_code == 201
    db.rollback()
    user = db.get(User, made.json()["id"])
    assert user.must_change_password is True
    days = (user.temporary_password_expires_at - utcnow()).total_seconds() / 86400
    assert 6.9 < days <= 7  # KEFU_TEMPORARY_PASSWORD_DAYS
    assert _login(anon, "fresh@example.cn", GIVEN).json()["must_change_password"] is True
    _error(anon.get("/api/v1/tickets"), 403, "password_change_required")


def test_an_expired_temporary_password_signs_in_no_more_until_an_admin_sets_another(
    anon, api, db, person
):
    db.execute(update(User).where(User.id == person.id)
               .values(temporary_password_expires_at=utcnow() - timedelta(minutes=1)))  # fmt: skip
    db.commit()
    error = _error(_login(anon, person.email, GIVEN), 401, "temporary_password_expired")
    assert "联系管理员" in error["message"]
    _error(_login(anon, person.email, "a-wrong-guess"), 401, "invalid_credentials")  # no hint
    assert (
        api.patch(f"/api/v1/users/{person.id}", json={"password": GIVEN + "x"}).status_code == 200
    )
    assert _login(anon, person.email, GIVEN + "x").json()["must_change_password"] is True


def test_the_pages_lead_to_the_change_form(server, db, person):
    with httpx.Client(base_url=server, timeout=30, follow_redirects=False) as browser:
        signed_in = sign_in_with(browser, person.email, GIVEN)
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/account#password"
        inbox = browser.get("/inbox", headers={"Accept": "text/html"})
        assert inbox.status_code == 303 and inbox.headers["location"] == "/account#password"
        htmx = browser.get("/inbox", headers={"HX-Request": "true"})
        assert htmx.status_code == 403 and htmx.headers["HX-Redirect"] == "/account#password"
        account = browser.get("/account")
        assert account.status_code == 200 and "初始密码" in account.text
        assert 'action="/account/password"' in account.text
        assert 'action="/account/totp/start' not in account.text  # only the change for now
        assert 'data-live="off"' in account.text  # the page does not knock on the socket
        origin = {"Origin": server}
        form = {"csrf_token": browser.cookies["kefu_csrf"], "current_password": GIVEN,
                "new_password": OWN, "repeat_password": OWN}  # fmt: skip
        changed = browser.post("/account/password", data=form, headers=origin)
        assert changed.status_code == 303
        inbox = browser.get("/inbox", headers={"Accept": "text/html"})
        assert inbox.status_code == 200 and 'data-live="off"' not in inbox.text


def test_an_expired_temporary_password_is_said_on_the_sign_in_page(server, db, person):
    db.execute(update(User).where(User.id == person.id)
               .values(temporary_password_expires_at=utcnow() - timedelta(minutes=1)))  # fmt: skip
    db.commit()
    with httpx.Client(base_url=server, timeout=30, follow_redirects=False) as browser:
        page = sign_in_with(browser, person.email, GIVEN)
        assert page.status_code == 401 and "初始密码已过期" in page.text
        assert "kefu_session" not in browser.cookies


def test_an_admins_own_new_password_is_their_own(api, db, admin):
    me = {"password": OWN, "current_password": factories.PASSWORD}
    assert api.patch(f"/api/v1/users/{admin.id}", json=me).status_code == 200
    db.rollback()
    assert db.get(User, admin.id).must_change_password is False


def test_an_expired_temporary_password_is_in_the_security_log(anon, db, person, caplog):
    import logging

    caplog.set_level(logging.WARNING, logger="kefu.security")
    db.execute(update(User).where(User.id == person.id)
               .values(temporary_password_expires_at=utcnow() - timedelta(minutes=1)))  # fmt: skip
    db.commit()
    _error(_login(anon, person.email, GIVEN), 401, "temporary_password_expired")
    (refused,) = [r for r in caplog.records if getattr(r, "event", "") == "sign_in_refused"]
    assert refused.reason == "temporary_password_expired" and GIVEN not in caplog.text
