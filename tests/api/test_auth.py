"""/api/v1/auth: password login to a session cookie with CSRF, logout, rate limits, languages."""

from __future__ import annotations

import hashlib
import socket
import threading
import time
import uuid
import warnings
from contextlib import contextmanager
from datetime import timedelta

import httpx
import pytest
import redis
import uvicorn
from sqlalchemy import func, select, update

from kefu.app import create_app
from kefu.cli import SERVER_OPTIONS
from kefu.db.base import utcnow
from kefu.db.models import ApiToken, AuditEvent, Customer, LoginSession, User
from kefu.services.infra.ratelimit import RateLimiter
from kefu.settings import Settings
from tests import factories
from tests.checks import api_error as _error

with warnings.catch_warnings():  # starlette's note that it prefers httpx2; httpx is what we have
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

REDIS_URL = "redis://127.0.0.1:6379/15"


def _login(
    client, email: str = "admin@example.cn", password: str = factories.PASSWORD, **headers: str
):
    return client.post(
        "/api/v1/auth/login", json={"email": email, "password": password}, headers=headers
    )


def _set_cookies(response) -> dict[str, str]:
    """Set-Cookie headers by cookie name, as sent (attributes included)."""
    return {h.split("=", 1)[0]: h for h in response.headers.get_list("set-cookie")}


def _with_cookie(server: str, cookie: str, **headers: str) -> httpx.Client:
    return httpx.Client(
        base_url=server, timeout=30, cookies={"kefu_session": cookie}, headers=headers
    )


# --- login --------------------------------------------------------------------------------


def test_login_sets_httponly_session_cookie_and_csrf_cookie(anon, db, admin):
    response = _login(anon, "  Admin@Example.CN ")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user"]["id"] == admin.id and body["user"]["role"] == "admin"
    assert len(body["csrf_token"]) >= 32

    cookies = _set_cookies(response)
    session_header, csrf_header = cookies["kefu_session"].lower(), cookies["kefu_csrf"].lower()
    assert (
        "httponly" in session_header
        and "samesite=lax" in session_header
        and "path=/" in session_header
    )
    assert f"max-age={14 * 86400}" in session_header
    assert "httponly" not in csrf_header and "samesite=strict" in csrf_header
    assert response.cookies["kefu_csrf"] == body["csrf_token"]

    cookie = response.cookies["kefu_session"]
    db.rollback()
    row = db.scalar(select(LoginSession).where(LoginSession.user_id == admin.id))
    assert (
        row.token_hash == hashlib.sha256(cookie.encode()).hexdigest()
        and cookie not in row.token_hash
    )
    assert row.csrf_token == body["csrf_token"]
    assert timedelta(days=13, hours=23) < row.expires_at - utcnow() <= timedelta(days=14)
    assert row.revoked_at is None
    assert (
        db.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "auth.login")
        )
        == 1
    )

    me = anon.get("/api/v1/auth/me")
    assert me.status_code == 200 and me.json()["email"] == "admin@example.cn"


def test_wrong_password_and_unknown_email_get_the_same_401(anon, db, admin):
    inactive = factories.make_user(db, email="gone@example.cn")
    inactive.is_active = False
    db.commit()
    wrong = _login(anon, password="not-the-password")
    error = _error(wrong, 401, "invalid_credentials")
    assert error["message"] == "邮箱或密码错误"
    for response in (
        _login(anon, email="nobody@example.cn"),
        _login(anon, email="nobody@example.cn", password="not-the-password"),
        _login(anon, email="gone@example.cn"),  # deactivated, right password
    ):
        assert response.status_code == 401
        assert response.json() == wrong.json()
        assert response.headers.get_list("set-cookie") == []
    db.rollback()
    assert db.scalar(select(func.count()).select_from(LoginSession)) == 0
    _error(anon.get("/api/v1/auth/me"), 401, "not_authenticated")


def test_user_without_password_cannot_log_in(api, anon):
    assert (
        api.post("/api/v1/users", json={"email": "nopw@example.cn", "name": "无密码"}).status_code
        == 201
    )
    _error(_login(anon, email="nopw@example.cn", password="anything"), 401, "invalid_credentials")


