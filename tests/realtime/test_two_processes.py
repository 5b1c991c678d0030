"""Acceptance 2 of #18: two kefu processes (uvicorn subprocesses) on one PostgreSQL database,
sharing events through Redis. A message posted to one reaches an agent's socket on the other;
an agent of another group, connected to either, hears nothing of it. A client resumes on either
process; a gap the stream no longer holds is told to resync; signing out through one process
closes the socket on the other. (PostgreSQL pass only: tests/realtime/conftest.py.)"""

from __future__ import annotations

import os
import socket as sockets
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import redis

from kefu.db.base import utcnow
from kefu.domain import events as ev
from kefu.realtime.log import RedisLog
from tests import factories
from tests.api.test_inbound import _payload
from tests.realtime.sockets import Refused, StaffSocket, is_event, open_socket, tickets_in

REDIS_URL = "redis://127.0.0.1:6379/15"
ALLOWED_ORIGIN = "https://kefu.example.cn"
RETENTION = 100  # the least a stream keeps: a short gap is already too old


def _free_port() -> int:
    with sockets.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "kefu.app:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 180  # each loads the analysis models first
    while time.monotonic() < deadline:
        assert process.poll() is None, f"kefu at {url} exited:\n{log.read_text()}"
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"kefu at {url} did not start:\n{log.read_text()}")


@pytest.fixture(scope="module")
def stream() -> Iterator[str]:
    key = f"kefu:test:two-processes:{uuid.uuid4().hex}"
    yield key
    redis.Redis.from_url(REDIS_URL).delete(key)


@pytest.fixture(scope="module")
def kefus(settings, engine, stream, tmp_path_factory) -> Iterator[tuple[str, str]]:
    """Two kefu servers on the test database and one Redis Stream; their base URLs."""
    data = tmp_path_factory.mktemp("two-kefus")
    env = {
        **os.environ,
        "KEFU_ENV": "test",
        "KEFU_DATABASE_URL": settings.resolved_database_url,
        "KEFU_DATA_DIR": str(data),
        "KEFU_REDIS_URL": REDIS_URL,
        "KEFU_EVENT_STREAM": stream,
        "KEFU_EVENT_RETENTION": str(RETENTION),
        "KEFU_ALLOWED_ORIGINS": ALLOWED_ORIGIN,
        "KEFU_SLA_SWEEP_IN_SERVER": "false",
        "KEFU_LOG_LEVEL": "WARNING",
        "KEFU_WORKER_THREADS": "4",
    }
    ports = [_free_port(), _free_port()]
    logs = [data / f"kefu-{port}.log" for port in ports]
    processes = [_start(env, port, log) for port, log in zip(ports, logs, strict=True)]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url, process, log in zip(urls, processes, logs, strict=True):
            _wait_until_up(url, process, log)
        yield urls[0], urls[1]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def opened() -> Iterator[list[StaffSocket]]:
    made: list[StaffSocket] = []
    yield made
    for socket in made:
        socket.close()


@pytest.fixture
def world(db):
    north, south = factories.make_group(db, "华北组"), factories.make_group(db, "华南组")
    return {
        "north": north,
        "agent": factories.make_user(db, groups=[north]),
        "colleague": factories.make_user(db, groups=[north]),
        "stranger": factories.make_user(db, groups=[south]),
        "south_ticket": factories.make_ticket(db, group=south).id,
    }


def _client(db, url: str, user) -> httpx.Client:
    token = factories.make_token(db, user)
    return httpx.Client(base_url=url, timeout=30, headers={"Authorization": f"Bearer {token}"})


def _socket(db, opened, url: str, user, **options) -> StaffSocket:
    if "cookie" not in options:
        options["token"] = factories.make_token(db, user)
    made = open_socket(url, **options)
    opened.append(made)
    return made


def _reply(client: httpx.Client, ticket_id: int, text: str) -> int:
    answer = client.post(f"/api/v1/tickets/{ticket_id}/messages", json={"text": text})
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def test_a_message_posted_to_one_process_reaches_an_agent_on_the_other_and_no_stranger(
    kefus, db, world, opened
):
    one, two = kefus
    agent = _socket(db, opened, two, world["agent"])
    strangers = [_socket(db, opened, url, world["stranger"]) for url in (one, two)]
    for socket in (agent, *strangers):
        socket.hello()

    customer = factories.make_customer(db, identities=[("api", "two-a")])
    ticket_id = factories.make_ticket(db, customer=customer, group=world["north"], channel="api").id
    with httpx.Client(base_url=one, timeout=30, headers={
        "Authorization": f"Bearer {factories.make_integration(db)}"
    }) as integration, _client(db, one, world["colleague"]) as colleague:  # fmt: skip
        posted = integration.post(
            "/api/v1/inbound", json=_payload("two-1", "two-a", "我的快递一周了还没到！")
        )
        assert posted.status_code == 201 and posted.json()["ticket_id"] == ticket_id, posted.text
        heard = agent.until(is_event("message.added", ticket_id))
        assert heard[-1]["event"]["message_id"] == posted.json()["message_id"]
        assert heard[-1]["event"]["direction"] == "inbound"
        reply = _reply(colleague, ticket_id, "您好，马上为您查询物流")
        heard = agent.until(is_event("message.added", ticket_id))
        assert heard[-1]["event"]["message_id"] == reply

    with _client(db, two, world["stranger"]) as stranger:
        _reply(stranger, world["south_ticket"], "您好，这边是华南组")  # a later event both hear
    for socket in strangers:
        heard = socket.until(is_event("message.added", world["south_ticket"]))
        assert tickets_in(heard) == {world["south_ticket"]}  # nothing about the north case
    # Both processes sent one stream in one order: the same ids, whichever socket.
    agent_ids = [f["id"] for f in agent.seen if f["type"] == "event"]
    assert agent_ids == sorted(agent_ids, key=lambda i: tuple(map(int, i.split("-"))))


