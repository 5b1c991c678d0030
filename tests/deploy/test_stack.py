"""Acceptance of #25 "More than one machine": kefu as docs/deployment.md deploys it (the stack
fixture: nginx, two servers and two workers started by deploy/kefu-start, PostgreSQL, Redis),
used through the proxy as browsers, widgets and integrations use it."""

from __future__ import annotations

import socket
import ssl
import uuid
import warnings
from urllib.parse import urlsplit

import httpx
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text

from kefu.db import migrate
from kefu.db.models import LoginSession, OutboxEntry
from kefu.services.intake import integrations
from tests import factories
from tests.api.test_inbound import _payload
from tests.callback_receiver import CallbackReceiver
from tests.deploy.conftest import Stack
from tests.deploy.stack import BROWSER
from tests.realtime.sockets import is_event, open_socket
from tests.visitors import Widget, start

pytestmark = pytest.mark.deploy

SESSION = "__Host-kefu_session"  # the stack runs as production: Secure cookies, __Host- names


def _sign_in(browser: httpx.Client, email: str) -> httpx.Response:
    signed_in = browser.post(
        "/api/v1/auth/login", json={"email": email, "password": factories.PASSWORD}
    )
    assert signed_in.status_code == 200, signed_in.text
    return signed_in


def _served_by_each(stack: Stack, request) -> dict[str, httpx.Response]:  # noqa: ANN001
    """``request()`` through nginx until each kefu process has answered it once (round robin:
    two requests in a row reach both; four at most)."""
    answers: dict[str, httpx.Response] = {}
    for _ in range(4):
        response = request()
        answers.setdefault(stack.upstream(response), response)
    assert set(answers) == set(stack.backends)
    return answers


def test_both_servers_started_together_on_an_empty_database_migrated_it_once(stack):
    head = ScriptDirectory.from_config(migrate.alembic_config("sqlite://")).get_current_head()
    with stack.engine.connect() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        scripts, keys = connection.execute(
            text("SELECT count(*), count(DISTINCT key) FROM scripts WHERE key LIKE 'kefu.%'")
        ).one()
    assert [v for (v,) in versions] == [head]
    assert scripts == keys > 0  # the starter library once, not once per server


def test_plain_http_is_sent_to_https_and_every_server_takes_requests(stack):
    with httpx.Client(timeout=10) as plain:
        redirected = plain.get(f"{stack.plain}/login")
    assert redirected.status_code == 301
    assert redirected.headers["location"].startswith("https://")
    with stack.browser() as browser:
        answers = _served_by_each(stack, lambda: browser.get("/healthz"))
    assert all(a.status_code == 200 for a in answers.values())


@pytest.mark.parametrize(
    "method, path",
    [
        ("POST", "/api/v1/auth/login"),
        ("GET", "/api/v1/tickets"),
        ("POST", "/api/v1/channels/webhook/shop"),
        ("POST", "/api/v1/channels/wechat/account"),
        ("POST", "/chat/api/key/session"),
        ("GET", "/chat/ws/key"),
    ],
)
def test_plain_http_api_calls_are_refused_not_redirected(stack, method, path):
    """ASVS V4.1.2: a page is redirected to https, a call of an API in clear is refused (a
    redirect would hide the client's mistake while its credentials keep going out in clear)."""
    with httpx.Client(timeout=10) as plain:
        refused = plain.request(method, f"{stack.plain}{path}", json={"probe": 1})
    assert refused.status_code == 403
    assert "location" not in refused.headers
    assert refused.json()["error"]["code"] == "https_required"


