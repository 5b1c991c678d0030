"""The relay against a real callback receiver: retries, dead letters and replay, order per case,
several relays at once, a relay whose lease ran out, and being woken.

The live server's relay is paused (``quiet_relays``): each test's relays are the only senders.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from kefu.db.base import utcnow
from kefu.db.engine import make_session_factory, writer_bind
from kefu.db.models import AuditEvent, Message, OutboxEntry
from kefu.db.session import session_scope
from kefu.domain import events as ev
from kefu.domain.delivery import DeliveryState, RetryPolicy
from kefu.jobs.registry import JobContext, periodic_jobs
from kefu.jobs.runner import run_worker
from kefu.realtime.bus import EventBus
from kefu.services.actors import SYSTEM
from kefu.services.cases import timeline
from kefu.services.outbound import receipts, replay
from tests import factories
from tests.callback_receiver import Answer
from tests.services.outbound.conftest import row_of

REDIS_URL = "redis://127.0.0.1:6379/0"
ROOT = Path(__file__).resolve().parents[3]  # where `tests` imports from


def _row(db, message_id: int) -> OutboxEntry:
    return row_of(db, message_id)


def _wait_for_state(db, receiver, message_id: int, state: str) -> OutboxEntry:
    receiver.wait_for(lambda: _row(db, message_id).state == state)
    return _row(db, message_id)


def _changes(bus: EventBus) -> list[str]:
    seen: list[str] = []
    bus.subscribe(
        lambda stored: seen.extend(
            s.event.state for s in stored if isinstance(s.event, ev.DeliveryChanged)
        )
    )
    return seen


# --- retries, dead letters, replay ------------------------------------------------------------


def test_an_adapter_that_fails_three_times_then_succeeds_delivers_once(
    db, receiver, shop, make_relay, start
):
    receiver.script = [Answer(503), Answer(500), Answer(429, {"error": "slow down"})]
    ticket = factories.make_api_conversation(db, shop)
    reply = factories.make_reply(db, ticket, "您好，包裹已补发，单号SF1234567")
    bus = EventBus()
    told = _changes(bus)

    start(make_relay(bus=bus))
    row = _wait_for_state(db, receiver, reply.id, "sent")

    assert len(receiver.posts) == 4
    assert {p.key for p in receiver.posts} == {row.idempotency_key}
    assert all(p.signature_ok for p in receiver.posts)
    assert [p.body["attempt"] for p in receiver.posts] == [1, 2, 3, 4]
    assert [s["text"] for s in receiver.shown] == ["您好，包裹已补发，单号SF1234567"]  # once
    assert (row.attempts, row.claimed_by, row.next_attempt_at) == (4, None, None)
    assert row.sent_at is not None and "429" in row.last_error
    assert db.get(Message, reply.id).delivery_state == "sent"
    assert told == ["failed", "sent"]  # failed → failed again is no news


def test_a_message_that_keeps_failing_goes_dead_and_an_admin_replays_it(
    db, engine, receiver, shop, make_relay, start
):
    receiver.script = [Answer(503)] * 3
    ticket = factories.make_api_conversation(db, shop)
    reply = factories.make_reply(db, ticket)
    start(
        make_relay(
            policy=RetryPolicy(
                first_delay=timedelta(milliseconds=10),
                max_delay=timedelta(milliseconds=20),
                max_attempts=3,
            )
        )
    )

    dead = _wait_for_state(db, receiver, reply.id, "dead")

    assert (dead.attempts, dead.next_attempt_at) == (3, None)
    assert dead.dead_at is not None and dead.last_error.startswith("HTTP 503")
    assert db.get(Message, reply.id).delivery_state == "dead"
    assert receiver.shown == []
    trail = db.scalar(select(AuditEvent).where(AuditEvent.action == "outbox.dead"))
    assert (trail.ticket_id, trail.object_id, trail.after["attempts"]) == (ticket.id, dead.id, 3)
    lines = [e["summary"] for e in timeline.of_ticket(db, ticket) if e["action"] == "outbox.dead"]
    assert lines and "死信" in lines[0]

    with session_scope(engine) as writer:  # a writer, as the API's and the CLI's are
        replay.do_replay(writer, SYSTEM, dead.id)  # its commit wakes the running relay
    row = _wait_for_state(db, receiver, reply.id, "sent")

    assert row.attempts == 1  # the policy's attempts started over
    assert len(receiver.posts) == 4 and len(receiver.shown) == 1
    assert receiver.shown[0]["idempotency_key"] == dead.idempotency_key  # the same message
    replayed = db.scalar(select(AuditEvent).where(AuditEvent.action == "outbox.replay"))
    assert replayed.before["state"] == "dead" and replayed.after["state"] == "queued"


def test_a_refusal_is_dead_at_once_and_only_dead_or_failed_rows_replay(
    db, receiver, shop, make_relay
):
    receiver.script = [Answer(400, {"error": "unknown conversation"})]
    ticket = factories.make_api_conversation(db, shop)
    reply = factories.make_reply(db, ticket)
    relay = make_relay()

    report = relay.run_until_idle()

    assert (report.claimed, report.dead) == (1, 1)
    row = _row(db, reply.id)
    assert (row.state, row.attempts) == ("dead", 1)
    assert "unknown conversation" in row.last_error
    replay.do_replay(db, SYSTEM, row.id)
    db.commit()
    relay.run_until_idle()
    assert _row(db, reply.id).state == "sent"
    from kefu.errors import Conflict

    with pytest.raises(Conflict) as refused:
        replay.do_replay(db, SYSTEM, row.id)
    assert refused.value.code == "not_retryable"


# --- order, several relays, leases ------------------------------------------------------------


def test_replies_to_one_case_arrive_in_order_even_when_the_first_has_to_be_retried(
    db, receiver, shop, make_relay
):
    receiver.script = [Answer(503)]
    ticket = factories.make_api_conversation(db, shop)
    replies = [factories.make_reply(db, ticket, f"第{i}条") for i in range(1, 4)]
    relay = make_relay()

    first = relay.run_once()  # the first fails: the two behind it go back untried
    assert (first.claimed, first.failed, first.released, first.sent) == (3, 1, 2, 0)
    assert [_row(db, r.id).attempts for r in replies] == [1, 0, 0]
    receiver.wait_for(lambda: _row(db, replies[0].id).next_attempt_at <= utcnow())
    relay.run_until_idle()

    assert [p.body["text"] for p in receiver.posts] == ["第1条", "第1条", "第2条", "第3条"]
    assert [s["text"] for s in receiver.shown] == ["第1条", "第2条", "第3条"]
    assert [_row(db, r.id).attempts for r in replies] == [2, 1, 1]


def test_several_relays_at_once_never_send_one_message_twice(
    db, engine, receiver, shop, make_relay, start
):
    """On PostgreSQL the relays' claims race for the rows (FOR UPDATE SKIP LOCKED and leases);
    on SQLite its single writer orders them. Either way: each message once, each case in order."""
    receiver.script = [Answer(200, delay=0.002)] * 400
    cases = [factories.make_api_conversation(db, shop) for _ in range(20)]
    sent = [factories.make_reply(db, cases[i % 20], f"回复{i}") for i in range(80)]

    # Small claims (three cases, two replies each), so the relays claim side by side all along.
    services = [start(make_relay(name=f"relay-{n}", batch=3, chain=2)) for n in range(4)]

    def more_replies() -> None:  # queued while the relays are at work
        writer = make_session_factory(writer_bind(engine))()
        try:
            for i in range(80, 120):
                sent.append(factories.make_reply(writer, cases[i % 20], f"回复{i}"))
        finally:
            writer.close()

    adding = threading.Thread(target=more_replies)
    adding.start()
    adding.join()
    receiver.wait_for(lambda: len(receiver.posts) >= 120, seconds=120)
    receiver.wait_for(lambda: all(_row(db, m.id).state == "sent" for m in sent), seconds=120)

    keys = receiver.keys()
    assert len(keys) == len(set(keys)) == 120  # not one sent twice
    assert len(receiver.shown) == 120
    by_case: dict[int, list[int]] = {}
    for post in receiver.posts:
        by_case.setdefault(post.body["ticket_id"], []).append(post.body["message_id"])
    assert all(ids == sorted(ids) for ids in by_case.values())
    assert {_row(db, m.id).attempts for m in sent} == {1}
    receiver.wait_for(lambda: sum(s.totals.sent for s in services) == 120)  # rounds finish
    assert sum(1 for s in services if s.totals.sent) >= 2  # they did share the work


def test_a_relay_whose_lease_ran_out_marks_nothing_the_next_one_did(db, receiver, shop, make_relay):
    ticket = factories.make_api_conversation(db, shop)
    reply = factories.make_reply(db, ticket)
    slow = make_relay(name="slow", lease=timedelta(seconds=30))
    # Another relay, five minutes later by its clock: the slow one's lease has run out.
    later = make_relay(name="later", clock=lambda: utcnow() + timedelta(minutes=5))

    [[claimed]] = slow.claim()
    assert (_row(db, reply.id).claimed_by, claimed.attempt) == ("slow", 1)
    assert later.run_until_idle().sent == 1  # took it over and sent it (attempt 2)
    receiver.script = [Answer(503)]
    late = slow.send(claimed.delivery)  # the slow one's send, failing after all
    assert slow.complete(claimed, late) == "lost"

    row = _row(db, reply.id)
    assert (row.state, row.attempts, row.last_error) == ("sent", 2, None)
    assert len(receiver.shown) == 1


def test_a_relay_only_takes_the_channels_it_has_adapters_for(db, make_relay):
    ticket = factories.make_ticket(db, channel="webchat")
    reply = factories.make_reply(db, ticket)
    assert make_relay().run_until_idle().claimed == 0
    assert _row(db, reply.id).state == "queued"


# --- receipts -------------------------------------------------------------------------------


def test_receipts_only_move_a_message_forward(db, shop, receiver, make_relay):
    ticket = factories.make_api_conversation(db, shop)
    reply = factories.make_reply(db, ticket)
    relay = make_relay()
    [[claimed]] = relay.claim()
    key = claimed.delivery.idempotency_key

    # The receiver says "delivered" before the relay has marked its send (its answer was slow).
    receipts.record_receipt(db, idempotency_key=key, state=DeliveryState.DELIVERED)
    db.commit()
    assert relay.complete(claimed, relay.send(claimed.delivery)) == "sent"
    row = _row(db, reply.id)
    assert (row.state, row.claimed_by) == ("delivered", None)  # not back to sent

    receipts.record_receipt(db, message_id=reply.id, state=DeliveryState.READ)
    receipts.record_receipt(db, outbox_id=row.id, state=DeliveryState.DELIVERED)  # late
    db.commit()
    row = _row(db, reply.id)
    assert (row.state, db.get(Message, reply.id).delivery_state) == ("read", "read")
    assert None not in (row.sent_at, row.delivered_at, row.read_at)


def test_a_receipt_does_not_revive_a_dead_message(db, shop, receiver, make_relay):
    receiver.script = [Answer(410)]
    ticket = factories.make_api_conversation(db, shop)
    reply = factories.make_reply(db, ticket)
    make_relay().run_until_idle()
    receipts.record_receipt(db, message_id=reply.id, state=DeliveryState.READ)
    db.commit()
    assert _row(db, reply.id).state == "dead"


# --- waking ---------------------------------------------------------------------------------


def test_a_commit_in_this_process_wakes_a_sleeping_relay(db, receiver, shop, make_relay, start):
    service = start(make_relay())  # it looks once, finds nothing, and would sleep 10 minutes
    ticket = factories.make_api_conversation(db, shop)
    reply = factories.make_reply(db, ticket)
    _wait_for_state(db, receiver, reply.id, "sent")
    assert service.running


_REPLY_ELSEWHERE = """
import sys
from kefu.db.engine import make_engine, make_session_factory, writer_bind
from kefu.services.outbound import wake
from tests import factories
from kefu.db.models import Ticket