def test_deactivated_user_cannot_log_in(api, anon, db):
    user = factories.make_user(db, email="leaver@example.cn")
    assert _login(anon, email="leaver@example.cn").status_code == 200
    assert api.delete(f"/api/v1/users/{user.id}").status_code == 204
    _error(anon.get("/api/v1/auth/me"), 401, "not_authenticated")  # the open session ends too
    _error(_login(anon, email="leaver@example.cn"), 401, "invalid_credentials")


def test_login_body_is_validated(anon):
    _error(
        anon.post("/api/v1/auth/login", json={"email": "admin@example.cn"}), 422, "validation_error"
    )
    _error(
        anon.post("/api/v1/auth/login", json={"email": "not-an-email", "password": "x"}),
        422,
        "validation_error",
    )
    _error(
        anon.post(
            "/api/v1/auth/login", content=b"{oops", headers={"content-type": "application/json"}
        ),
        400,
        "invalid_json",
    )


# --- CSRF ---------------------------------------------------------------------------------


def test_unsafe_request_with_cookie_needs_the_csrf_token(anon, server, db, admin):
    csrf = _login(anon).json()["csrf_token"]
    with httpx.Client(base_url=server, timeout=30) as other_browser:
        other_csrf = _login(other_browser).json()["csrf_token"]  # another session's token
    body = {"name": "跨站请求"}

    _error(anon.post("/api/v1/customers", json=body), 403, "csrf_failed")
    for token in ("wrong", "", other_csrf, csrf[:-1]):
        _error(
            anon.post("/api/v1/customers", json=body, headers={"X-CSRF-Token": token}),
            403,
            "csrf_failed",
        )
    _error(anon.post("/api/v1/tokens", json={"name": "偷偷"}), 403, "csrf_failed")
    _error(anon.delete(f"/api/v1/users/{admin.id}"), 403, "csrf_failed")
    _error(anon.patch(f"/api/v1/users/{admin.id}", json={"name": "被改"}), 403, "csrf_failed")
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Customer)) == 0
    assert db.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.name == "偷偷")) == 0
    assert db.execute(select(User.is_active, User.name).where(User.id == admin.id)).one() == (
        True,
        "管理员",
    )

    created = anon.post("/api/v1/customers", json=body, headers={"X-CSRF-Token": csrf})
    assert created.status_code == 201, created.text


def test_get_with_cookie_works_without_csrf(anon, db, admin):
    factories.make_customer(db, name="只读")
    assert _login(anon).status_code == 200
    assert anon.get("/api/v1/auth/me").status_code == 200
    listed = anon.get("/api/v1/customers")
    assert listed.status_code == 200 and [c["name"] for c in listed.json()] == ["只读"]


def test_bearer_header_is_checked_before_the_cookie(anon, admin):
    assert _login(anon).status_code == 200
    assert anon.get("/api/v1/auth/me").status_code == 200
    for header in ("Basic YWRtaW46cGFzcw==", "Bearer", "Bearer kefu_nope"):
        _error(
            anon.get("/api/v1/auth/me", headers={"Authorization": header}), 401, "not_authenticated"
        )


def test_expired_session_is_401(anon, db, admin):
    assert _login(anon).status_code == 200
    db.execute(update(LoginSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.commit()
    _error(anon.get("/api/v1/auth/me"), 401, "not_authenticated")


# --- logout -------------------------------------------------------------------------------


def test_logout_revokes_the_session(anon, server, db, admin):
    csrf = _login(anon).json()["csrf_token"]
    cookie = anon.cookies["kefu_session"]
    with httpx.Client(base_url=server, timeout=30) as other_browser:
        _login(other_browser)

        _error(anon.post("/api/v1/auth/logout"), 403, "csrf_failed")  # logging out is a write too
        response = anon.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
        assert response.status_code == 204
        cleared = _set_cookies(response)
        assert {"kefu_session", "kefu_csrf"} <= set(cleared)
        assert "max-age=0" in cleared["kefu_session"].lower()

        with _with_cookie(server, cookie, **{"X-CSRF-Token": csrf}) as replay:
            _error(replay.get("/api/v1/auth/me"), 401, "not_authenticated")
            _error(replay.post("/api/v1/auth/logout"), 401, "not_authenticated")
        assert other_browser.get("/api/v1/auth/me").status_code == 200  # only this session ended

    db.rollback()
    rows = db.scalars(select(LoginSession).order_by(LoginSession.id)).all()
    assert [r.revoked_at is not None for r in rows] == [True, False]
    assert (
        db.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "auth.logout")
        )
        == 1
    )