def _handshake(stack: Stack, version: ssl.TLSVersion, ciphers: str) -> tuple[str | None, str]:
    """The protocol and TLS 1.2 suite nginx agrees to with a client offering only these (the
    client's own floor lowered, so that a refusal is nginx's)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(stack.folder / "ca.pem")
    with warnings.catch_warnings():  # TLS 1.0 and 1.1 are deprecated: that is the point
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = context.maximum_version = version
    context.set_ciphers(f"{ciphers}:@SECLEVEL=0")
    address = urlsplit(stack.proxy)
    host, port = address.hostname or "", address.port or 443
    with (
        socket.create_connection((host, port), timeout=10, source_address=(BROWSER, 0)) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        return tls.version(), tls.cipher()[0]


def test_nginx_prefers_tls_1_3_and_refuses_1_0_1_1_and_1_2_without_forward_secret_aead(stack):
    """ASVS V12.1.1, V12.1.2: the refusals are nginx's alerts, and the same client is let in
    with a suite of the list."""
    address = urlsplit(stack.proxy)
    with (
        socket.create_connection(
            (address.hostname, address.port), source_address=(BROWSER, 0)
        ) as raw,
        stack.tls.wrap_socket(raw, server_hostname=address.hostname) as latest,
    ):
        assert latest.version() == "TLSv1.3"  # a client that can has the latest
    good = _handshake(stack, ssl.TLSVersion.TLSv1_2, "ECDHE-ECDSA-AES128-GCM-SHA256")
    assert good == ("TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256")
    for cbc in ("ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA384", "AES128-GCM-SHA256"):
        with pytest.raises(ssl.SSLError, match="HANDSHAKE_FAILURE"):
            _handshake(stack, ssl.TLSVersion.TLSv1_2, cbc)
    for old in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
        with pytest.raises(ssl.SSLError, match="PROTOCOL_VERSION"):
            _handshake(stack, old, "ECDHE-ECDSA-AES128-SHA")


def test_a_session_opened_on_one_server_is_good_on_the_other_until_signed_out(stack):
    with stack.session() as db:
        user = factories.make_user(db, role="agent")
    with stack.browser() as browser:
        signed_in = _sign_in(browser, user.email)
        answers = _served_by_each(stack, lambda: browser.get("/api/v1/auth/me"))
        assert {a.status_code for a in answers.values()} == {200}
        assert {a.json()["email"] for a in answers.values()} == {user.email}
        # A change made on whichever server (signing out, with the CSRF token of the sign-in).
        signed_out = browser.post(
            "/api/v1/auth/logout", headers={"X-CSRF-Token": signed_in.json()["csrf_token"]}
        )
        assert signed_out.status_code == 204
        browser.cookies.set(SESSION, signed_in.cookies[SESSION])
        after = _served_by_each(stack, lambda: browser.get("/api/v1/auth/me"))
    assert {a.status_code for a in after.values()} == {401}


def test_a_visitors_message_through_nginx_reaches_an_agents_socket_on_the_other_server(stack):
    with stack.session() as db:
        group = factories.make_group(db, f"在线组{uuid.uuid4().hex[:6]}")
        agent = factories.make_user(db, groups=[group])
        channel = factories.make_webchat_channel(
            db, group_id=group.id, secret_key=stack.credential("kefu-secret-key")
        )
    with stack.browser() as browser:
        cookie = _sign_in(browser, agent.email).cookies[SESSION]
        # The browser's socket: its session cookie and kefu's own origin, through nginx's upgrade.
        socket = open_socket(
            stack.proxy, cookie=cookie, origin=stack.proxy, tls=stack.tls, cookie_name=SESSION
        )
        try:
            socket.hello()
            agent_on = "https://" + socket.connection.response.headers["X-Test-Upstream"]
            widget = None
            visitor = start(browser, channel.key)
            for _ in range(3):  # round robin: the next socket or the one after is on the other
                opened = Widget(stack.proxy, channel.key, visitor["visitor_token"], tls=stack.tls)
                on = "https://" + opened.socket.response.headers["X-Test-Upstream"]
                if on != agent_on:
                    widget = opened
                    break
                opened.close()
            assert widget is not None, "nginx kept the visitor on the agent's server"
            try:
                widget.hello()
                widget.send(type="message", client_id=uuid.uuid4().hex, text="请问退货怎么寄回？")
                accepted = widget.until(lambda f: f["type"] == "accepted")
                heard = socket.until(
                    lambda f: (
                        is_event("message.added")(f) and f["event"]["message_id"] == accepted["seq"]
                    )
                )
                assert heard[-1]["event"]["direction"] == "inbound"
            finally:
                widget.close()
        finally:
            socket.close()
    assert {agent_on, on} == set(stack.backends)


def test_two_workers_deliver_each_reply_to_the_integration_once(stack):
    with CallbackReceiver() as receiver, stack.session() as db:
        token, integration, secret = integrations.do_create_integration(
            db, factories.SYSTEM, name=f"商城{uuid.uuid4().hex[:6]}", channels=["api"],
            callback_url=receiver.url, secret_key=stack.credential("kefu-secret-key"),
        )  # fmt: skip
        db.commit()
        receiver.secret = secret  # the servers open the sealed copy with the same master key
        admin = factories.make_token(db, factories.make_user(db, role="admin"))
        replies = []
        with stack.browser() as browser:
            for n in range(10):
                posted = browser.post(
                    "/api/v1/inbound",
                    json=_payload(f"deploy-{n}", f"buyer-{n}", f"第{n}单什么时候发货？"),
                    headers={"Authorization": f"Bearer {token}"},
                )
                assert posted.status_code == 201, posted.text
                replied = browser.post(
                    f"/api/v1/tickets/{posted.json()['ticket_id']}/messages",
                    json={"text": f"您好，第{n}单今天发出"},
                    headers={"Authorization": f"Bearer {admin}"},
                )
                assert replied.status_code == 201, replied.text
                replies.append(replied.json()["id"])

        def states() -> list[str]:
            db.rollback()  # a fresh snapshot each time
            query = select(OutboxEntry.state).where(OutboxEntry.message_id.in_(replies))
            return sorted(db.scalars(query))

        receiver.wait_for(lambda: states() == ["sent"] * len(replies))
    assert len(receiver.posts) == len(replies)  # each sent once: no second worker sent it again
    assert len(set(receiver.keys())) == len(replies)
    assert all(p.signature_ok for p in receiver.posts)
    assert [stack.processes[f"worker-{n}"].poll() for n in (1, 2)] == [None, None]  # both ran


def test_x_forwarded_for_is_believed_from_nginx_and_from_nobody_else(stack):
    forged = {"X-Forwarded-For": "198.51.100.7"}
    with stack.session() as db:
        user = factories.make_user(db, role="agent")
    with stack.browser() as browser:
        through_nginx = browser.post(
            "/api/v1/auth/login",
            json={"email": user.email, "password": factories.PASSWORD},
            headers=forged,
        )
    with httpx.Client(base_url=stack.backends[0], timeout=30, verify=stack.internal) as direct:
        straight = direct.post(
            "/api/v1/auth/login",
            json={"email": user.email, "password": factories.PASSWORD},
            headers=forged,
        )
    assert through_nginx.status_code == straight.status_code == 200
    with stack.session() as db:
        seen = db.scalars(
            select(LoginSession.ip).where(LoginSession.user_id == user.id).order_by(LoginSession.id)
        ).all()
        count = db.scalar(select(func.count()).select_from(LoginSession).where(LoginSession.user_id == user.id))  # fmt: skip
    # nginx names the address that connected to it; a client's own header is never believed.
    assert (count, seen) == (2, [BROWSER, "127.0.0.1"])