url, ticket_id, redis_url = sys.argv[1], int(sys.argv[2]), sys.argv[3] or None
engine = make_engine(url)
info = {wake.DOORBELL: wake.Doorbell(redis_url)}
session = make_session_factory(writer_bind(engine), info=info)()
factories.make_reply(session, session.get(Ticket, ticket_id), "另一个进程写的回复")
session.close()
engine.dispose()
"""

WAKE_PATHS = ["redis"] + (
    ["postgres"]
    if (os.environ.get("KEFU_TEST_DATABASE_URL") or "").startswith("postgresql")
    else []
)


@pytest.mark.parametrize("path", WAKE_PATHS)
def test_a_commit_in_another_process_wakes_a_sleeping_relay(
    db, settings, receiver, shop, make_relay, start, path
):
    """Through Redis pub/sub (both databases) and PostgreSQL NOTIFY (PostgreSQL)."""
    url = settings.resolved_database_url
    start(
        make_relay(),
        postgres_url=url if path == "postgres" else None,
        redis_url=REDIS_URL if path == "redis" else None,
    )
    ticket = factories.make_api_conversation(db, shop)
    subprocess.run(
        [sys.executable, "-c", _REPLY_ELSEWHERE, url, str(ticket.id), REDIS_URL if path == "redis" else ""],
        check=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    receiver.wait_for(lambda: len(receiver.shown) == 1)
    assert receiver.shown[0]["text"] == "另一个进程写的回复"


def test_the_outbox_sweep_job_delivers_what_no_relay_took(
    db, settings, engine, receiver, shop, quiet_relays
):
    ticket = factories.make_api_conversation(db, shop)
    reply = factories.make_reply(db, ticket)
    [job] = [j for j in periodic_jobs(settings) if j.name == "outbox"]
    context = JobContext(make_session_factory(writer_bind(engine)), utcnow, settings)

    done = run_worker([job], context, threading.Event(), once=True)

    assert done["outbox"]["sent"] == 1
    assert _row(db, reply.id).state == "sent"
    assert len(receiver.shown) == 1


def test_a_commit_with_redis_down_still_wakes_the_relays_of_its_process(
    db, receiver, shop, make_relay, start
):
    from kefu.services.outbound import wake

    start(make_relay())
    doorbell = wake.Doorbell("redis://127.0.0.1:1/0")  # nothing listens there
    writer = make_session_factory(writer_bind(db.get_bind()), info={wake.DOORBELL: doorbell})()
    try:
        ticket = factories.make_api_conversation(writer, shop)
        factories.make_reply(writer, ticket, "Redis 不在也要送达")
        assert doorbell._redis_down_until > 0  # left out for a while, not tried on every reply
    finally:
        writer.close()
    receiver.wait_for(lambda: len(receiver.shown) == 1)
