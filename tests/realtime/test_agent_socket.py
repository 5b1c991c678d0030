"""The staff WebSocket (/api/v1/events) against the running server: what each agent hears,
resuming after a reconnect, the Origin check, and sockets closed when their sign-in ends."""

from __future__ import annotations

import base64
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select, update

from kefu.app import create_app
from kefu.db.base import utcnow
from kefu.db.engine import make_session_factory
from kefu.db.models import ApiToken, LoginSession
from kefu.domain import events as ev
from kefu.realtime import agent_socket
from kefu.realtime.agent_socket import origin_allowed
from kefu.services.sla.clocks import sweep_until_done
from tests import factories
from tests.api.test_database_down import _serve, outage  # noqa: F401 - the fixture
from tests.api.test_inbound import _payload
from tests.conftest import serve
from tests.realtime.sockets import Refused, StaffSocket, is_event, open_socket, tickets_in


@pytest.fixture
def sockets(server) -> Iterator[list[StaffSocket]]:
    opened: list[StaffSocket] = []
    yield opened
    for socket in opened:
        socket.close()


@pytest.fixture
def connect(server, db, sockets):
    """``connect(user)``: a staff socket of ``user`` (a fresh API token), hello said."""

    def make(user, *, hello: bool = True, **options) -> StaffSocket:
        if not {"token", "cookie", "query_token", "protocol_token"} & set(options):
            options["token"] = factories.make_token(db, user)
        socket = open_socket(server, **options)
        sockets.append(socket)
        if hello:
            socket.hello()
        return socket

    return make


@pytest.fixture
def world(db):
    """Two groups, an agent in each, a second agent of the first, and a supervisor; a case each."""
    north, south = factories.make_group(db, "华北组"), factories.make_group(db, "华南组")
    return {
        "north": north,
        "south": south,
        "agent": factories.make_user(db, groups=[north]),
        "colleague": factories.make_user(db, groups=[north]),
        "stranger": factories.make_user(db, groups=[south]),
        "supervisor": factories.make_user(db, role="supervisor"),
        "north_ticket": factories.make_ticket(db, group=north).id,
        "south_ticket": factories.make_ticket(db, group=south).id,
    }


def _reply(client: httpx.Client, ticket_id: int, text: str = "您好，已为您查询") -> int:
    answer = client.post(f"/api/v1/tickets/{ticket_id}/messages", json={"text": text})
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def test_each_agent_hears_of_the_cases_they_may_see_and_of_no_others(world, connect, client_for):
    agent, stranger = connect(world["agent"]), connect(world["stranger"])
    supervisor = connect(world["supervisor"])
    north, south = world["north_ticket"], world["south_ticket"]
    message_id = _reply(client_for(world["colleague"]), north)
    _reply(client_for(world["stranger"]), south)  # after it: everything before has been sent

    heard = agent.until(is_event("message.added", north))
    assert heard[-1] == {
        "type": "event",
        "id": heard[-1]["id"],
        "event": {
            "event": "message.added",
            "ticket_id": north,
            "message_id": message_id,
            "direction": "outbound",
        },
    }
    stranger_heard = stranger.until(is_event("message.added", south))
    assert tickets_in(stranger_heard) == {south}  # nothing about the north case
    supervisor_heard = supervisor.until(is_event("message.added", south))
    assert {north, south} <= tickets_in(supervisor_heard)
    ids = [f["id"] for f in supervisor_heard]
    assert len(ids) == len(set(ids))


def test_a_customer_message_through_intake_reaches_the_staff_who_see_it(
    world, connect, integration
):
    supervisor = connect(world["supervisor"])
    posted = integration.post(
        "/api/v1/inbound", json=_payload("rt-1", "rt", "我的快递一周了还没到！")
    )
    assert posted.status_code == 201, posted.text
    ticket_id = posted.json()["ticket_id"]
    heard = supervisor.until(is_event("message.added", ticket_id))
    assert any(is_event("ticket.opened", ticket_id)(f) for f in heard)


