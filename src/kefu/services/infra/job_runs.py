"""Each periodic job's last successful round (``job_runs``), and the alert when one stalls.

``record_success`` is called by the runner (jobs/runner.py) after every round that did not
fail; the "job_watch" job calls ``alert_stalled``, which tells the active admins once per
stall — a notice in the workspace and an e-mail through the outbox — (the row remembers the
alert until the job succeeds again).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kefu.db.models import JobRun, User
from kefu.domain.job_stalls import NOTICE_KIND, StallRule, stall_mail_subject, stall_notice_body
from kefu.domain.notices import Notice
from kefu.domain.roles import Role
from kefu.services.events import notices
from kefu.services.outbound.notices import enqueue_mail_notice


def record_success(session: Session, name: str, now: datetime) -> None:
    """One statement, safe when several workers finish a round of the same job at once."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(JobRun).values(name=name, last_success_at=now, stall_alerted_at=None)
    statement = statement.on_conflict_do_update(
        index_elements=[JobRun.name],
        set_={"last_success_at": statement.excluded.last_success_at, "stall_alerted_at": None},
        where=JobRun.last_success_at < statement.excluded.last_success_at,
    )
    session.execute(statement)


def last_successes(session: Session) -> dict[str, datetime]:
    return {row.name: row.last_success_at for row in session.scalars(select(JobRun))}


def alert_stalled(
    sessions: Callable[[], Session],
    jobs: Sequence[tuple[str, float, str]],
    rule: StallRule,
    now: datetime,
) -> list[str]:
    """Tell the admins about every job of ``jobs`` (name, interval, summary) that stalled and
    was not told yet; the names told. A job that never succeeded has no row and is not judged
    (a fresh install, a job added by an upgrade): the metrics show it has no last success."""
    intervals = {name: (every, summary) for name, every, summary in jobs}
    with sessions() as session:
        rows = session.scalars(
            select(JobRun)
            .where(JobRun.name.in_(intervals), JobRun.stall_alerted_at.is_(None))
            .order_by(JobRun.name)
            .with_for_update(skip_locked=True)  # two watchers never tell the same stall twice
        ).all()
        stalled = [r for r in rows if rule.stalled(intervals[r.name][0], r.last_success_at, now)]
        if not stalled:
            return []
        admins = session.scalars(
            select(User)
            .where(User.role == Role.ADMIN.value, User.is_active.is_(True))
            .order_by(User.id)
        ).all()
        bodies = {
            row.name: stall_notice_body(row.name, intervals[row.name][1], row.last_success_at, now)
            for row in stalled
        }
        made = [
            Notice(user_id=admin.id, ticket_id=None, kind=NOTICE_KIND, body=bodies[row.name])
            for row in stalled
            for admin in admins
        ]
        notices.write(session, made)
        for row in stalled:
            # The same transaction as the mark: a stall is mailed once, or not at all.
            enqueue_mail_notice(session, to=[a.email for a in admins],
                                subject=stall_mail_subject(row.name), text=bodies[row.name])  # fmt: skip
            row.stall_alerted_at = now
        session.commit()
    return [row.name for row in stalled]