def test_sign_out_everywhere_ends_every_browser_session_but_not_tokens(anon, server, db, admin):
    csrf = _login(anon).json()["csrf_token"]
    with httpx.Client(base_url=server, timeout=30) as laptop:
        _login(laptop)
        token = factories.make_token(db, admin)
        assert laptop.get("/api/v1/auth/me").status_code == 200
        response = anon.post("/api/v1/auth/logout-everywhere", headers={"X-CSRF-Token": csrf})
        assert response.status_code == 204
        _error(laptop.get("/api/v1/auth/me"), 401, "not_authenticated")  # the other browser too
        _error(anon.get("/api/v1/auth/me"), 401, "not_authenticated")
        with httpx.Client(base_url=server, timeout=30,
                          headers={"Authorization": f"Bearer {token}"}) as script:  # fmt: skip
            assert script.get("/api/v1/auth/me").status_code == 200  # tokens are revoked apart
    db.expire_all()
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "auth.logout_everywhere"))
    assert event is not None and event.after == {"sessions_ended": 2}


def test_logout_with_an_api_token_says_only_a_session_logs_out(api):
    _error(api.post("/api/v1/auth/logout"), 400, "not_a_session")
    assert (
        api.get("/api/v1/auth/me").status_code == 200
    )  # the token is revoked under /tokens, not here


# --- changing one's own password ---------------------------------------------------------


def _change_password(client, current: str, new: str, **headers: str):
    return client.post(
        "/api/v1/auth/password",
        json={"current_password": current, "new_password": new},
        headers=headers,
    )


def test_changing_my_password_ends_my_other_sessions_and_tokens(
    anon, server, client_for, db, admin
):
    csrf = _login(anon).json()["csrf_token"]
    token_client = client_for(admin)
    with httpx.Client(base_url=server, timeout=30) as other_browser:
        _login(other_browser)
        assert other_browser.get("/api/v1/auth/me").status_code == 200

        response = _change_password(
            anon, factories.PASSWORD, "a-brand-new-passphrase", **{"X-CSRF-Token": csrf}
        )
        assert response.status_code == 204, response.text

        assert anon.get("/api/v1/auth/me").status_code == 200  # this browser stays signed in
        _error(other_browser.get("/api/v1/auth/me"), 401, "not_authenticated")
        _error(token_client.get("/api/v1/auth/me"), 401, "not_authenticated")
    _error(_login(anon), 401, "invalid_credentials")
    assert _login(anon, password="a-brand-new-passphrase").status_code == 200

    db.rollback()
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "auth.password_change"))
    assert event.actor_id == admin.id and event.object_id == admin.id
    assert event.after == {"sessions_ended": 1, "tokens_revoked": 1}
    assert "a-brand-new-passphrase" not in str(event.after)


def test_changing_my_password_with_a_token_keeps_that_token(server, client_for, anon, db, admin):
    kept, other = client_for(admin), client_for(admin)
    _login(anon)
    assert _change_password(kept, factories.PASSWORD, "a-brand-new-passphrase").status_code == 204
    assert kept.get("/api/v1/auth/me").status_code == 200
    _error(other.get("/api/v1/auth/me"), 401, "not_authenticated")
    _error(anon.get("/api/v1/auth/me"), 401, "not_authenticated")


def test_a_wrong_current_password_changes_nothing(anon, server, client_for, db, admin):
    csrf = _login(anon).json()["csrf_token"]
    token_client = client_for(admin)
    _error(
        _change_password(
            anon, "not-my-password", "a-brand-new-passphrase", **{"X-CSRF-Token": csrf}
        ),
        403,
        "wrong_password",
    )
    _error(
        _change_password(anon, factories.PASSWORD, "short", **{"X-CSRF-Token": csrf}),
        422,
        "validation_error",
    )
    breached = _change_password(anon, factories.PASSWORD, "1qaz2wsx", **{"X-CSRF-Token": csrf})
    error = _error(breached, 422, "validation_error")
    assert error["details"] == {"new_password": "这个密码出现在已泄露的常用密码中，请换一个。"}
    assert token_client.get("/api/v1/auth/me").status_code == 200
    assert _login(anon).status_code == 200
    _error(_change_password(anon, factories.PASSWORD, "x" * 9), 403, "csrf_failed")