def test_a_reconnecting_agent_gets_the_gap_replayed_in_order_then_live_events(
    world, connect, client_for
):
    first = connect(world["agent"])
    resume_at = first.ready["last_event_id"]
    first.close()
    colleague = client_for(world["colleague"])
    missed = [_reply(colleague, world["north_ticket"], f"第{i}条回复") for i in range(3)]
    _reply(client_for(world["stranger"]), world["south_ticket"])  # not theirs: not replayed
    watcher = connect(world["supervisor"], hello=False)
    watcher.hello(resume_at)
    everything = watcher.replayed  # the supervisor's replay: every event of the gap

    again = connect(world["agent"], hello=False)
    ready = again.hello(resume_at)
    replayed = [f["event"]["message_id"] for f in again.replayed if is_event("message.added")(f)]
    assert replayed == missed
    assert tickets_in(again.replayed) == {world["north_ticket"]}
    assert ready["last_event_id"] == everything[-1]["id"]  # the stranger's reply, seen or not
    ids = [f["id"] for f in again.replayed]
    assert ids == [f["id"] for f in everything if f["event"]["ticket_id"] == world["north_ticket"]]

    live = _reply(colleague, world["north_ticket"], "新的回复")
    heard = again.until(is_event("message.added", world["north_ticket"]))
    assert heard[-1]["event"]["message_id"] == live
    assert not set(ids) & {f["id"] for f in heard}  # nothing twice


@pytest.mark.parametrize("last_event_id", ["1-0", "garbage", "99999999999999-0", 12])
def test_an_id_the_server_does_not_hold_is_told_to_resync(world, connect, last_event_id):
    socket = connect(world["agent"], hello=False)
    ready = socket.hello(last_event_id)
    assert socket.replayed == [{"type": "resync"}]
    assert ready["type"] == "ready" and ready["last_event_id"]


def test_a_client_that_says_nothing_first_starts_from_now(world, connect, client_for):
    socket = connect(world["agent"], hello=False)
    socket.send({"type": "ping"})  # not a hello: the stream starts from now
    assert socket.next()["type"] == "ready"
    assert socket.next() == {"type": "pong"}
    _reply(client_for(world["colleague"]), world["north_ticket"])
    socket.until(is_event("message.added", world["north_ticket"]))


def test_typing_reaches_colleagues_who_see_the_case_and_not_the_typist_or_strangers(
    world, connect, client_for
):
    agent, colleague = connect(world["agent"]), connect(world["colleague"])
    stranger = connect(world["stranger"])
    agent.send({"type": "typing", "ticket_id": world["north_ticket"]})
    typing = colleague.until(is_event("typing"))[-1]["event"]
    assert typing == {
        "event": "typing",
        "ticket_id": world["north_ticket"],
        "who": "agent",
        "user_id": world["agent"].id,
    }
    agent.send({"type": "typing", "ticket_id": world["south_ticket"]})  # not theirs
    refused = agent.until(lambda f: f["type"] == "error")[-1]
    assert refused["code"] == "not_found"
    _reply(client_for(world["stranger"]), world["south_ticket"])
    heard = stranger.until(is_event("message.added", world["south_ticket"]))
    assert not any(is_event("typing")(f) for f in heard)  # neither typing went to them
    _reply(client_for(world["colleague"]), world["north_ticket"])
    heard = agent.until(is_event("message.added", world["north_ticket"]))
    assert not any(is_event("typing")(f) for f in heard)  # their own typing is not echoed


def test_viewing_tells_colleagues_on_the_case_who_is_looking_and_nobody_else(world, connect, db):
    agent, colleague = connect(world["agent"]), connect(world["colleague"])
    stranger, supervisor = connect(world["stranger"]), connect(world["supervisor"])
    agent.send({"type": "viewing", "ticket_id": world["north_ticket"]})
    agent.send({"type": "viewing", "ticket_id": world["north_ticket"]})  # again at once: not told
    viewing = colleague.until(is_event("viewing"))[-1]["event"]
    assert viewing == {
        "event": "viewing",
        "ticket_id": world["north_ticket"],
        "user_id": world["agent"].id,
        "user_name": world["agent"].name,
    }
    assert supervisor.until(is_event("viewing", world["north_ticket"]))
    agent.send({"type": "viewing", "ticket_id": world["south_ticket"]})  # not a case of theirs
    refused = agent.until(lambda f: f["type"] == "error")[-1]
    assert refused["code"] == "not_found"
    stranger.send({"type": "viewing", "ticket_id": world["south_ticket"]})  # a case of theirs
    heard = supervisor.until(is_event("viewing", world["south_ticket"]))
    told_north = [f for f in heard if is_event("viewing", world["north_ticket"])(f)]
    assert told_north == []  # the repeated frame within VIEWING_EVERY was not told again
    colleague.send({"type": "viewing", "ticket_id": world["north_ticket"]})
    heard = agent.until(is_event("viewing", world["north_ticket"]))
    assert heard[-1]["event"]["user_id"] == world["colleague"].id  # not their own, echoed
    assert not any(is_event("viewing", world["south_ticket"])(f) for f in heard)
    stranger.send({"type": "ping"})
    assert not any(is_event("viewing")(f) for f in stranger.until(lambda f: f["type"] == "pong"))


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        '{"type": "shout"}',
        '{"type": "typing", "ticket_id": "7"}',
        '{"type": "viewing", "ticket_id": 0}',
        "[1]",
        "x" * 5000,
    ],
)
def test_a_frame_the_server_cannot_act_on_is_answered_with_an_error_not_a_close(
    world, connect, frame
):
    socket = connect(world["agent"])
    socket.connection.send(frame)
    error = socket.next()
    assert error["type"] == "error" and error["code"] == "bad_frame" and error["message"]
    socket.send({"type": "ping"})
    assert socket.next() == {"type": "pong"}


