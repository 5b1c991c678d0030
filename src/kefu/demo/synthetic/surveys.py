"""The surveys and follow-ups of the synthetic history, and the auto-close of resolved cases: a
phase of its own, run after ``generate`` or on a database generated before it existed.

``add_surveys(engine)`` writes, for every resolved or closed case that has no survey row, the row
the survey service would have left by now (services/surveys/schedule.py and send.py): short-path
cases on a channel that asks (the channel's setting, ``setting_for``) are surveyed when resolved;
complaints get their follow-up (回访, the 跟进反馈 stage's due time) three days after the solution
(the team's service timing). What went out by ``now`` is sent (``via`` the channel's way, the link's
``expires_at``); what is due later waits with its ``due_at``; an e-mail to a customer without an
address and a channel without a sender (SMS, social) are ``skipped`` as send.py skips them. About
a third of the sent ones are answered — some days late, within the link's life — with scores of
the kinds asked, sometimes a comment (its sentiment, and the flag of a comment contradicting a
satisfied score), and for a follow-up whether the problem is solved and the outcome recorded.

``close_resolved(engine)`` is the lifecycle automation's effect (services/automations):
short-path cases resolved longer than ``AUTO_CLOSE_AFTER`` ago are closed at that time, each
audited as the system.

Both are set-based (one ``INSERT … SELECT`` / ``UPDATE`` per channel or table, in the database)
and deterministic: every choice is a hash of the ticket id and the seed, so the same database and
seed give the same rows. The triggers of migration 0028 mark the cases stale for the KPI rollup.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, bindparam, text

from kefu.db.base import UTCDateTime, utcnow
from kefu.db.session import session_scope
from kefu.domain.automations import LifecyclePolicy, LifecycleStep
from kefu.domain.surveys import AskVia, ChannelSurveys, FeedbackPolicy
from kefu.domain.tickets import Channel
from kefu.services.automations import timing
from kefu.services.surveys.config import setting_for
from kefu.services.surveys.send import SENT_ON

AUTO_CLOSE_AFTER = LifecyclePolicy().close_resolved_after  # the default; the team's is read
SWEEP_DELAY = timedelta(minutes=1)  # the surveys job runs every minute
ANSWERED_PER_MILLE = 340
LATE_PER_MILLE = 200  # of the answered: days after it was sent, not minutes
COMMENT_PER_MILLE = 250  # of the answered

# (comment, sentiment): positive ones go with good scores, negative with poor ones; one
# negative comment on a good score is flagged as the survey module flags it.
COMMENTS = {
    "good": ("处理很快，谢谢！", "positive"),
    "poor": ("等了很久才有人回复，问题也没彻底解决。", "negative"),
    "mixed": ("客服态度不错，就是物流还是太慢了，很失望。", "negative"),
}


@dataclass
class PhaseReport:
    rows: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        return ", ".join(f"{name} {count:,}" for name, count in self.rows.items())


def _h(k: int) -> str:
    """A deterministic number 0–999 of the ticket (``t.id``), the seed and the choice ``k``."""
    return f"(((t.id * 2654435761 + :seed * {7919 * k + 1}) % 1000003) % 1000)"


def _sql_time(dialect: str, base: str, seconds: str) -> str:
    """``base`` plus a whole number of seconds, in the column's stored form (SQLite: the text
    SQLAlchemy writes, its microseconds kept)."""
    if dialect == "postgresql":
        return f"({base} + CAST({seconds} AS bigint) * interval '1 second')"
    shifted = (
        f"strftime('%Y-%m-%d %H:%M:%S', {base}, '+' || CAST({seconds} AS INTEGER) || ' seconds')"
    )
    return f"({shifted} || substr({base}, 20))"


def _score(kind: str) -> str:
    """The score of one kind, skewed to satisfied as real answers are."""
    h = _h({"csat": 3, "nps": 4, "ces": 5}[kind])
    if kind == "csat":
        return f"CASE WHEN {h} < 550 THEN 5 WHEN {h} < 800 THEN 4 WHEN {h} < 900 THEN 3 WHEN {h} < 950 THEN 2 ELSE 1 END"
    if kind == "nps":
        return f"CASE WHEN {h} < 450 THEN 10 WHEN {h} < 600 THEN 9 WHEN {h} < 800 THEN 8 ELSE {h} % 8 END"
    return f"CASE WHEN {h} < 500 THEN 7 WHEN {h} < 750 THEN 6 ELSE 1 + {h} % 5 END"


def add_surveys(engine: Engine, *, seed: int = 2026, now: datetime | None = None) -> PhaseReport:
    """Survey rows for the resolved and closed cases that have none (see the module docstring)."""
    now = now or utcnow()
    report = PhaseReport()
    dialect = engine.dialect.name
    with session_scope(engine) as session:
        settings = {c: setting_for(session, c.value) for c in Channel}
        policy = timing.current(session).feedback()  # the team's timing, as admins set it
        for channel, setting in settings.items():
            for complaint in (False, True):
                sql, params = _survey_insert(
                    dialect, channel, setting, policy, complaint, seed, now
                )
                if sql is None:
                    continue
                stamp = text(sql).bindparams(bindparam("now", type_=UTCDateTime()))
                count = session.execute(stamp, params).rowcount  # type: ignore[attr-defined]
                key = "follow_ups" if complaint else "surveys"
                report.rows[key] = report.rows.get(key, 0) + max(count, 0)
    return report


def _survey_insert(
    dialect: str,
    channel: Channel,
    setting: ChannelSurveys,
    policy: FeedbackPolicy,
    complaint: bool,
    seed: int,
    now: datetime,
) -> tuple[str | None, dict[str, Any]]:
    if not setting.asks:
        return None, {}
    delay = policy.follow_up_after if complaint else policy.survey_after
    due = _sql_time(dialect, "t.resolved_at", str((delay + SWEEP_DELAY).total_seconds()))
    sent_on = channel in SENT_ON
    skipped = "NULL" if sent_on else "'no_way'"  # SMS and social: no sender for surveys (send.py)
    if channel == Channel.EMAIL:
        skipped = "CASE WHEN c.email IS NULL OR c.email = '' THEN 'no_address' END"
    sent = f"CASE WHEN {due} <= :now AND ({skipped}) IS NULL THEN {due} END"
    answered = f"({sent}) IS NOT NULL AND {_h(1)} < {ANSWERED_PER_MILLE}"
    minutes = f"CASE WHEN {_h(2)} < {LATE_PER_MILLE} THEN 1440 * (1 + {_h(2)} % 6) ELSE 1 + {_h(2)} % 90 END"
    answered_at = _sql_time(dialect, f"({sent})", f"60 * ({minutes})")
    answered = f"{answered} AND {answered_at} <= :now"
    kinds = [k.value for k in setting.kinds]
    scores = {
        k: (f"CASE WHEN {answered} THEN {_score(k)} END" if k in kinds else "NULL")
        for k in ("csat", "nps", "ces")
    }
    comment_kind = f"CASE WHEN {_h(6)} < 30 THEN 'mixed' WHEN ({scores['csat']}) <= 2 THEN 'poor' ELSE 'good' END"
    has_comment = f"{answered} AND {_h(7)} < {COMMENT_PER_MILLE}"
    comment = (
        f"CASE WHEN {has_comment} THEN CASE {comment_kind} "
        + " ".join(f"WHEN '{name}' THEN '{text_}'" for name, (text_, _) in COMMENTS.items())
        + " END ELSE '' END"
    )
    sentiment = (
        f"CASE WHEN {has_comment} THEN CASE {comment_kind} "
        + " ".join(f"WHEN '{name}' THEN '{mood}'" for name, (_, mood) in COMMENTS.items())
        + " END END"
    )
    flag = (
        f"CASE WHEN {has_comment} AND ({comment_kind}) = 'mixed' AND COALESCE({scores['csat']}, 5) >= 4 "
        "THEN 'negative_on_positive' END"
    )
    outcome = (
        f"CASE WHEN {answered} THEN CASE WHEN {_h(8)} >= 150 THEN 'record' ELSE 'nothing' END END"
        if complaint
        else "NULL"
    )
    via = setting.via.value if setting.via else None
    answered_via = "inline" if via == AskVia.INLINE.value else "link"
    true, false = ("TRUE", "FALSE") if dialect == "postgresql" else ("1", "0")
    solved = (
        f"CASE WHEN {answered} THEN CASE WHEN {_h(8)} >= 150 THEN {true} ELSE {false} END END"
        if complaint
        else "NULL"
    )
    expires = _sql_time(dialect, f"({sent})", str(setting.link_lifetime.total_seconds()))
    waiting = f"CASE WHEN {due} > :now AND ({skipped}) IS NULL THEN {due} END"
    # A complaint is followed up at 跟进反馈 (and was, if archived since); a short-path case is
    # surveyed once resolved, whatever its stage column says.
    stage = "AND t.stage IN ('following_up', 'archived')" if complaint else ""
    kinds_json = json.dumps(kinds)
    kinds_value = "CAST(:kinds AS jsonb)" if dialect == "postgresql" else ":kinds"
    sql = f"""
        INSERT INTO surveys (ticket_id, customer_id, channel, purpose, kinds, via, due_at, sent_at,
            skipped, expires_at, answered_at, answered_via, csat, nps, ces, solved, comment,
            comment_sentiment, flag, outcome, created_at)
        SELECT t.id, t.customer_id, t.channel, :purpose, {kinds_value}, :via, {waiting}, {sent},
            {skipped}, CASE WHEN ({sent}) IS NOT NULL THEN {expires} END,
            CASE WHEN {answered} THEN {answered_at} END,
            CASE WHEN {answered} THEN :answered_via END,
            {scores["csat"]}, {scores["nps"]}, {scores["ces"]}, {solved}, {comment},
            {sentiment}, {flag}, {outcome}, t.resolved_at
        FROM tickets t JOIN customers c ON c.id = t.customer_id
        WHERE t.channel = :channel AND t.merged_into_id IS NULL AND t.resolved_at IS NOT NULL
            AND t.status IN ('resolved', 'closed') AND t.case_path = :path
            {stage}
            AND NOT EXISTS (SELECT 1 FROM surveys s WHERE s.ticket_id = t.id)
    """  # noqa: S608 - every name and literal above is this module's
    params = {
        "seed": seed, "now": now, "purpose": "follow_up" if complaint else "survey",
        "kinds": kinds_json, "via": via, "answered_via": answered_via,
        "channel": channel.value, "path": "complaint" if complaint else "short",
    }  # fmt: skip
    return sql, params


def add_feedback(
    engine: Engine, *, seed: int = 2026, now: datetime | None = None, redo_unsent: bool = False
) -> PhaseReport:
    """The whole phase: resolved cases auto-closed, then the surveys and follow-ups.

    ``redo_unsent``: survey rows the scheduler left waiting (never sent, never answered) are
    written again as history — the demo's own cases, scheduled while it loads, get their sent
    and answered surveys like the generated ones."""
    now = now or utcnow()
    if redo_unsent:
        with session_scope(engine) as session:
            session.execute(
                text("DELETE FROM surveys WHERE sent_at IS NULL AND answered_at IS NULL")
            )
    closed = close_resolved(engine, now=now)
    surveyed = add_surveys(engine, seed=seed, now=now)
    return PhaseReport(closed.rows | surveyed.rows)


def _json(cast: str, value: dict[str, str] | None) -> str:
    return "NULL" if value is None else cast.format("'" + json.dumps(value) + "'")


def close_resolved(engine: Engine, *, now: datetime | None = None) -> PhaseReport:
    """Short-path cases resolved more than ``AUTO_CLOSE_AFTER`` before ``now`` closed at that
    time, with the audit trail the lifecycle automation leaves (the system's ``ticket.update``
    and ``automation.lifecycle`` step)."""
    now = now or utcnow()
    dialect = engine.dialect.name
    with session_scope(engine) as session:
        after = timing.current(session).lifecycle().close_resolved_after
    if after is None:  # the team switched the auto-close off
        return PhaseReport({"closed": 0})
    closes_at = _sql_time(dialect, "t.resolved_at", str(after.total_seconds()))
    json_cast = "CAST({} AS jsonb)" if dialect == "postgresql" else "{}"
    chosen = (
        "FROM tickets t WHERE t.status = 'resolved' AND t.case_path = 'short' "
        f"AND t.merged_into_id IS NULL AND t.resolved_at IS NOT NULL AND {closes_at} <= :now"
    )
    trail = (  # what services/automations/lifecycle.py records: the update, then the step
        ("ticket.update", {"status": "resolved"}, {"status": "closed"}),
        ("automation.lifecycle", None, {"step": LifecycleStep.CLOSE_RESOLVED.value}),
    )
    audits = [
        f"""
        INSERT INTO audit_events (actor_type, actor_id, via, action, object_type, object_id,
            ticket_id, customer_id, before, after, created_at)
        SELECT 'system', NULL, 'system', '{action}', 'ticket', t.id, t.id, t.customer_id,
            {_json(json_cast, before)}, {_json(json_cast, after)}, {closes_at}
        {chosen}
        """  # noqa: S608 - no input in this SQL
        for action, before, after in trail
    ]
    close = f"""
        UPDATE tickets SET status = 'closed', stage = 'closed', closed_at = (
            SELECT {closes_at} FROM tickets t WHERE t.id = tickets.id), updated_at = :now
        WHERE id IN (SELECT t.id {chosen})
    """  # noqa: S608 - no input in this SQL
    stamps = [bindparam("now", type_=UTCDateTime())]
    with session_scope(engine) as session:
        audited = 0
        for audit in audits:
            audited = session.execute(text(audit).bindparams(*stamps), {"now": now}).rowcount  # type: ignore[attr-defined]
        session.execute(text(close).bindparams(*stamps), {"now": now})
    return PhaseReport({"closed": max(audited, 0)})
