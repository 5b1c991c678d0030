"""Redis stops (killed: its events and counts are gone) and comes back empty under a running
``kefu serve``: the public endpoints' rate limits fail closed meanwhile (sign-in, webhooks, the
widget's session: 429), signed-in staff keep working (their replies, their password change), the
customer's message of the outage is stored, and a staff socket that reconnects with its
``last_event_id`` is told to resync (the stream it resumed from is gone) — REST has everything.
A socket that stayed open is not left silently missing what was published meanwhile: a staff
socket gets ``{"type": "resync"}``, a visitor's widget is closed with 1013 (it reconnects and
catches up from its last message). The worker, not woken through Redis, still delivers a reply
written meanwhile (it polls)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session
from websockets.exceptions import ConnectionClosed

from tests import factories, visitors
from tests.callback_receiver import CallbackReceiver
from tests.faults import traffic
from tests.faults.servers import (
    Kefu,
    Postgres,
    Redis,
    kefu_environment,
    outage_seconds,
    serve_and_worker,
)
from tests.realtime.sockets import is_event, open_socket

pytestmark = pytest.mark.faults


@pytest.fixture(scope="module")
def processes(
    postgres: Postgres, redis_server: Redis, fault_dir: Path
) -> Iterator[tuple[Kefu, Kefu]]:
    env = kefu_environment(
        database_url=postgres.url, data_dir=fault_dir, redis_url=redis_server.url, **traffic.FAST
    )
    server, worker = serve_and_worker(env, fault_dir, *traffic.WORKER_JOBS)
    yield server, worker
    worker.kill()
    server.kill()


def test_without_redis_anonymous_limits_fail_closed_staff_work_and_sockets_resync(
    processes: tuple[Kefu, Kefu],
    redis_server: Redis,
    fault_db: Session,
    receiver: CallbackReceiver,
) -> None:
    server, worker = processes
    db = fault_db
    callback = factories.make_callback_integration(db, receiver.url, secret_key=traffic.SECRET_KEY)
    receiver.secret = factories.callback_secret(callback, secret_key=traffic.SECRET_KEY)
    conversation = factories.make_api_conversation(db, callback)
    admin = factories.make_user(db, role="admin", email="boss@example.cn")
    token = factories.make_token(db, admin)
    integration = factories.make_integration(db)
    hook_secret = traffic.webhook_source(db, "sms-gw")
    chat = factories.make_webchat_channel(db, secret_key=traffic.SECRET_KEY)
    anon = httpx.Client(base_url=server.url, timeout=traffic.TIMEOUT)
    staff = httpx.Client(
        base_url=server.url, timeout=traffic.TIMEOUT, headers={"Authorization": f"Bearer {token}"}
    )
    login = {"email": "boss@example.cn", "password": factories.PASSWORD}

    def anonymous_statuses(phase: str) -> list[int]:
        return [
            anon.post("/api/v1/auth/login", json=login).status_code,
            traffic.webhook(anon, "sms-gw", hook_secret, f"webhook-{phase}").status,
            anon.post(f"/chat/api/{chat.key}/session", json={"visitor_token": None}).status_code,
        ]

    assert anonymous_statuses("before") == [200, 200, 200]
    first = traffic.api_inbound(anon, integration, "api-before", sender="buyer")
    ticket_id = first.body["ticket_id"]
    socket = open_socket(server.url, token=token)
    socket.hello(None)
    traffic.api_inbound(anon, integration, "api-live", sender="buyer")
    [*_, live] = socket.until(is_event("message.added", ticket_id))
    visitor = visitors.start(anon, chat.key)
    widget = visitors.Widget(server.url, chat.key, visitor["visitor_token"])
    widget.hello()

    redis_server.stop()
    stopped = time.monotonic()
    assert anon.get("/readyz").json()["redis"] != "ok"
    assert anonymous_statuses("during") == [429, 429, 429]  # closed: refused, not let through
    during = traffic.api_inbound(anon, integration, "api-during", sender="buyer")
    assert during.acknowledged, during.body
    reply = traffic.agent_reply(staff, ticket_id, "reply-during")
    assert reply.acknowledged, reply.body
    # The worker's relay is not woken through Redis now: it finds the reply by polling.
    outgoing = traffic.agent_reply(staff, conversation.id, "callback-during")
    assert outgoing.acknowledged, outgoing.body
    receiver.wait_for(lambda: len(receiver.shown) == 1, 30)
    changed = staff.post(
        "/api/v1/auth/password",
        json={"current_password": factories.PASSWORD, "new_password": "another-horse-battery"},
    )
    assert changed.status_code in (200, 204), changed.text  # open for staff
    login["password"] = "another-horse-battery"  # noqa: S105
    time.sleep(max(0.0, outage_seconds() - (time.monotonic() - stopped)))
    redis_server.start()

    traffic.wait_for(lambda: anon.get("/readyz").status_code == 200, 30, "/readyz back")
    traffic.wait_for(
        lambda: anonymous_statuses("after") == [200, 200, 200], 15, "public endpoints back"
    )
    after = traffic.api_inbound(anon, integration, "api-after", sender="buyer")
    assert after.acknowledged, after.body
    told = socket.until(
        lambda f: f.get("event", {}).get("message_id") == after.body["message_id"],
        timeout=traffic.TIMEOUT,
    )
    missed = during.body["message_id"]  # the customer's message of the outage
    assert {"type": "resync"} in told or any(
        f.get("event", {}).get("message_id") == missed for f in told
    ), told
    with pytest.raises(ConnectionClosed) as closed:
        widget.until(lambda f: False, timeout=traffic.TIMEOUT)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
    socket.close()
    again = open_socket(server.url, token=token)
    again.hello(live["id"])
    # The stream the socket resumes from is gone: it is told to reload from REST.
    assert {"type": "resync"} in again.replayed, again.replayed
    traffic.api_inbound(anon, integration, "api-again", sender="buyer")
    again.until(is_event("message.added", ticket_id))
    again.close()
    listed = staff.get(f"/api/v1/tickets/{ticket_id}")
    assert listed.status_code == 200, listed.text
    texts = " ".join(m["body_text"] for m in listed.json()["messages"])
    for tag in ("api-before", "api-live", "api-during", "reply-during", "api-after", "api-again"):
        assert f"[{tag}]" in texts, tag
        assert traffic.count_stored(db, tag) == 1, tag
    assert "[callback-during]" in receiver.shown[0]["text"], receiver.shown
    assert worker.alive()