def test_a_new_group_is_heard_without_reconnecting(world, connect, client_for, api):
    agent = connect(world["agent"])
    _reply(client_for(world["stranger"]), world["south_ticket"])
    _reply(client_for(world["colleague"]), world["north_ticket"])
    heard = agent.until(is_event("message.added", world["north_ticket"]))
    assert world["south_ticket"] not in tickets_in(heard)
    groups = [world["north"].id, world["south"].id]
    changed = api.patch(f"/api/v1/users/{world['agent'].id}", json={"group_ids": groups})
    assert changed.status_code == 200, changed.text
    stranger = client_for(world["stranger"])
    for _ in range(100):  # the socket checks again after the change's commit, not before
        _reply(stranger, world["south_ticket"])
        frame = agent.next()
        if is_event("message.added", world["south_ticket"])(frame):
            break
    else:
        pytest.fail("the agent never heard of the new group's case")


# --- opening and closing ---------------------------------------------------------------------


def _own_origin(server: str) -> str:
    return f"http://{urlsplit(server).netloc}"


def test_a_page_of_another_site_is_refused_even_with_a_valid_sign_in(server, world, connect, db):
    with pytest.raises(Refused) as refused:
        connect(world["agent"], origin="https://evil.example.com")
    assert refused.value.status == 403
    assert refused.value.body["error"]["code"] == "origin_refused"
    for origin in ("null", "http://127.0.0.1.evil.example.com"):
        with pytest.raises(Refused):
            connect(world["agent"], origin=origin)
    connect(world["agent"], origin=_own_origin(server))  # kefu's own pages
    connect(world["agent"])  # no Origin: not a browser


def test_the_allowed_origins_are_compared_as_origins():
    allowed = frozenset({"https://kefu.example.cn", "http://localhost:5173"})
    assert origin_allowed("https://KEFU.example.cn", "kefu.internal:8000", allowed)
    assert origin_allowed("http://localhost:5173/", "kefu.internal:8000", allowed)
    assert origin_allowed("http://kefu.internal:8000", "kefu.internal:8000", frozenset())
    assert origin_allowed(None, "kefu.internal:8000", frozenset())
    for refused in (
        "http://kefu.example.cn",  # another scheme is another origin
        "https://kefu.example.cn:8443",
        "https://kefu.example.cn.evil.com",
        "http://localhost:5174",
        "null",
        "",
    ):
        assert not origin_allowed(refused, "kefu.internal:8000", allowed)


def test_opening_needs_a_staff_members_live_credential(server, world, db, integration):
    with pytest.raises(Refused) as nobody:
        open_socket(server)
    assert (nobody.value.status, nobody.value.body["error"]["code"]) == (401, "not_authenticated")
    with pytest.raises(Refused) as wrong:
        open_socket(server, token="kefu_not-a-token")
    assert (wrong.value.status, wrong.value.body["error"]["code"]) == (401, "signed_out")
    with pytest.raises(Refused) as machine:
        open_socket(server, token=factories.make_integration(db))
    assert (machine.value.status, machine.value.body["error"]["code"]) == (403, "staff_required")
    token = factories.make_token(db, world["agent"])
    socket = open_socket(server, protocol_token=token)
    assert socket.connection.subprotocol == "kefu"  # the token is never echoed back
    socket.hello()  # browsers cannot set headers on a WebSocket: the subprotocol carries it
    socket.close()


def test_a_token_in_the_url_is_refused_even_when_good(server, world, db):
    """No credential travels in a URL (proxies and access logs keep URLs): ?token= is refused
    with a word on what to do, however good the token."""
    token = factories.make_token(db, world["agent"])
    with pytest.raises(Refused) as in_url:
        open_socket(server, query_token=token)
    assert (in_url.value.status, in_url.value.body["error"]["code"]) == (400, "credential_in_url")
    with pytest.raises(Refused):  # not even beside a good header
        open_socket(server, query_token=token, token=token)


