"""A relay killed after sending and before marking: the message goes again, and the receiver,
which dedupes on the Idempotency-Key, still shows it once (at least once from kefu, exactly once
as the customer sees it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from kefu.db.models import Message
from tests import factories
from tests.services.outbound.conftest import row_of

# `kefu worker` as it runs in production: the relay thread and the outbox sweep.
WORKER = "from kefu.cli import app; app(['worker', '--job', 'outbox'])"
LEASE_SECONDS = 3


def test_a_relay_killed_between_send_and_mark_leaves_the_customer_one_message(
    db, settings, receiver, shop, make_relay, start
):
    ticket = factories.make_api_conversation(db, shop)
    reply = factories.make_reply(db, ticket, "您好，退款已原路退回")
    worker: list[subprocess.Popen] = []

    def kill_the_sender(post) -> None:  # it has reached the receiver; its answer never will
        if len(receiver.posts) == 1:
            worker[0].send_signal(signal.SIGKILL)
            worker[0].wait()

    receiver.on_post = kill_the_sender
    worker.append(
        subprocess.Popen(
            [sys.executable, "-c", WORKER],
            env={
                **os.environ,
                "KEFU_DATABASE_URL": settings.resolved_database_url,
                "KEFU_DATA_DIR": str(settings.data_dir),
                "KEFU_LOG_LEVEL": "WARNING",
                "KEFU_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
                "KEFU_CALLBACK_TIMEOUT_SECONDS": "2",
            },
            stderr=subprocess.DEVNULL,
        )
    )
    receiver.wait_for(lambda: worker[0].poll() is not None, seconds=120)

    assert worker[0].returncode == -signal.SIGKILL
    killed = row_of(db, reply.id)
    assert (killed.state, killed.attempts, killed.sent_at) == ("queued", 1, None)
    assert killed.claimed_by is not None  # held until its lease runs out
    assert len(receiver.shown) == 1

    start(make_relay(name="survivor"))  # takes the row over once the dead relay's lease is up
    receiver.wait_for(lambda: row_of(db, reply.id).state == "sent")

    row = row_of(db, reply.id)
    assert row.attempts == 2 and row.claimed_by is None
    assert [p.key for p in receiver.posts] == [row.idempotency_key] * 2  # sent twice …
    assert [s["text"] for s in receiver.shown] == ["您好，退款已原路退回"]  # … shown once
    assert db.get(Message, reply.id).delivery_state == "sent"
