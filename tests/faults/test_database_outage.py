"""The database stops (``pg_ctl stop``) under a running ``kefu serve`` and ``kefu worker``: while
it is away every request answers 503 with the JSON error (never 500, never a hang) and /readyz
says 503; once it is back, everything that was answered 2xx is stored and processed exactly once,
the outbox delivery it interrupted is finished (once as the receiver sees it), the SLA breaches
that fell due meanwhile are recorded once each, and the worker is the same process throughout.

E-mail intake has a module of its own (tests/faults/test_mail_outage.py): it needs a Dovecot.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kefu.db.engine import make_session_factory
from kefu.db.models import Integration, OutboxEntry
from tests import factories, visitors, wechat_peer
from tests.callback_receiver import Answer, CallbackReceiver
from tests.faults import traffic
from tests.faults.servers import Kefu, Postgres, kefu_environment, outage_seconds, serve_and_worker

pytestmark = pytest.mark.faults


@pytest.fixture(scope="module")
def processes(
    postgres: Postgres, fault_dir: Path, private_engine: object
) -> Iterator[tuple[Kefu, Kefu]]:
    env = kefu_environment(
        database_url=postgres.url, data_dir=fault_dir, redis_url=None, **traffic.FAST
    )
    server, worker = serve_and_worker(env, fault_dir, *traffic.WORKER_JOBS)
    yield server, worker
    worker.kill()
    server.kill()


@dataclass
class World:
    """What the requests need: the staff's and the channels' credentials."""

    staff_token: str
    integration_token: str
    hook_secret: str
    wechat_key: str
    chat_key: str
    callback: Integration


@pytest.fixture(scope="module")
def world(private_engine: Engine, receiver: CallbackReceiver) -> World:
    with make_session_factory(private_engine)() as db:
        made = World(
            staff_token=factories.make_token(db, factories.make_user(db, role="admin")),
            integration_token=factories.make_integration(db),
            hook_secret=traffic.webhook_source(db, "sms-gw"),
            wechat_key=wechat_peer.make_account(db, traffic.SECRET_KEY).key,
            chat_key=factories.make_webchat_channel(db, secret_key=traffic.SECRET_KEY).key,
            callback=factories.make_callback_integration(
                db, receiver.url, secret_key=traffic.SECRET_KEY
            ),
        )
    receiver.secret = factories.callback_secret(made.callback, secret_key=traffic.SECRET_KEY)
    return made


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_a_database_outage_refuses_with_503_and_loses_nothing_acknowledged(
    mode: str,
    postgres: Postgres,
    processes: tuple[Kefu, Kefu],
    world: World,
    fault_db: Session,
    receiver: CallbackReceiver,
) -> None:
    """``pg_ctl stop -m fast`` (sessions ended, a clean shutdown) and ``-m immediate`` (the
    server killed; it recovers at the next start)."""
    server, worker = processes
    db = fault_db
    worker_pid = worker.pid
    staff = httpx.Client(
        base_url=server.url,
        timeout=traffic.TIMEOUT,
        headers={"Authorization": f"Bearer {world.staff_token}"},
    )
    anon = httpx.Client(base_url=server.url, timeout=traffic.TIMEOUT)
    conversations = [factories.make_api_conversation(db, world.callback) for _ in range(2)]
    visitor = visitors.start(anon, world.chat_key)
    widget = visitors.Widget(server.url, world.chat_key, visitor["visitor_token"])
    widget.hello()
    shown, posts = len(receiver.shown), len(receiver.posts)

    def every_channel(when: str) -> list[traffic.Sent]:
        phase = f"{mode}-{when}"
        return [
            traffic.api_inbound(anon, world.integration_token, f"api-{phase}"),
            traffic.webhook(anon, "sms-gw", world.hook_secret, f"webhook-{phase}"),
            traffic.wechat(anon, world.wechat_key, f"wechat-{phase}"),
            traffic.webchat(widget, f"webchat-{phase}"),
            traffic.agent_reply(staff, conversations[0].id, f"reply-{phase}"),
        ]

    before = every_channel("before")
    assert all(s.acknowledged for s in before), [(s.tag, s.status, s.body) for s in before]
    receiver.wait_for(lambda: len(receiver.shown) == shown + 1, 30)

    # The worker is sending a reply (the receiver takes half a second to answer) when the database
    # stops: it cannot mark it sent, and must send it again (once, as the receiver sees it).
    receiver.script = [Answer(delay=0.5)]
    in_flight = traffic.agent_reply(staff, conversations[1].id, f"reply-{mode}-in-flight")
    assert in_flight.acknowledged, in_flight.body
    already_due = traffic.due_cases(db, 3, due_in=-5)
    due_meanwhile = traffic.due_cases(db, 3, due_in=outage_seconds() / 2 + 1)
    receiver.wait_for(lambda: len(receiver.posts) == posts + 2, 30)
    postgres.stop(mode)
    stopped = time.monotonic()

    ready = anon.get("/readyz")
    assert ready.status_code == 503 and ready.json()["database"] != "ok", ready.text
    during = every_channel("during")
    for sent in during:
        assert traffic.refused_as_unavailable(sent), (sent.tag, sent.status, sent.body)
    assert anon.get("/readyz").status_code == 503
    time.sleep(max(0.0, outage_seconds() - (time.monotonic() - stopped)))
    postgres.start()

    traffic.wait_for(lambda: anon.get("/readyz").status_code == 200, 30, "/readyz back to 200")
    assert server.alive() and worker.alive() and worker.pid == worker_pid, worker.tail()
    # The widget's socket lived through it (or its visitor opens a new one, as the widget does).
    after = every_channel("after")
    assert all(s.acknowledged for s in after), [(s.tag, s.status, s.body) for s in after]

    for sent in before + after + [in_flight]:
        assert traffic.count_stored(db, sent.tag) == 1, sent.tag
    for sent in during:
        assert traffic.count_stored(db, sent.tag) == 0, sent.tag
    # Processed: every customer message analysed (in the request, or by the worker's retry).
    traffic.wait_for(
        lambda: all(
            m.analysis is not None
            for s in before + after if s.channel != "reply"
            for m in traffic.stored(db, s.tag)
        ),
        30, "every stored customer message analysed",
    )  # fmt: skip

    replies = [s for s in before + after + [in_flight] if s.channel == "reply"]
    reply_ids = [s.body["id"] for s in replies]

    def delivered() -> bool:
        db.rollback()
        states = db.scalars(
            select(OutboxEntry.state).where(OutboxEntry.message_id.in_(reply_ids))
        ).all()
        return len(states) == len(reply_ids) and all(s in ("sent", "delivered") for s in states)

    traffic.wait_for(delivered, 30, "every acknowledged reply delivered")
    keys = set(
        db.scalars(select(OutboxEntry.idempotency_key).where(OutboxEntry.message_id.in_(reply_ids)))
    )
    assert len(keys) == len(replies)  # one outbox row a reply
    assert {b["idempotency_key"] for b in receiver.shown[shown:]} == keys
    assert f"reply-{mode}-during" not in str([p.body for p in receiver.posts])

    expected = {ticket_id: 1 for ticket_id in already_due + due_meanwhile}
    traffic.wait_for(
        lambda: traffic.first_response_breaches(db, list(expected)) == expected,
        30,
        "every breach once",
    )
    time.sleep(1.0)  # a few more sweeps: still once
    assert traffic.first_response_breaches(db, list(expected)) == expected
    assert worker.alive() and worker.pid == worker_pid
    widget.close()
