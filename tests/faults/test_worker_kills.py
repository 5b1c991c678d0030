"""A worker killed (SIGKILL) at every step of the outbox delivery and of the SLA sweep
(``KEFU_FAULT_KILL_AT``, src/kefu/fault_points.py): once a new worker runs, every queued reply is
shown to the receiver once (it dedupes by idempotency key, as docs/callbacks.md asks) and every
breach that fell due is recorded once, the case escalated once."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import OutboxEntry, Ticket
from tests import factories
from tests.callback_receiver import CallbackReceiver
from tests.faults import traffic
from tests.faults.servers import Kefu, Postgres, kefu_environment

pytestmark = pytest.mark.faults

REPLIES = 3
CASES = 3


@pytest.fixture(scope="module")
def environment(postgres: Postgres, fault_dir: Path) -> dict[str, str]:
    return kefu_environment(
        database_url=postgres.url, data_dir=fault_dir, redis_url=None, **traffic.FAST
    )


def _run_until_killed(environment: dict[str, str], log: Path, step: str) -> None:
    doomed = Kefu.worker({**environment, "KEFU_FAULT_KILL_AT": step}, log, *traffic.WORKER_JOBS)
    try:
        assert doomed.wait_exit(30) == -signal.SIGKILL, doomed.tail()
    finally:
        doomed.stop()


@pytest.mark.parametrize("step", ["outbox.after_claim", "outbox.after_send", "outbox.after_mark"])
def test_a_worker_killed_while_delivering_delivers_each_reply_once_after_a_restart(
    step: str,
    environment: dict[str, str],
    fault_db: Session,
    fault_dir: Path,
    receiver: CallbackReceiver,
) -> None:
    db = fault_db
    callback = factories.make_callback_integration(db, receiver.url, secret_key=traffic.SECRET_KEY)
    receiver.secret = factories.callback_secret(callback, secret_key=traffic.SECRET_KEY)
    replies = [
        factories.make_reply(db, factories.make_api_conversation(db, callback))
        for _ in range(REPLIES)
    ]
    ids = [r.id for r in replies]
    keys = set(
        db.scalars(select(OutboxEntry.idempotency_key).where(OutboxEntry.message_id.in_(ids)))
    )
    assert len(keys) == REPLIES
    _run_until_killed(environment, fault_dir / f"worker-{step}.log", step)

    posted = [p.key for p in receiver.posts if p.key in keys]
    if step == "outbox.after_claim":
        assert posted == []  # claimed, never sent
    else:
        assert posted  # it died after sending
    survivor = Kefu.worker(environment, fault_dir / "worker.log", *traffic.WORKER_JOBS)
    try:
        # The claims of the dead worker are taken over when their lease runs out.
        receiver.wait_for(lambda: keys <= {b["idempotency_key"] for b in receiver.shown}, 30)

        def all_sent() -> bool:
            db.rollback()
            states = db.scalars(select(OutboxEntry.state).where(OutboxEntry.message_id.in_(ids)))
            return all(s in ("sent", "delivered") for s in states)

        traffic.wait_for(all_sent, 30, "every reply marked sent")
    finally:
        survivor.kill()
    shown = [b["idempotency_key"] for b in receiver.shown if b["idempotency_key"] in keys]
    assert sorted(shown) == sorted(keys)  # once each, as the receiver sees it
    resent = [p.key for p in receiver.posts if p.key in keys]
    if step == "outbox.after_send":
        assert len(resent) > len(set(resent))  # sent again after the kill: deduped by the key
    else:
        assert sorted(resent) == sorted(keys)  # nothing sent twice


@pytest.mark.parametrize("step", ["sla.before_commit", "sla.after_commit"])
def test_a_worker_killed_while_sweeping_records_each_breach_once_after_a_restart(
    step: str, environment: dict[str, str], fault_db: Session, fault_dir: Path
) -> None:
    db = fault_db
    ids = traffic.due_cases(db, CASES, due_in=-90)
    _run_until_killed(environment, fault_dir / f"worker-{step}.log", step)

    def breaches() -> dict[int, int]:
        return traffic.first_response_breaches(db, ids)

    assert breaches() == ({} if step == "sla.before_commit" else dict.fromkeys(ids, 1))
    survivor = Kefu.worker(environment, fault_dir / "worker.log", *traffic.WORKER_JOBS)
    try:
        traffic.wait_for(lambda: breaches() == dict.fromkeys(ids, 1), 30, "each breach")
        traffic.wait_for(lambda: _swept_since(db, ids), 10, "a sweep of the cases")
    finally:
        survivor.kill()
    assert breaches() == dict.fromkeys(ids, 1)
    db.rollback()
    priorities = db.scalars(select(Ticket.priority).where(Ticket.id.in_(ids))).all()
    assert priorities == ["P3"] * CASES  # escalated one step, once


def _swept_since(db: Session, ids: list[int]) -> bool:
    """The survivor's sweep has looked at the cases again (their next check is in the future)."""
    db.rollback()
    checks = db.scalars(select(Ticket.sla_check_at).where(Ticket.id.in_(ids))).all()
    now = utcnow()
    return all(check is None or check > now for check in checks)