def test_password_changes_are_rate_limited(strict_app, db, admin):
    with TestClient(strict_app, client=("198.51.100.3", 50000)) as client:
        csrf = _login(client).json()["csrf_token"]
        for _ in range(3):
            _error(
                _change_password(
                    client, "guess-guess", "a-new-passphrase", **{"X-CSRF-Token": csrf}
                ),
                403,
                "wrong_password",
            )
        _error(
            _change_password(
                client, factories.PASSWORD, "a-new-passphrase", **{"X-CSRF-Token": csrf}
            ),
            429,
            "rate_limited",
        )


# --- cookies in production ------------------------------------------------------------------


def _production(settings: Settings, tmp_path) -> Settings:
    return Settings(
        env="production",
        secret_key="a-production-secret-key-for-the-test",
        data_dir=tmp_path,
        database_url=settings.resolved_database_url,
        cookie_secure=False,
        log_level="WARNING",
        sla_sweep_in_server=False,
    )


def test_production_cookies_are_secure_whatever_the_setting_says(settings, engine, tmp_path, admin):
    with TestClient(create_app(_production(settings, tmp_path), engine=engine)) as client:
        cookies = _set_cookies(_login(client))
    assert "secure" in cookies["__Host-kefu_session"].lower().split("; ")
    assert "secure" in cookies["__Host-kefu_csrf"].lower().split("; ")


def test_production_cookies_are_host_cookies_read_by_api_pages_and_sockets(
    settings, engine, tmp_path, admin
):
    app = create_app(_production(settings, tmp_path), engine=engine)
    with TestClient(app, base_url="https://testserver") as client:
        sign_in_form = _set_cookies(client.get("/login"))["__Host-kefu_signin"].lower()
        assert "secure" in sign_in_form.split("; ")
        login = _login(client)
        cookies = _set_cookies(login)
        assert {"__Host-kefu_session", "__Host-kefu_csrf"} <= set(cookies)
        for sent in cookies.values():  # what a browser needs to keep a __Host- cookie
            attributes = sent.lower().split("; ")
            assert {"secure", "path=/"} <= set(attributes)
            assert not any(a.startswith("domain=") for a in attributes)
        cookie = client.cookies["__Host-kefu_session"]
        assert client.get("/api/v1/auth/me").json()["email"] == admin.email
        assert client.get("/inbox", follow_redirects=False).status_code == 200
        with client.websocket_connect(
            "/api/v1/events",
            headers={"origin": "https://testserver", "cookie": f"__Host-kefu_session={cookie}"},
        ) as socket:
            socket.send_json({"type": "hello", "last_event_id": None})
            assert socket.receive_json()["type"] == "ready"
        # The bare name is nobody's session in production: a sibling host could have set it.
        client.cookies.clear()
        client.cookies.set("kefu_session", cookie)
        assert client.get("/api/v1/auth/me").status_code == 401
        assert client.get("/inbox", follow_redirects=False).status_code == 303
        client.cookies.clear()
        client.cookies.set("__Host-kefu_session", cookie)
        signed_out = client.post(
            "/api/v1/auth/logout", headers={"X-CSRF-Token": login.json()["csrf_token"]}
        )
        assert signed_out.status_code == 204
        cleared = _set_cookies(signed_out)
        assert {"__Host-kefu_session", "__Host-kefu_csrf"} <= set(cleared)
        assert "max-age=0" in cleared["__Host-kefu_session"].lower()


def test_development_cookies_are_not_secure_by_default(anon, admin):
    cookies = _set_cookies(_login(anon))
    # Browsers refuse a __Host- cookie without Secure: over plain http the names stay bare.
    assert set(cookies) == {"kefu_session", "kefu_csrf"}
    assert "secure" not in cookies["kefu_session"].lower().split("; ")
    assert "secure" not in cookies["kefu_csrf"].lower().split("; ")


# --- rate limits --------------------------------------------------------------------------


@pytest.fixture
def strict_app(settings, engine, tmp_path, admin):
    """A second kefu app on the same database that allows 3 login attempts a minute."""
    strict = Settings(
        env="test",
        data_dir=tmp_path,
        database_url=settings.resolved_database_url,
        login_attempts_per_minute=3,
        log_level="WARNING",
        sla_sweep_in_server=False,  # as in every test app: the tests drive the sweep themselves
    )
    app = create_app(strict, engine=engine)
    assert app.state.login_limiter.limit == 3
    app.state.login_limiter.clock = lambda: 1_000_000.0  # one window for the whole test
    return app


