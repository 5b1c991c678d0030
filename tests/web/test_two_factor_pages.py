"""Two-step verification in the workspace: the account page enrols (the QR code and secret once,
a first code, the recovery codes once) and turns it off; the sign-in page asks for a code; an
admin resets someone's from the user's admin page."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import httpx
import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import AuditEvent, StaffTwoFactor
from tests import factories
from tests.web.conftest import Browser, SignIn, sign_in_with


def _enrol(browser: Browser) -> tuple[str, list[str]]:
    started = browser.form("/account/totp/start", {"password": factories.PASSWORD})
    assert started.status_code == 200, started.text[:500]
    assert 'src="data:image/svg+xml' in started.text
    secret = re.search(r'class="totp-secret">([A-Z2-7]+)<', started.text).group(1)
    assert "otpauth://totp/kefu:" in html.unescape(started.text)
    wrong = browser.form("/account/totp/confirm", {"code": "abc123"})
    assert wrong.status_code == 422 and "验证码不正确或已使用" in wrong.text
    assert secret in wrong.text  # the same enrolment shown again to try once more
    confirmed = browser.form("/account/totp/confirm", {"code": pyotp.TOTP(secret).now()})
    assert confirmed.status_code == 200
    codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", confirmed.text)
    assert len(codes) == 10 and "离开这个页面后不会再显示" in confirmed.text
    return secret, codes


def test_enrolling_on_the_account_page_shows_the_secret_and_codes_once(
    sign_in: SignIn, db: Session
) -> None:
    agent = factories.make_user(db)
    browser = sign_in(agent)
    assert "开启两步验证" in browser.client.get("/account").text
    secret, codes = _enrol(browser)
    later = browser.client.get("/account").text
    assert secret not in later and not any(code in later for code in codes)
    assert "剩余恢复码：<strong>10</strong>" in later
    db.rollback()
    assert db.get(StaffTwoFactor, agent.id).enabled_at is not None


def test_signing_in_asks_for_the_code_after_the_password(
    sign_in: SignIn, server: str, db: Session
) -> None:
    agent = factories.make_user(db)
    secret, codes = _enrol(sign_in(agent))
    with httpx.Client(base_url=server, follow_redirects=False) as client:
        step = sign_in_with(client, agent.email)
        assert step.status_code == 200 and "两步验证" in step.text and 'name="code"' in step.text
        assert "kefu_session" not in client.cookies
        fields = dict(re.findall(r'name="(pending|sign_in_token|next)" value="([^"]*)"', step.text))
        origin = {"Origin": server}
        wrong = client.post("/login/code", data={**fields, "code": "000001"}, headers=origin)
        assert wrong.status_code == 401 and "验证码不正确或已使用" in wrong.text
        code = pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=30))
        foreign = client.post("/login/code", data={**fields, "code": code},
                              headers={"Origin": "https://evil.example"})  # fmt: skip
        assert foreign.status_code == 403
        done = client.post("/login/code", data={**fields, "code": code}, headers=origin)
        assert done.status_code == 303 and done.headers["location"] == "/account"
        assert client.get("/account").status_code == 200
    with httpx.Client(base_url=server, follow_redirects=False) as client:  # a recovery code
        step = sign_in_with(client, agent.email)
        fields = dict(re.findall(r'name="(pending|sign_in_token|next)" value="([^"]*)"', step.text))
        done = client.post(
            "/login/code", data={**fields, "code": codes[0]}, headers={"Origin": server}
        )
        assert done.status_code == 303
        assert "剩余恢复码：<strong>9</strong>" in client.get("/account").text
    with httpx.Client(base_url=server, follow_redirects=False) as client:  # an altered step token
        step = sign_in_with(client, agent.email)
        fields = dict(re.findall(r'name="(pending|sign_in_token|next)" value="([^"]*)"', step.text))
        fields["pending"] = fields["pending"][:-3] + "abc"
        back = client.post(
            "/login/code", data={**fields, "code": codes[1]}, headers={"Origin": server}
        )
        assert (
            back.status_code == 401
            and "登录步骤已超时" in back.text
            and 'name="password"' in back.text
        )


def test_turning_it_off_on_the_account_page(sign_in: SignIn, server: str, db: Session) -> None:
    agent = factories.make_user(db)
    browser = sign_in(agent)
    secret, _ = _enrol(browser)
    code = pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=30))
    wrong = browser.form("/account/totp/disable", {"password": "nope-nope", "code": code})
    assert wrong.status_code == 422 and "当前密码不正确" in wrong.text
    off = browser.form("/account/totp/disable", {"password": factories.PASSWORD, "code": code})
    assert off.status_code == 303 and off.headers["location"] == "/account?done=totp_off#two-factor"
    assert "两步验证已关闭" in browser.client.get(off.headers["location"]).text
    with httpx.Client(base_url=server, follow_redirects=False) as client:
        assert sign_in_with(client, agent.email).status_code == 303  # the password alone again


def test_an_admin_resets_a_users_two_factor_from_the_user_page(
    sign_in: SignIn, db: Session, admin
) -> None:
    agent = factories.make_user(db)
    _enrol(sign_in(agent))
    browser = sign_in(admin)
    page = browser.client.get(f"/admin/users/{agent.id}")
    assert "该用户已开启两步验证" in page.text
    reset = browser.form(f"/admin/users/{agent.id}/totp/reset")
    assert reset.status_code == 303
    after = browser.client.get(reset.headers["location"]).text
    assert "两步验证已重置" in after and "该用户未开启两步验证" in after
    db.rollback()
    assert db.get(StaffTwoFactor, agent.id) is None
    assert (
        db.scalar(select(AuditEvent.actor_id).where(AuditEvent.action == "auth.totp_reset"))
        == admin.id
    )


def test_enrolling_on_the_account_page_asks_for_the_password_again(
    sign_in: SignIn, db: Session
) -> None:
    """ASVS V7.5.1: a wrong password shows the form with a message and starts nothing."""
    agent = factories.make_user(db)
    browser = sign_in(agent)
    assert 'name="password" type="password"' in browser.client.get("/account").text
    for password in ("not-the-password", ""):
        wrong = browser.form("/account/totp/start", {"password": password})
        assert wrong.status_code == 403 and "当前密码不正确" in wrong.text
        assert "totp-secret" not in wrong.text
    db.rollback()
    assert db.get(StaffTwoFactor, agent.id) is None
    _enrol(browser)
