"""`kefu worker`, the SLA sweep as its own process: a crash with deadlines pending loses nothing
and fires nothing twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from typer.testing import CliRunner

from kefu.cli import app, stop_on_signals
from kefu.db.base import utcnow
from kefu.db.models import SlaEvent, Ticket
from kefu.settings import get_settings
from tests import factories

runner = CliRunner()


def _env(settings) -> dict[str, str]:
    return {
        **os.environ,
        "KEFU_DATABASE_URL": settings.resolved_database_url,
        "KEFU_DATA_DIR": str(settings.data_dir),
        "KEFU_LOG_LEVEL": "WARNING",
    }


# The worker runs with its clock stopped at a moment the test chooses, so what it sees due does
# not depend on how long the process takes to start on a busy machine. ``utcnow`` is replaced
# before any other kefu module is imported, so every ``from kefu.db.base import utcnow`` gets it.
_AT_MOMENT = """
import sys
from datetime import datetime

import kefu.db.base

moment = datetime.fromisoformat(sys.argv[1])
kefu.db.base.utcnow = lambda: moment

from kefu.cli import app, stop_on_signals

app(["worker", "--interval", "0.2"])
"""


def _start(settings, at: datetime) -> subprocess.Popen:
    """``kefu worker`` in its own process, its clock stopped at ``at``."""
    return subprocess.Popen(
        [sys.executable, "-c", _AT_MOMENT, at.isoformat()],
        env=_env(settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _count(db, kind: str) -> int:
    db.rollback()  # a new snapshot: see what the worker committed
    return db.scalar(select(func.count()).select_from(SlaEvent).where(SlaEvent.kind == kind))


def _wait_for(condition, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_worker_killed_with_deadlines_pending_fires_each_breach_once_after_restart(
    settings, engine, db
):
    group = factories.make_group(db, name="在线客服组", calendar={"always_open": True})
    tickets = [
        factories.make_ticket(db, group=group, channel="webchat", text=f"在吗？订单{i}")
        for i in range(5)
    ]
    # The 30 s first-response deadline: its 80 % warning comes at 24 s, the breach at 30 s.
    opened = utcnow()
    due = opened + timedelta(seconds=30)
    db.execute(
        update(Ticket)
        .where(Ticket.id.in_([t.id for t in tickets]))
        .values(created_at=opened, awaiting_reply_since=opened, sla_check_at=opened)
    )
    db.commit()

    worker = _start(settings, at=opened + timedelta(seconds=26))  # warned, not yet breached
    try:
        _wait_for(lambda: _count(db, "warn") == 5)
        assert _count(db, "breach") == 0
    finally:
        worker.kill()  # a crash, not a clean stop
        worker.wait()
    db.rollback()
    assert {
        t.first_response_due_at
        for t in db.scalars(select(Ticket).where(Ticket.group_id == group.id))
    } == {due}
    assert _count(db, "breach") == 0  # the killed worker left the breach to whoever runs next

    worker = _start(settings, at=due + timedelta(seconds=1))  # restarted after the deadline
    try:
        _wait_for(lambda: _count(db, "breach") == 5)
        time.sleep(1.0)  # several more sweeps, which must fire nothing again
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0, worker.stderr.read() if worker.stderr else ""
    assert (_count(db, "warn"), _count(db, "breach")) == (5, 5)
    rows = db.execute(
        select(Ticket.escalations, Ticket.priority).where(Ticket.group_id == group.id)
    ).all()
    assert rows == [(1, "P3")] * 5


def test_worker_once_reports_what_it_did(settings, engine, db, monkeypatch):
    monkeypatch.setenv("KEFU_DATABASE_URL", settings.resolved_database_url)
    get_settings.cache_clear()
    try:
        group = factories.make_group(db, calendar={"always_open": True})
        ticket = factories.make_ticket(db, group=group, channel="webchat")
        db.execute(
            update(Ticket)
            .where(Ticket.id == ticket.id)
            .values(created_at=utcnow() - timedelta(minutes=1))
        )
        db.commit()
        result = runner.invoke(app, ["worker", "--once"])
        assert result.exit_code == 0, result.output
        assert result.stdout.splitlines() == [
            "sla: checked 1, warnings 1, breaches 1, late 0, routed 0, failed 0",
            "analysis: analyzed 0, failed 0",
            "outbox: claimed 0, sent 0, failed 0, dead 0, released 0, lost 0",
            "chat_offers: offered 0, expired 0, nonces_forgotten 0",  # nobody online to offer to
            "orders: looked_up 0, failed 0",  # no order number waits for its shop
            "bot_idle: handed_off 0, closed 0",  # no conversation the bot holds
            "customer_joins: identities 0, joined 0, suggested 0, verified 0",
            "mail: fetched 0, imported 0, auto_replies 0, failed 0, refused 0, skipped 0, errors 0",
            "webhook_receipts: forgotten 0",
            "wechat_media: fetched 0, failed 0, gave_up 0",  # no WeChat picture to fetch
            "social_feeds: feeds 0, mentions 0, skipped 0, failed 0",  # no feed configured
            "surveys: sent 0, skipped 0, waiting 0",  # no case resolved
            "automations: closed 0, nudged 0, triggers_fired 0, failed 0",  # nothing due yet
            "kpi_rollup: cases 1, rounds 1, busy 0",  # the new ticket rolled up
            "qa_reviews: reviewed 0",  # no case resolved
            # nothing past its retention period (a new ticket, its session and audit events)
            "retention: mail_raw 0, inbound_payloads 0, case_bodies 0, survey_comments 0, "
            "social_mentions 0, webchat_visitors 0, outbox 0, login_sessions 0, audit_events 0",
            "job_watch: alerted 0",  # every job just ran
        ]
    finally:
        get_settings.cache_clear()


def test_worker_refuses_a_job_it_does_not_know(settings, monkeypatch):
    monkeypatch.setenv("KEFU_DATABASE_URL", settings.resolved_database_url)
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["worker", "--once", "--job", "horoscopes"])
        assert result.exit_code != 0
        assert "unknown job horoscopes" in result.output and "sla" in result.output
    finally:
        get_settings.cache_clear()


def test_worker_once_analyzes_again_a_message_whose_analysis_failed(
    settings, engine, db, monkeypatch
):

    monkeypatch.setenv("KEFU_DATABASE_URL", settings.resolved_database_url)
    get_settings.cache_clear()
    try:
        ticket = factories.make_ticket(db, text="再不处理我就发抖音曝光你们")
        message = ticket.messages[0]
        message.analysis_error, message.analysis_attempts = "RuntimeError: broke", 1
        message.analysis_retry_at = utcnow() - timedelta(seconds=1)
        db.commit()
        result = runner.invoke(app, ["worker", "--once"])
        assert result.exit_code == 0, result.output
        db.refresh(message)
        db.refresh(ticket)
        assert message.analysis_retry_at is None and message.analysis["risks"] == ["media"]
        assert (ticket.priority, ticket.risks) == ("P1", ["media"])
    finally:
        get_settings.cache_clear()


def test_a_stop_signal_landing_inside_the_wait_still_stops_the_worker():
    """A handler runs in the main thread, which may hold the stop event's lock inside
    ``stop.wait`` when the signal lands; the handler must not wait for that lock itself."""
    stop = threading.Event()
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        stop_on_signals(stop)
        handler = signal.getsignal(signal.SIGTERM)
        assert callable(handler)

        def signal_inside_the_wait() -> None:
            with stop._cond:  # what Event.wait holds between its checks
                handler(signal.SIGTERM, None)

        landed = threading.Thread(target=signal_inside_the_wait, daemon=True)
        landed.start()
        landed.join(timeout=5)
        assert not landed.is_alive(), "the handler waited for the lock its own thread holds"
        assert stop.wait(timeout=5)
    finally:
        for sig, old in before.items():
            signal.signal(sig, old)