def _login(server: str, user) -> httpx.Client:
    browser = httpx.Client(base_url=server, timeout=30)
    answer = browser.post(
        "/api/v1/auth/login", json={"email": user.email, "password": factories.PASSWORD}
    )
    assert answer.status_code == 200, answer.text
    browser.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
    return browser


def test_signing_out_closes_the_browsers_socket(server, world, connect):
    browser, other_browser = _login(server, world["agent"]), _login(server, world["agent"])
    try:
        socket, other = (
            connect(world["agent"], cookie=b.cookies["kefu_session"], origin=_own_origin(server))
            for b in (browser, other_browser)
        )
        assert browser.post("/api/v1/auth/logout").status_code == 204
        assert socket.closed_with() == (4401, "signed_out")
        other.send({"type": "ping"})  # the other browser's session goes on
        assert other.until(lambda f: f["type"] == "pong")
    finally:
        browser.close()
        other_browser.close()


def test_a_session_idle_past_its_time_opens_no_socket(server, world, db):
    browser = _login(server, world["agent"])
    cookie = browser.cookies["kefu_session"]
    try:
        open_socket(server, cookie=cookie, origin=_own_origin(server)).close()
        then = utcnow() - timedelta(minutes=121)
        db.execute(update(LoginSession).values(last_used_at=then, created_at=then))
        db.commit()
        with pytest.raises(Refused) as idle:
            open_socket(server, cookie=cookie, origin=_own_origin(server))
        assert (idle.value.status, idle.value.body["error"]["code"]) == (401, "signed_out")
    finally:
        browser.close()


def test_an_admin_held_to_enrol_in_two_step_verification_gets_no_socket(
    settings, engine, db, tmp_path
):
    admin = factories.make_user(db, role="admin")
    guarded = settings.model_copy(update={"totp_required_for_admins": True, "data_dir": tmp_path,
                                          "outbox_relay_in_server": False})  # fmt: skip
    with contextmanager(serve)(create_app(guarded, engine=engine)) as url:
        browser = _login(url, admin)
        try:
            with pytest.raises(Refused) as held:
                open_socket(url, cookie=browser.cookies["kefu_session"], origin=_own_origin(url))
            code = held.value.body["error"]["code"]
            assert (held.value.status, code) == (403, "two_factor_enrolment_required")
        finally:
            browser.close()


def test_revoking_a_token_closes_its_socket(server, world, connect, client_for, db):
    secret = factories.make_token(db, world["agent"])
    socket = connect(world["agent"], token=secret)
    token_id = db.scalar(select(ApiToken.id).where(ApiToken.prefix == secret[:12]))
    owner = client_for(world["agent"])
    assert owner.delete(f"/api/v1/tokens/{token_id}").status_code == 204
    assert socket.closed_with() == (4401, "signed_out")


def test_deactivating_an_account_closes_its_sockets(world, connect, api):
    by_token = connect(world["agent"])
    assert api.delete(f"/api/v1/users/{world['agent'].id}").status_code == 204
    assert by_token.closed_with() == (4403, "deactivated")


def test_a_client_that_stops_reading_is_closed_to_reconnect_not_buffered_forever(
    world, connect, live_app, monkeypatch
):
    monkeypatch.setattr(agent_socket, "MAX_QUEUED", 100)
    lagging = connect(world["agent"])  # reads nothing from here on
    keeping_up = connect(world["colleague"])
    received: list[dict] = []

    def read_everything() -> None:
        while len(received) < 1500:
            received.append(keeping_up.next())

    reader = threading.Thread(target=read_everything)
    reader.start()
    noise = base64.b64encode(os.urandom(15_000)).decode()  # frames compression cannot shrink
    bulky = ev.PresenceChanged(None, user_id=world["colleague"].id, status=noise)
    for sent in range(10, 1501, 10):  # 20 MB: more than the lagging socket's buffers hold
        live_app.state.bus.publish([bulky] * 10)
        deadline = time.monotonic() + 60
        while len(received) < sent and reader.is_alive():  # paced by the client that keeps up
            assert time.monotonic() < deadline, "timed out"
            time.sleep(0.001)
    reader.join(timeout=60)
    assert len(received) == 1500 and all(is_event("presence")(f) for f in received)
    assert lagging.closed_with(timeout=60) == (1013, "too_slow")


