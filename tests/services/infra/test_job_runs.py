"""Each job's last success recorded; a stalled job told to the admins once per stall."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kefu.db.engine import make_session_factory, writer_bind
from kefu.db.models import Notification, OutboxEntry
from kefu.domain.job_stalls import NOTICE_KIND, StallRule
from kefu.jobs import runner
from kefu.jobs.registry import Job, JobContext, periodic_jobs
from kefu.services.infra import job_runs
from kefu.settings import Settings
from tests import factories

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
RULE = StallRule(factor=10, minimum_seconds=300)
JOBS = [("sla", 2.0, "SLA"), ("mail", 60.0, "e-mail")]


def alerts(db: Session) -> list[tuple[int, str]]:
    db.commit()  # a fresh snapshot: the watch wrote through sessions of its own
    rows = db.scalars(select(Notification).where(Notification.kind == NOTICE_KIND))
    told = sorted((n.user_id, n.body.removeprefix("后台任务 ")) for n in rows)
    db.rollback()  # the read ends: the test's next write does not start from an old snapshot
    return told


def test_a_round_is_recorded_and_a_failed_one_is_not(engine: Engine, db: Session):
    def broken(_: JobContext) -> dict[str, int]:
        raise RuntimeError("the database went away")

    context = JobContext(make_session_factory(writer_bind(engine)), lambda: T0, Settings())
    runner.run_worker([Job("fine", 1.0, lambda _: {})], context, threading.Event(), once=True)
    try:
        runner.run_worker([Job("broken", 1.0, broken)], context, threading.Event(), once=True)
    except RuntimeError:
        pass
    assert job_runs.last_successes(db) == {"fine": T0}


def test_the_last_success_never_moves_back(db: Session):
    job_runs.record_success(db, "sla", T0)
    job_runs.record_success(db, "sla", T0 - timedelta(minutes=1))  # a slow worker finishing late
    db.commit()
    assert job_runs.last_successes(db) == {"sla": T0}


def test_a_stalled_job_is_told_to_the_active_admins_once(engine: Engine, db: Session):
    admin = factories.make_user(db, role="admin")
    factories.make_user(db, role="supervisor")
    retired = factories.make_user(db, role="admin")
    retired.is_active = False
    job_runs.record_success(db, "sla", T0)
    job_runs.record_success(db, "mail", T0)
    db.commit()
    sessions = make_session_factory(writer_bind(engine))

    # 4 minutes: sla (2 s a round) is past 10 rounds but not the 5-minute minimum; nothing said.
    assert job_runs.alert_stalled(sessions, JOBS, RULE, T0 + timedelta(minutes=4)) == []
    stalled_at = T0 + timedelta(minutes=6)
    assert job_runs.alert_stalled(sessions, JOBS, RULE, stalled_at) == ["sla"]
    [(user_id, body)] = alerts(db)
    assert user_id == admin.id and body.startswith("sla")
    # The next watch rounds say nothing more about the same stall.
    assert job_runs.alert_stalled(sessions, JOBS, RULE, stalled_at + timedelta(minutes=1)) == []
    assert job_runs.alert_stalled(sessions, JOBS, RULE, T0 + timedelta(minutes=11)) == ["mail"]
    assert len(alerts(db)) == 2

    # The job recovers, then stalls again: a new stall, a new alert.
    job_runs.record_success(db, "sla", T0 + timedelta(minutes=20))
    db.commit()
    assert job_runs.alert_stalled(sessions, JOBS, RULE, T0 + timedelta(minutes=22)) == []
    assert job_runs.alert_stalled(sessions, JOBS, RULE, T0 + timedelta(minutes=26)) == ["sla"]
    assert len(alerts(db)) == 3


def stall_mails(db: Session) -> list[dict[str, object]]:
    db.commit()
    rows = db.scalars(
        select(OutboxEntry).where(OutboxEntry.kind == "notice").order_by(OutboxEntry.id)
    )
    targets = [dict(row.target) for row in rows]
    db.rollback()
    return targets


def test_a_stall_is_mailed_to_the_active_admins_once(engine: Engine, db: Session):
    first = factories.make_user(db, role="admin", email="ops-admin@example.cn")
    second = factories.make_user(db, role="admin", email="boss@example.cn")
    factories.make_user(db, role="supervisor", email="lead@example.cn")
    retired = factories.make_user(db, role="admin", email="gone@example.cn")
    retired.is_active = False
    job_runs.record_success(db, "sla", T0)
    db.commit()
    sessions = make_session_factory(writer_bind(engine))

    assert job_runs.alert_stalled(sessions, JOBS, RULE, T0 + timedelta(minutes=6)) == ["sla"]
    [mail] = stall_mails(db)
    assert mail["to"] == sorted([first.email, second.email])
    assert mail["subject"] == "【kefu 监控】后台任务 sla 已停滞"
    assert "sla（SLA）已有 6 分钟没有成功完成一轮" in str(mail["text"])
    # Later watch rounds over the same stall queue nothing more; a new stall, one more mail.
    job_runs.alert_stalled(sessions, JOBS, RULE, T0 + timedelta(minutes=8))
    assert len(stall_mails(db)) == 1
    job_runs.record_success(db, "sla", T0 + timedelta(minutes=20))
    db.commit()
    assert job_runs.alert_stalled(sessions, JOBS, RULE, T0 + timedelta(minutes=26)) == ["sla"]
    assert len(stall_mails(db)) == 2


def test_a_job_that_never_succeeded_is_not_judged(engine: Engine, db: Session):
    factories.make_user(db, role="admin")
    sessions = make_session_factory(writer_bind(engine))
    assert job_runs.alert_stalled(sessions, JOBS, RULE, T0 + timedelta(days=1)) == []
    assert alerts(db) == []


def test_the_watch_job_runs_among_the_periodic_jobs(engine: Engine, db: Session):
    admin = factories.make_user(db, role="admin")
    job_runs.record_success(db, "outbox", T0)
    db.commit()
    settings = Settings(job_stall_factor=10, job_stall_min_seconds=60)
    [watch] = [j for j in periodic_jobs(settings) if j.name == "job_watch"]
    later = T0 + timedelta(minutes=2)  # the outbox job (5 s a round) past its minute
    context = JobContext(make_session_factory(writer_bind(engine)), lambda: later, settings)
    assert runner.run_round(watch, context) == {"alerted": 1}
    [(user_id, _)] = alerts(db)
    assert user_id == admin.id
    assert "job_watch" in job_runs.last_successes(db)  # the watch records its own rounds