def test_login_rate_limit_gives_429_with_json_error(strict_app):
    with TestClient(strict_app, client=("198.51.100.1", 50000)) as client:
        for _ in range(3):
            _error(_login(client, password="guess"), 401, "invalid_credentials")
        limited = _login(client)  # even the right password: the limit comes first
        error = _error(limited, 429, "rate_limited")
        assert error["message"] == "请求过于频繁，请稍后再试"
        assert "kefu_session" not in limited.cookies
        english = _login(client, **{"Accept-Language": "en"})
        assert (
            _error(english, 429, "rate_limited")["message"] == "Too many requests; try again later"
        )
        # Other addresses are not blocked by this one's attempts...
    with TestClient(strict_app, client=("198.51.100.2", 50000)) as elsewhere:
        assert _login(elsewhere, email="nobody@example.cn").status_code == 401
        # ...but the attacked account is limited from everywhere.
        _error(_login(elsewhere), 429, "rate_limited")
        _error(_login(elsewhere, email="ADMIN@example.cn"), 429, "rate_limited")


def test_an_attacked_account_stays_open_from_its_owners_usual_address(strict_app):
    with TestClient(strict_app, client=("198.51.100.7", 50000)) as owner:
        assert _login(owner).status_code == 200  # the owner's usual address
    # A spray at the account from elsewhere exhausts its limit (3: the owner's first sign-in,
    # from an address new then, counted too).
    for n in range(2):
        with TestClient(strict_app, client=(f"203.0.113.{n + 1}", 50000)) as attacker:
            _error(_login(attacker, password="guess"), 401, "invalid_credentials")
    with TestClient(strict_app, client=("203.0.113.9", 50000)) as attacker:
        _error(_login(attacker), 429, "rate_limited")  # even the right password, from elsewhere
    with TestClient(strict_app, client=("198.51.100.7", 50000)) as owner:
        assert _login(owner).status_code == 200  # the owner is not locked out
        for _ in range(2):  # but the owner's address has its own limit as every address does
            _login(owner, password="guess")
        _error(_login(owner), 429, "rate_limited")


def _strict_settings(settings, tmp_path, **overrides) -> Settings:
    return Settings(
        env="test",
        data_dir=tmp_path,
        database_url=settings.resolved_database_url,
        login_attempts_per_minute=3,
        log_level="WARNING",
        sla_sweep_in_server=False,
        **overrides,
    )


