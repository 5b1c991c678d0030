"""``kefu retention run [--dry-run]``: counts per kind; the dry run changes nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from typer.testing import CliRunner

from kefu.cli import app
from kefu.db.base import utcnow
from kefu.db.models import AuditEvent, LoginSession
from kefu.services.actors import SYSTEM
from kefu.services.retention import policy
from tests import factories

runner = CliRunner()


def _sessions(db) -> int:
    db.rollback()
    return db.scalar(select(func.count()).select_from(LoginSession))


def test_a_dry_run_counts_and_a_run_sweeps(db, cli_env):
    user = factories.make_user(db)
    db.add(LoginSession(user_id=user.id, token_hash="r" * 64, csrf_token="c",
                        expires_at=utcnow() - timedelta(days=40)))  # fmt: skip
    policy.save(db, SYSTEM, {"outbox": 0})
    db.commit()

    dry = runner.invoke(app, ["retention", "run", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    lines = dry.stdout.splitlines()
    assert "login_sessions: due 1 (older than 30 days)" in lines
    assert "case_bodies: due 0 (older than 1095 days)" in lines
    assert "outbox: kept forever" in lines and len(lines) == 9
    assert _sessions(db) == 1

    done = runner.invoke(app, ["retention", "run"])
    assert done.exit_code == 0, done.output
    assert "login_sessions: swept 1 (older than 30 days)" in done.stdout.splitlines()
    assert _sessions(db) == 0
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "retention.sweep"))
    assert event.via == "cli" and event.after["counts"]["login_sessions"] == 1