def test_typing_on_one_process_reaches_a_colleague_on_the_other(kefus, db, world, opened):
    one, two = kefus
    ticket_id = factories.make_ticket(db, group=world["north"]).id
    typist, colleague = (_socket(db, opened, one, world["agent"]), _socket(db, opened, two, world["colleague"]))  # fmt: skip
    typist.hello()
    colleague.hello()
    typist.send({"type": "typing", "ticket_id": ticket_id})
    typing = colleague.until(is_event("typing", ticket_id))[-1]["event"]
    assert (typing["who"], typing["user_id"]) == ("agent", world["agent"].id)


def test_a_client_resumes_on_either_process_and_a_trimmed_gap_is_told_to_resync(
    kefus, db, world, opened, stream
):
    one, two = kefus
    ticket_id = factories.make_ticket(db, group=world["north"]).id
    first = _socket(db, opened, one, world["agent"])
    resume_at = first.hello()["last_event_id"]
    first.close()
    with _client(db, two, world["colleague"]) as colleague:
        missed = [_reply(colleague, ticket_id, f"第{i}条") for i in range(2)]

    back = _socket(db, opened, two, world["agent"])  # the other process this time
    ready = back.hello(resume_at)
    assert [
        f["event"]["message_id"] for f in back.replayed if is_event("message.added")(f)
    ] == missed
    last_seen = ready["last_event_id"]
    back.close()

    writer = RedisLog(REDIS_URL, key=stream, retention=RETENTION)  # another process, busy
    for start in range(0, 3 * RETENTION, 50):
        writer.append([ev.PresenceChanged(None, user_id=i, status="online") for i in range(start, start + 50)])  # fmt: skip
    late = _socket(db, opened, one, world["agent"])
    late.hello(last_seen)
    assert late.replayed == [{"type": "resync"}]


def test_signing_out_on_one_process_closes_the_socket_on_the_other(kefus, db, world, opened):
    one, two = kefus
    with httpx.Client(base_url=one, timeout=30) as browser:
        login = browser.post(
            "/api/v1/auth/login",
            json={"email": world["agent"].email, "password": factories.PASSWORD},
        )
        assert login.status_code == 200, login.text
        cookie = browser.cookies["kefu_session"]
        with pytest.raises(Refused) as refused:
            _socket(db, opened, two, world["agent"], cookie=cookie, origin="https://evil.example")
        assert refused.value.body["error"]["code"] == "origin_refused"
        socket = _socket(db, opened, two, world["agent"], cookie=cookie, origin=ALLOWED_ORIGIN)
        socket.hello()
        signed_out = browser.post(
            "/api/v1/auth/logout", headers={"X-CSRF-Token": login.json()["csrf_token"]}
        )
        assert signed_out.status_code == 204
        assert socket.closed_with() == (4401, "signed_out")


def test_what_kefu_worker_commits_reaches_the_servers_sockets(kefus, db, opened, settings, stream):
    one, _ = kefus
    group = factories.make_group(db, "夜班组", calendar={"always_open": True})
    agent = _socket(db, opened, one, factories.make_user(db, groups=[group]))
    agent.hello()
    ticket = factories.make_ticket(db, group=group, channel="webchat")
    ticket.created_at = utcnow() - timedelta(minutes=1)  # its first answer is overdue
    db.commit()
    env = {**os.environ, "KEFU_DATABASE_URL": settings.resolved_database_url, "KEFU_ENV": "test",
           "KEFU_REDIS_URL": REDIS_URL, "KEFU_EVENT_STREAM": stream, "KEFU_LOG_LEVEL": "WARNING"}  # fmt: skip
    swept = subprocess.run(
        [sys.executable, "-c", "from kefu.cli import app; app()", "worker", "--once", "--job", "sla"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert swept.returncode == 0, swept.stderr
    heard = agent.until(is_event("sla.breach", ticket.id))
    assert any(is_event("sla.warn", ticket.id)(f) for f in heard)