@contextmanager
def _served(app):
    """The app behind uvicorn on loopback, configured as ``kefu serve`` configures it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **SERVER_OPTIONS)
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not instance.started:
        assert time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.02)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield client
    finally:
        instance.should_exit = True
        thread.join(timeout=10)


def test_a_spoofed_forwarded_for_from_an_untrusted_peer_gets_no_fresh_limit(strict_app):
    """No proxy is trusted by default: X-Forwarded-For from loopback is just a header."""
    with _served(strict_app) as client:
        for n in range(3):
            headers = {"X-Forwarded-For": f"203.0.113.{n + 1}"}
            _error(_login(client, f"guess{n}@example.cn", **headers), 401, "invalid_credentials")
        fresh = {"X-Forwarded-For": "203.0.113.99"}
        _error(_login(client, "guess9@example.cn", **fresh), 429, "rate_limited")


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(
    settings, engine, tmp_path, admin
):
    app = create_app(
        _strict_settings(settings, tmp_path, trusted_proxies="127.0.0.1"), engine=engine
    )
    app.state.login_limiter.clock = lambda: 1_000_000.0
    with TestClient(app, client=("127.0.0.1", 50000)) as proxy:
        for n in range(3):
            # The right-most address the proxy did not add is the client; what it wrote to the
            # left of that is its own claim and does not count.
            forwarded = {"X-Forwarded-For": f"198.51.100.{n + 1}, 203.0.113.1"}
            _error(_login(proxy, f"guess{n}@example.cn", **forwarded), 401, "invalid_credentials")
        again = {"X-Forwarded-For": "203.0.113.1"}
        _error(_login(proxy, "guess9@example.cn", **again), 429, "rate_limited")
        other = {"X-Forwarded-For": "203.0.113.2"}
        _error(_login(proxy, "guess9@example.cn", **other), 401, "invalid_credentials")


def test_memory_limiter_counts_per_key_and_window():
    now = [120.0]
    limiter = RateLimiter(2, 60, clock=lambda: now[0])
    assert [limiter.hit("a"), limiter.hit("a"), limiter.hit("a")] == [True, True, False]
    assert limiter.hit("b") is True
    now[0] = 180.0  # the next window
    assert limiter.hit("a") is True


@pytest.fixture
def redis_client():
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
    client.ping()
    yield client
    client.close()


def test_redis_limiter_shares_counts_between_instances(redis_client):
    key = f"login:test-{uuid.uuid4().hex}"
    first = RateLimiter(3, 60, redis=redis.Redis.from_url(REDIS_URL))
    second = RateLimiter(3, 60, redis=redis.Redis.from_url(REDIS_URL))
    alone = RateLimiter(3, 60)  # in memory: counts only its own hits
    try:
        before = int(time.time() // 60)
        assert [first.hit(key), second.hit(key), first.hit(key)] == [True, True, True]
        assert second.hit(key) is False
        assert first.hit(key) is False
        assert second.hit(f"{key}-other") is True
        assert alone.hit(key) is True
        # The window is wall-clock aligned (other hosts agree on it) and the key expires.
        names = [n.decode() for n in redis_client.scan_iter(f"kefu:rl:{key}:*")]
        assert names and all(int(n.rsplit(":", 1)[1]) in (before, before + 1) for n in names)
        assert all(0 < redis_client.ttl(n) <= 61 for n in names)
    finally:
        for name in redis_client.scan_iter(f"kefu:rl:{key}*"):
            redis_client.delete(name)


# --- languages ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept_language", "language", "message"),
    [
        (None, "zh-CN", "请先登录或提供 API 令牌"),
        ("zh-CN,zh;q=0.9", "zh-CN", "请先登录或提供 API 令牌"),
        ("en", "en", "Log in or send an API token"),
        ("en-US,en;q=0.9", "en", "Log in or send an API token"),
        ("fr-FR", "zh-CN", "请先登录或提供 API 令牌"),
        ("en;q=0.3, zh-CN;q=0.8", "zh-CN", "请先登录或提供 API 令牌"),
        ("zh-TW;q=0.5, en;q=0.9", "en", "Log in or send an API token"),
    ],
)
def test_error_language_follows_accept_language(anon, accept_language, language, message):
    headers = {"Accept-Language": accept_language} if accept_language else {}
    response = anon.get("/api/v1/auth/me", headers=headers)
    assert _error(response, 401, "not_authenticated")["message"] == message
    assert response.headers["content-language"] == language


def test_every_kind_of_error_speaks_english_on_request(client_for, anon, admin):
    en = client_for(admin, **{"Accept-Language": "en"})
    assert (
        _error(en.get("/api/v1/customers/4242"), 404, "not_found")["message"]
        == "Customer not found"
    )
    assert (
        _error(en.get("/api/v1/nothing-here"), 404, "route_not_found")["message"]
        == "No such endpoint"
    )
    assert (
        _error(en.post("/api/v1/customers", json={}), 422, "validation_error")["message"]
        == "The request data is invalid"
    )
    assert (
        _error(
            _login(anon, password="bad", **{"Accept-Language": "en"}), 401, "invalid_credentials"
        )["message"]
        == "Wrong email or password"
    )
    assert _login(anon).status_code == 200
    assert (
        _error(
            anon.post("/api/v1/customers", json={"name": "x"}, headers={"Accept-Language": "en"}),
            403,
            "csrf_failed",
        )["message"]
        == "CSRF check failed; reload and try again"
    )
    zh = client_for(admin)
    assert (
        _error(zh.get("/api/v1/customers/4242"), 404, "not_found")["message"]
        == "客户不存在或无权访问"
    )


@pytest.mark.parametrize("shared", [False, True])
def test_fifty_parallel_attempts_get_exactly_the_limit_through(shared, redis_client):
    """Counting is atomic: no race lets a burst of parallel guesses past the limit."""
    from concurrent.futures import ThreadPoolExecutor

    key = f"login:burst-{uuid.uuid4().hex}"
    limiter = RateLimiter(5, 60, redis=redis.Redis.from_url(REDIS_URL) if shared else None,
                          clock=lambda: 1_000_000.0)  # one window: none starts mid-burst  # fmt: skip
    with ThreadPoolExecutor(max_workers=16) as pool:
        allowed = list(pool.map(lambda _: limiter.hit(key), range(50)))
    assert allowed.count(True) == 5
