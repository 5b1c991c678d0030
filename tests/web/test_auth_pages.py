"""Signing in and out of the workspace, the password change and the language switch."""

from __future__ import annotations

import logging
import re

import httpx
from sqlalchemy.orm import Session

from kefu.demo.team import ADMIN_EMAIL
from tests import factories
from tests.web.conftest import SignIn, sign_in_token, sign_in_with


def test_the_root_leads_a_stranger_to_the_sign_in_page(anon: httpx.Client) -> None:
    answer = anon.get("/", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"
    page = anon.get("/login")
    assert page.status_code == 200
    assert "登录客服工作台" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "演示账号" not in page.text  # not a demo database


def test_a_page_without_a_session_sends_the_browser_to_sign_in_and_back(anon: httpx.Client) -> None:
    answer = anon.get("/account?x=1", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/account%3Fx%3D1"


def test_signing_in_opens_a_session_and_goes_where_the_user_was_going(
    server: str, db: Session
) -> None:
    agent = factories.make_user(db, name="李娜")
    with httpx.Client(base_url=server, follow_redirects=False) as client:
        answer = sign_in_with(client, agent.email)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/account"
        assert client.cookies.get("kefu_session")
        account = client.get("/account")
        assert account.status_code == 200
        assert "李娜" in account.text
        assert client.get("/", follow_redirects=False).headers["location"] == "/inbox"


def test_a_wrong_password_shows_the_form_again_with_a_message(server: str, db: Session) -> None:
    agent = factories.make_user(db)
    with httpx.Client(base_url=server, follow_redirects=False) as client:
        answer = sign_in_with(client, agent.email, "not-the-password")
        assert answer.status_code == 401
        assert "邮箱或密码错误" in answer.text
        assert agent.email in answer.text  # kept in the field
        assert "kefu_session" not in client.cookies


def test_sign_in_refuses_a_foreign_origin_and_a_missing_form_token(
    server: str, db: Session
) -> None:
    agent = factories.make_user(db)
    with httpx.Client(base_url=server, follow_redirects=False) as client:
        token = sign_in_token(client)
        fields = {"email": agent.email, "password": factories.PASSWORD, "sign_in_token": token}
        foreign = client.post("/login", data=fields, headers={"Origin": "https://evil.example"})
        assert foreign.status_code == 403
        assert "kefu_session" not in client.cookies
        missing = client.post("/login", data={**fields, "sign_in_token": "guess"})
        assert missing.status_code == 403
        assert "<html" in missing.text  # a page for a person, not JSON


def test_next_never_leaves_the_site(server: str, db: Session) -> None:
    agent = factories.make_user(db)
    with httpx.Client(base_url=server, follow_redirects=False) as client:
        token = sign_in_token(client)
        answer = client.post(
            "/login",
            data={
                "email": agent.email,
                "password": factories.PASSWORD,
                "sign_in_token": token,
                "next": "//evil.example/x",
            },
        )
        assert answer.headers["location"] == "/inbox"


def test_the_demo_sign_in_page_lists_the_demo_people(anon: httpx.Client, db: Session) -> None:
    factories.make_user(db, role="admin", email=ADMIN_EMAIL, name="周敏")
    page = anon.get("/login")
    assert "演示账号" in page.text
    assert ADMIN_EMAIL in page.text
    assert "管理员" in page.text


def test_sign_out_needs_the_token_and_ends_the_session(sign_in: SignIn, db: Session) -> None:
    browser = sign_in(factories.make_user(db))
    refused = browser.client.post("/logout", headers={"Origin": str(browser.client.base_url)})
    assert refused.status_code == 403
    assert browser.client.get("/account").status_code == 200
    done = browser.form("/logout")
    assert done.status_code == 303
    assert done.headers["location"] == "/login"
    again = browser.client.get("/account")
    assert again.status_code == 303


def test_a_form_from_another_site_is_refused_even_with_the_token(
    sign_in: SignIn, db: Session
) -> None:
    browser = sign_in(factories.make_user(db))
    answer = browser.client.post(
        "/logout", data={"csrf_token": browser.csrf}, headers={"Origin": "https://evil.example"}
    )
    assert answer.status_code == 403
    assert "origin_refused" in answer.text
    assert browser.client.get("/account").status_code == 200


def test_changing_the_password_ends_the_other_sessions_only(
    sign_in: SignIn, server: str, db: Session
) -> None:
    agent = factories.make_user(db)
    here, elsewhere = sign_in(agent), sign_in(agent)
    changed = here.form(
        "/account/password",
        {
            "current_password": factories.PASSWORD,
            "new_password": "a-new-long-password",
            "repeat_password": "a-new-long-password",
        },
    )
    assert changed.status_code == 303
    assert here.client.get("/account").status_code == 200
    assert elsewhere.client.get("/account").status_code == 303  # signed out
    with httpx.Client(base_url=server, follow_redirects=False) as client:
        assert sign_in_with(client, agent.email, "a-new-long-password").status_code == 303


def test_a_bad_password_change_says_why_and_changes_nothing(sign_in: SignIn, db: Session) -> None:
    browser = sign_in(factories.make_user(db))
    wrong = browser.form(
        "/account/password",
        {
            "current_password": "wrong",
            "new_password": "long-enough-1",
            "repeat_password": "long-enough-1",
        },
    )
    assert wrong.status_code == 400
    assert "当前密码不正确" in wrong.text or "密码" in wrong.text
    differ = browser.form(
        "/account/password",
        {
            "current_password": factories.PASSWORD,
            "new_password": "long-enough-1",
            "repeat_password": "long-enough-2",
        },
    )
    assert differ.status_code == 400
    assert "两次输入的新密码不一致" in differ.text
    short = browser.form(
        "/account/password",
        {
            "current_password": factories.PASSWORD,
            "new_password": "short",
            "repeat_password": "short",
        },
    )
    assert short.status_code == 400
    assert browser.client.get("/account").status_code == 200


def test_the_language_switch_shows_the_pages_in_english(sign_in: SignIn, db: Session) -> None:
    browser = sign_in(factories.make_user(db))
    switched = browser.client.get("/language?to=en&back=/account")
    assert switched.status_code == 303
    page = browser.client.get("/account")
    assert page.headers["content-language"] == "en"
    assert "Change password" in page.text
    assert "Sign out" in page.text
    assert "修改密码" not in page.text


def test_my_status_is_set_from_the_top_bar(sign_in: SignIn, db: Session) -> None:
    agent = factories.make_user(db)
    browser = sign_in(agent)
    answer = browser.client.post(
        "/account/status",
        data={"status": "busy"},
        headers={"X-CSRF-Token": browser.csrf, "HX-Request": "true"},
    )
    assert answer.status_code == 200
    assert 'aria-pressed="true"' in answer.text
    db.refresh(agent)
    assert agent.status == "busy"
    bad = browser.client.post(
        "/account/status",
        data={"status": "asleep"},
        headers={"X-CSRF-Token": browser.csrf, "HX-Request": "true"},
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "validation_error"


def test_an_unknown_page_is_a_page_and_an_unknown_api_path_is_json(anon: httpx.Client) -> None:
    page = anon.get("/no-such-page", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert "<html" in page.text
    api = anon.get("/api/v1/no-such-thing", headers={"Accept": "text/html"})
    assert api.status_code == 404
    assert api.json()["error"]["code"] == "route_not_found"


def test_sign_out_everywhere_from_the_account_page(db, sign_in):
    user = factories.make_user(db)
    here, there = sign_in(user), sign_in(user)
    assert "在所有设备上退出" in here.client.get("/account").text
    done = here.form("/account/logout-everywhere")
    assert done.status_code == 303 and done.headers["location"] == "/login"
    for browser in (here, there):
        assert browser.client.get("/inbox").status_code in (303, 401)


def _security(caplog, event: str) -> list:
    """The records of ``event`` the security log wrote."""
    return [r for r in caplog.records if r.name == "kefu.security" and r.event == event]


def test_a_wrong_password_on_the_page_is_in_the_security_log(server: str, db: Session, caplog):
    caplog.set_level(logging.WARNING, logger="kefu.security")
    agent = factories.make_user(db, email="page.agent@example.cn")
    with httpx.Client(base_url=server, follow_redirects=False) as client:
        assert sign_in_with(client, agent.email, "not-the-password").status_code == 401
    (refused,) = _security(caplog, "sign_in_refused")
    assert (refused.account, refused.reason) == ("p***@example.cn", "wrong_password")
    assert "not-the-password" not in caplog.text


def test_a_refused_origin_on_a_page_is_in_the_security_log_with_the_user(
    sign_in: SignIn, db: Session, caplog
) -> None:
    caplog.set_level(logging.WARNING, logger="kefu.security")
    agent = factories.make_user(db)
    browser = sign_in(agent)
    answer = browser.client.post(
        "/logout", data={"csrf_token": browser.csrf}, headers={"Origin": "https://evil.example"}
    )
    assert answer.status_code == 403
    (refused,) = _security(caplog, "control_refused")
    assert (refused.reason, refused.route, refused.method, refused.actor) == (
        "origin_refused", "/logout", "POST", agent.id,
    )  # fmt: skip


def test_the_account_page_lists_my_sessions_and_ends_one(db, sign_in):
    """ASVS V7.5.2: each signed-in browser with its browser, partly masked address and times,
    this one marked; ending another signs that browser out, ending this one signs me out."""
    user = factories.make_user(db)
    here, there = sign_in(user), sign_in(user)
    page = here.client.get("/account").text
    assert "登录设备" in page and "（当前设备）" in page
    assert page.count("127.0.0.*") == 2 and "127.0.0.1" not in page
    ends = re.findall(r'action="/account/sessions/(\d+)/end"', page)
    current = re.search(
        r'<li class="session current">.*?action="/account/sessions/(\d+)/end"', page, re.S
    )
    assert len(ends) == 2 and current is not None
    (other,) = [e for e in ends if e != current.group(1)]
    done = here.form(f"/account/sessions/{other}/end")
    assert done.status_code == 303 and done.headers["location"].startswith("/account?done=")
    assert there.client.get("/account").status_code == 303
    assert "已退出该设备上的登录" in here.client.get(done.headers["location"]).text
    assert here.form(f"/account/sessions/{other}/end").status_code == 404  # ended already
    out = here.form(f"/account/sessions/{current.group(1)}/end")
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert out.headers["clear-site-data"] == '"cache", "cookies", "storage"'
    assert here.client.get("/account").status_code == 303
