"""Browser sessions: a new cookie value at each sign-in (the old one ends), the idle timeout
(KEFU_SESSION_IDLE_MINUTES) beside the fixed lifetime, and the last use written at most once a
minute. Time moves by editing the session's row."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select, update

from kefu.db.base import utcnow
from kefu.db.models import LoginSession
from tests import factories
from tests.checks import api_error as _error


def _login(client: httpx.Client, email: str = "admin@example.cn") -> httpx.Response:
    return client.post("/api/v1/auth/login", json={"email": email, "password": factories.PASSWORD})


def _row(db, cookie: str) -> LoginSession:
    from kefu.services.staff.auth import digest

    db.rollback()
    return db.scalar(select(LoginSession).where(LoginSession.token_hash == digest(cookie)))


def _age(db, cookie: str, *, minutes: float) -> None:
    """The session last used ``minutes`` ago (and opened then)."""
    from kefu.services.staff.auth import digest

    then = utcnow() - timedelta(minutes=minutes)
    db.execute(
        update(LoginSession)
        .where(LoginSession.token_hash == digest(cookie))
        .values(last_used_at=then, created_at=then)
    )
    db.commit()


def test_each_sign_in_gets_a_new_cookie_and_the_one_it_came_with_ends(anon, server, db, admin):
    assert _login(anon).status_code == 200
    first = anon.cookies["kefu_session"]
    assert _login(anon).status_code == 200  # the browser sends its cookie along
    second = anon.cookies["kefu_session"]
    assert second != first
    with httpx.Client(base_url=server, timeout=30, cookies={"kefu_session": first}) as old:
        _error(old.get("/api/v1/auth/me"), 401, "not_authenticated")
    assert anon.get("/api/v1/auth/me").status_code == 200
    assert _row(db, first).revoked_at is not None and _row(db, second).revoked_at is None


def test_a_cookie_planted_before_sign_in_is_worth_nothing_after(anon, server, db, admin):
    attacker = factories.make_user(db, email="attacker@example.cn")
    with httpx.Client(base_url=server, timeout=30) as theirs:
        assert _login(theirs, attacker.email).status_code == 200
        planted = theirs.cookies["kefu_session"]
    anon.cookies.set("kefu_session", planted)
    assert _login(anon).status_code == 200
    with httpx.Client(base_url=server, timeout=30, cookies={"kefu_session": planted}) as replay:
        _error(replay.get("/api/v1/auth/me"), 401, "not_authenticated")


def test_a_session_unused_for_the_idle_time_ends_with_session_expired(anon, db, admin):
    assert _login(anon).status_code == 200
    cookie = anon.cookies["kefu_session"]
    _age(db, cookie, minutes=119)
    assert anon.get("/api/v1/auth/me").status_code == 200  # 119 of 120 minutes: still alive
    _age(db, cookie, minutes=121)
    error = _error(anon.get("/api/v1/auth/me"), 401, "session_expired")
    assert error["message"] == "长时间未操作，登录已过期，请重新登录"
    anon.cookies.set("kefu_session", cookie)  # the answer deleted it; a browser may still send it
    english = anon.get("/api/v1/auth/me", headers={"Accept-Language": "en"})
    assert _error(english, 401, "session_expired")["message"].startswith("Your session expired")


def test_use_keeps_a_session_alive_but_not_past_its_fixed_lifetime(anon, db, admin):
    assert _login(anon).status_code == 200
    cookie = anon.cookies["kefu_session"]
    _age(db, cookie, minutes=100)
    assert anon.get("/api/v1/auth/me").status_code == 200  # a use, written (older than a minute)
    assert utcnow() - _row(db, cookie).last_used_at < timedelta(seconds=30)
    db.execute(update(LoginSession).values(created_at=utcnow() - timedelta(minutes=500)))
    db.commit()
    assert anon.get("/api/v1/auth/me").status_code == 200  # idle counts from the last use
    db.execute(update(LoginSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.commit()
    _error(anon.get("/api/v1/auth/me"), 401, "not_authenticated")


def test_the_last_use_is_written_at_most_once_a_minute(anon, db, admin):
    csrf = _login(anon).json()["csrf_token"]
    cookie = anon.cookies["kefu_session"]
    written = _row(db, cookie).last_used_at
    for _ in range(3):  # reads and writes within the minute: no write of the session row
        assert anon.get("/api/v1/auth/me").status_code == 200
        assert anon.post("/api/v1/customers", json={"name": "甲"},
                         headers={"X-CSRF-Token": csrf}).status_code == 201  # fmt: skip
    assert _row(db, cookie).last_used_at == written
    stale = utcnow() - timedelta(seconds=61)
    db.execute(update(LoginSession).values(last_used_at=stale))
    db.commit()
    assert anon.post("/api/v1/customers", json={"name": "乙"},
                     headers={"X-CSRF-Token": csrf}).status_code == 201  # fmt: skip
    touched = _row(db, cookie).last_used_at
    assert touched > stale + timedelta(seconds=30)
    assert anon.get("/api/v1/auth/me").status_code == 200
    assert _row(db, cookie).last_used_at == touched  # the next use within the minute: no write


def test_an_expired_page_session_goes_to_sign_in_with_a_notice(anon, db, admin):
    assert _login(anon).status_code == 200
    cookie = anon.cookies["kefu_session"]
    _age(db, cookie, minutes=600)
    response = anon.get("/inbox", headers={"Accept": "text/html"})
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/inbox&expired=1"
    page = anon.get(response.headers["location"])
    assert page.status_code == 200 and "长时间未操作，登录已过期，请重新登录" in page.text
    anon.cookies.set("kefu_session", cookie)  # the redirect deleted it; as if still sent
    htmx = anon.get("/inbox", headers={"HX-Request": "true"})
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"].endswith("expired=1")


def test_the_idle_time_is_a_setting(settings):
    from kefu.settings import Settings

    assert Settings().session_idle_minutes == 120
    assert settings.model_copy(update={"session_idle_minutes": 5}).session_idle_minutes == 5


CLEARED = '"cache", "cookies", "storage"'


def test_every_end_of_a_session_tells_the_browser_to_clear_the_sites_data(anon, server, db, admin):
    """Sign-out, sign-out everywhere and an idle session found ended answer Clear-Site-Data, on
    the API and on the pages; an ordinary answer does not (ASVS V14.3.1)."""
    csrf = _login(anon).json()["csrf_token"]
    assert "clear-site-data" not in anon.get("/api/v1/auth/me").headers
    out = anon.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 204 and out.headers["clear-site-data"] == CLEARED
    csrf = _login(anon).json()["csrf_token"]
    out = anon.post("/api/v1/auth/logout-everywhere", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 204 and out.headers["clear-site-data"] == CLEARED
    assert _login(anon).status_code == 200
    _age(db, anon.cookies["kefu_session"], minutes=600)
    expired = anon.get("/api/v1/auth/me")
    _error(expired, 401, "session_expired")
    assert expired.headers["clear-site-data"] == CLEARED
    assert "clear-site-data" not in anon.get("/api/v1/auth/me").headers  # no cookie: plain 401
    assert _login(anon).status_code == 200
    _age(db, anon.cookies["kefu_session"], minutes=600)
    page = anon.get("/inbox", headers={"Accept": "text/html"})
    assert page.status_code == 303 and page.headers["clear-site-data"] == CLEARED
    from tests.web.conftest import sign_in_with

    origin = {"Origin": server}
    for path in ("/logout", "/account/logout-everywhere"):
        with httpx.Client(base_url=server, timeout=30, follow_redirects=False) as browser:
            assert sign_in_with(browser, "admin@example.cn").status_code == 303
            form = {"csrf_token": browser.cookies["kefu_csrf"]}
            done = browser.post(path, data=form, headers=origin)
            assert done.status_code == 303 and done.headers["clear-site-data"] == CLEARED


CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)


def test_people_see_their_sessions_and_end_one_by_one(anon, server, db, admin):
    """ASVS V7.5.2: the list (browser, masked address, signed in, last used, this one) and the
    end of one session, another browser's or this one's (a sign-out)."""
    from kefu.db.models import AuditEvent

    csrf = {"X-CSRF-Token": _login(anon).json()["csrf_token"]}
    with httpx.Client(base_url=server, timeout=30, headers={"User-Agent": CHROME}) as other:
        assert _login(other).status_code == 200
        db.execute(update(LoginSession).where(LoginSession.token_hash == _digest(other))
                   .values(ip="203.0.113.45"))  # fmt: skip
        db.commit()
        listed = anon.get("/api/v1/auth/sessions").json()
        assert sorted(s["current"] for s in listed) == [False, True]
        (theirs,) = [s for s in listed if not s["current"]]
        (mine,) = [s for s in listed if s["current"]]
        assert theirs["browser"] == "Chrome 120 · Windows"
        assert theirs["address"] == "203.0.113.*" and "45" not in theirs["address"]
        assert mine["address"] == "127.0.0.*" and mine["browser"].startswith("python-httpx")
        assert {"signed_in_at", "last_used_at"} <= set(theirs)
        assert "token_hash" not in theirs and "csrf_token" not in theirs
        refused = anon.delete(f"/api/v1/auth/sessions/{theirs['id']}")  # no CSRF token
        _error(refused, 403, "csrf_failed")
        ended = anon.delete(f"/api/v1/auth/sessions/{theirs['id']}", headers=csrf)
        assert ended.status_code == 204 and "clear-site-data" not in ended.headers
        _error(other.get("/api/v1/auth/me"), 401, "not_authenticated")
        assert [s["id"] for s in anon.get("/api/v1/auth/sessions").json()] == [mine["id"]]
        again = anon.delete(f"/api/v1/auth/sessions/{theirs['id']}", headers=csrf)
        _error(again, 404, "not_found")  # ended already
    db.rollback()
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "auth.session_end"))
    assert event is not None and event.after == {"session_id": theirs["id"]}
    out = anon.delete(f"/api/v1/auth/sessions/{mine['id']}", headers=csrf)
    assert out.status_code == 204 and out.headers["clear-site-data"] == CLEARED
    _error(anon.get("/api/v1/auth/me"), 401, "not_authenticated")


def test_nobody_ends_or_sees_someone_elses_session(anon, server, db, admin, client_for):
    assert _login(anon).status_code == 200
    admins_session = _row(db, anon.cookies["kefu_session"])
    agent = factories.make_user(db)
    with httpx.Client(base_url=server, timeout=30) as theirs:
        csrf = {"X-CSRF-Token": _login(theirs, agent.email).json()["csrf_token"]}
        assert [s["current"] for s in theirs.get("/api/v1/auth/sessions").json()] == [True]
        refused = theirs.delete(f"/api/v1/auth/sessions/{admins_session.id}", headers=csrf)
        _error(refused, 404, "not_found")
        _error(theirs.delete("/api/v1/auth/sessions/424242", headers=csrf), 404, "not_found")
    assert anon.get("/api/v1/auth/me").status_code == 200
    by_token = client_for(agent)  # a token's caller has no current session
    assert [s["current"] for s in by_token.get("/api/v1/auth/sessions").json()] == [False]


def test_an_admin_ends_a_persons_sessions_without_changing_the_password(
    anon, server, db, admin, api, client_for
):
    """ASVS V7.4.5: every browser session of the person ends, audited; the password and the
    API tokens stay; agents may not."""
    from kefu.db.models import AuditEvent

    agent = factories.make_user(db)
    their_token = client_for(agent)
    browsers = [httpx.Client(base_url=server, timeout=30) for _ in range(2)]
    try:
        for browser in browsers:
            assert _login(browser, agent.email).status_code == 200
        _error(their_token.delete(f"/api/v1/users/{admin.id}/sessions"), 403, "forbidden")
        ended = api.delete(f"/api/v1/users/{agent.id}/sessions")
        assert ended.status_code == 200 and ended.json() == {"sessions_ended": 2}
        for browser in browsers:
            _error(browser.get("/api/v1/auth/me"), 401, "not_authenticated")
        assert their_token.get("/api/v1/auth/me").status_code == 200
        assert _login(browsers[0], agent.email).status_code == 200  # the same password
        _error(api.delete("/api/v1/users/424242/sessions"), 404, "not_found")
    finally:
        for browser in browsers:
            browser.close()
    db.rollback()
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "user.sessions_ended"))
    assert (event.object_id, event.actor_id, event.after) == (
        agent.id, admin.id, {"sessions_ended": 2},
    )  # fmt: skip


def _digest(client: httpx.Client) -> str:
    from kefu.services.staff.auth import digest

    return digest(client.cookies["kefu_session"])