def test_a_notice_reaches_only_its_owner_while_the_case_reaches_the_group(
    world, connect, live_app, db, client_for
):
    group = factories.make_group(db, "夜班组", calendar={"always_open": True})
    owner_user = factories.make_user(db, groups=[group])
    ticket = factories.make_ticket(db, group=group, channel="webchat", assignee_id=owner_user.id)
    ticket.created_at = utcnow() - timedelta(minutes=1)  # the first answer is overdue
    db.commit()
    owner = connect(owner_user)
    colleague = connect(factories.make_user(db, groups=[group]))
    sweep_until_done(live_app.state.session_factories.write, utcnow)
    _reply(client_for(owner_user), ticket.id)  # after everything the sweep told
    mine = owner.until(is_event("message.added", ticket.id))
    theirs = colleague.until(is_event("message.added", ticket.id))
    for heard in (mine, theirs):
        assert any(is_event("sla.breach", ticket.id)(f) for f in heard)
    notices = [f["event"] for f in mine if is_event("notice.created")(f)]
    assert notices and {n["user_id"] for n in notices} == {owner_user.id}
    assert not any(is_event("notice.created")(f) for f in theirs)


def test_while_the_database_is_away_new_sockets_wait_and_open_ones_live_on(settings, outage):  # noqa: F811
    direct = make_session_factory(outage.direct)()
    group = factories.make_group(direct)
    agent = factories.make_user(direct, groups=[group])
    ticket_id = factories.make_ticket(direct, group=group).id
    token = factories.make_token(direct, agent)
    direct.close()
    with _serve(settings, outage) as server:
        staying = open_socket(server, token=token)
        staying.hello()
        outage.cut()
        try:
            with pytest.raises(Refused) as refused:
                open_socket(server, token=token)
            assert refused.value.status == 503
            assert refused.value.body["error"]["code"] == "database_unavailable"
            staying.send({"type": "typing", "ticket_id": ticket_id})
            assert staying.next()["code"] == "database_unavailable"
            staying.send({"type": "ping"})
            assert staying.next() == {"type": "pong"}
        finally:
            outage.restore()
        open_socket(server, token=token).hello()
        staying.send({"type": "typing", "ticket_id": ticket_id})  # told again, no error
        staying.send({"type": "ping"})
        assert staying.next() == {"type": "pong"}
        staying.close()


def test_ending_one_session_from_the_list_closes_that_browsers_socket_only(server, world, connect):
    """ASVS V7.5.2: a session ended from another browser's list loses its socket at once."""
    here, there = _login(server, world["agent"]), _login(server, world["agent"])
    try:
        mine, theirs = (
            connect(world["agent"], cookie=b.cookies["kefu_session"], origin=_own_origin(server))
            for b in (here, there)
        )
        listed = here.get("/api/v1/auth/sessions").json()
        (other,) = [s for s in listed if not s["current"]]
        assert here.delete(f"/api/v1/auth/sessions/{other['id']}").status_code == 204
        assert theirs.closed_with() == (4401, "signed_out")
        mine.send({"type": "ping"})  # this browser's session goes on
        assert mine.until(lambda f: f["type"] == "pong")
    finally:
        here.close()
        there.close()


def test_an_admin_ending_someones_sessions_closes_their_sockets(server, world, connect, api):
    """ASVS V7.4.5: the person's browser sockets close; their token's socket stays."""
    browser = _login(server, world["agent"])
    try:
        socket = connect(
            world["agent"], cookie=browser.cookies["kefu_session"], origin=_own_origin(server)
        )
        by_token = connect(world["agent"])
        ended = api.delete(f"/api/v1/users/{world['agent'].id}/sessions")
        assert ended.status_code == 200 and ended.json() == {"sessions_ended": 1}
        assert socket.closed_with() == (4401, "signed_out")
        by_token.send({"type": "ping"})
        assert by_token.until(lambda f: f["type"] == "pong")
    finally:
        browser.close()


def test_someone_who_must_change_their_password_gets_no_socket(server, world, api):
    """ASVS V6.4.1: a session opened with a password an admin set only changes it."""
    agent = world["agent"]
    assert (
        api.patch(f"/api/v1/users/{agent.id}", json={"password": "given-by-admin-9"}).status_code
        == 200
    )
    browser = httpx.Client(base_url=server, timeout=30)
    try:
        signed_in = browser.post(
            "/api/v1/auth/login", json={"email": agent.email, "password": "given-by-admin-9"}
        )
        assert signed_in.status_code == 200
        with pytest.raises(Refused) as held:
            open_socket(server, cookie=browser.cookies["kefu_session"], origin=_own_origin(server))
        code = held.value.body["error"]["code"]
        assert (held.value.status, code) == (403, "password_change_required")
    finally:
        browser.close()
