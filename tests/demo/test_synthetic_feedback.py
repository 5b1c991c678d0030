"""The generator's feedback phase (demo/synthetic/surveys.py) on a small synthetic history: the
surveys and follow-ups the survey service would have written, the auto-close of resolved cases,
deterministic by seed; then the KPI rollup rebuilt over it equals the figures of the raw rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.db.engine import make_session_factory, writer_bind
from kefu.db.models import AuditEvent, Customer, Survey, Ticket
from kefu.demo.synthetic import generate
from kefu.demo.synthetic.surveys import AUTO_CLOSE_AFTER, add_feedback
from kefu.domain.kpi.metrics import Metric
from kefu.domain.kpi.slices import Dimension, Period, compute
from kefu.domain.surveys import SCALES, FeedbackPolicy, SurveyKind
from kefu.services.analytics import rollup, rollup_read
from kefu.services.analytics.facts import period_facts

GENERATED = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
NOW = GENERATED + timedelta(days=5)  # the phase runs later: recent resolved cases close


def test_feedback_phase_writes_what_the_survey_service_would(db: Session, engine, demo_team):
    generate(engine, tickets=300, seed=11, now=GENERATED)
    assert db.scalar(select(func.count()).select_from(Survey)) == 0
    db.commit()  # no read transaction left open: it would see the database as it was
    report = add_feedback(engine, seed=11, now=NOW)
    surveys = list(db.scalars(select(Survey).order_by(Survey.ticket_id)))
    assert report.rows["surveys"] + report.rows.get("follow_ups", 0) == len(surveys) > 0
    assert report.rows["closed"] > 0

    by_ticket = {t.id: t for t in db.scalars(select(Ticket))}
    answered = [s for s in surveys if s.answered_at is not None]
    assert answered and len(answered) < len(surveys)  # some unanswered
    for s in surveys:
        ticket = by_ticket[s.ticket_id]
        assert ticket.status in ("resolved", "closed") and ticket.resolved_at is not None
        assert s.customer_id == ticket.customer_id and s.channel == ticket.channel
        assert s.kinds == ["csat"]  # the channels' default setting
        if s.purpose == "follow_up":
            assert ticket.case_path == "complaint"
        due = ticket.resolved_at + (
            FeedbackPolicy().follow_up_after if s.purpose == "follow_up" else timedelta(0)
        )
        if s.sent_at is not None:
            assert s.due_at is None and s.skipped is None and s.via
            assert due <= s.sent_at <= NOW and s.expires_at > s.sent_at
        elif s.skipped is None:
            assert s.due_at is not None and s.due_at > NOW  # waits for the sweep
        if s.answered_at is not None:
            assert s.sent_at <= s.answered_at <= min(NOW, s.expires_at)
            low, high = SCALES[SurveyKind.CSAT].low, SCALES[SurveyKind.CSAT].high
            assert s.csat is not None and low <= s.csat <= high
            assert s.answered_via in ("inline", "link")
        else:
            assert s.csat is None and s.comment == ""
        if s.channel == "email" and s.skipped:
            customer = db.get(Customer, s.customer_id)
            assert s.skipped == "no_address" and not customer.email
    assert any(s.answered_at - s.sent_at > timedelta(days=1) for s in answered)  # late ones

    steps = db.scalars(select(AuditEvent).where(AuditEvent.action == "automation.lifecycle")).all()
    assert len(steps) == report.rows["closed"]
    for event in steps:
        ticket = by_ticket[event.ticket_id]
        assert event.actor_type == "system" and event.after == {"step": "auto:close_resolved"}
        assert ticket.status == "closed"
        assert AUTO_CLOSE_AFTER is not None
        assert ticket.closed_at == ticket.resolved_at + AUTO_CLOSE_AFTER <= NOW
        update = db.scalar(select(AuditEvent).where(AuditEvent.action == "ticket.update",
                                                    AuditEvent.ticket_id == ticket.id,
                                                    AuditEvent.created_at == ticket.closed_at))  # fmt: skip
        assert update is not None and update.after == {"status": "closed"}

    again = add_feedback(engine, seed=11, now=NOW)  # nothing left to do: no duplicates
    assert sum(again.rows.values()) == 0

    db.commit()
    sessions = make_session_factory(writer_bind(engine))
    built = rollup.rebuild(sessions, batch=100)
    assert built.cases == db.scalar(
        select(func.count()).select_from(Ticket).where(Ticket.merged_into_id.is_(None))
    )
    start, end = NOW - timedelta(days=200), NOW + timedelta(days=1)
    facts = period_facts(db, start=start, end=end)
    for by, period in (
        ((), None),
        ((Dimension.CHANNEL,), Period.MONTH),
        ((Dimension.AGENT,), None),
    ):
        expected = compute(facts.cases, facts.replies, facts.surveys, by=by, period=period)
        got, fresh = rollup_read.figures(db, start=start, end=end, by=by, period=period)
        assert fresh.pending == 0 and list(got) == list(expected)
        for key, figures in expected.items():
            for metric, want in figures.items():
                have = got[key][metric]
                assert have.denominator == want.denominator, (key, metric)
                assert (have.value is None) == (want.value is None), (key, metric)
                if want.value is not None:
                    assert abs(have.value - want.value) < 1e-6, (key, metric)
    csat = rollup_read.figures(db, start=start, end=end)[0][()][Metric.CSAT]
    assert csat.denominator == sum(1 for s in answered if s.csat is not None)


def test_the_schedulers_waiting_rows_are_written_again_as_history_on_request(
    db: Session, engine, demo_team
) -> None:
    """The demo loads its cases through the services, whose scheduler leaves a waiting survey on
    each resolved one: with ``redo_unsent`` the phase writes those as history too."""
    generate(engine, tickets=120, seed=5, now=GENERATED)
    db.commit()
    add_feedback(engine, seed=5, now=NOW)
    sent = db.scalars(select(Survey).where(Survey.sent_at.is_not(None))).first()
    assert sent is not None
    ticket_id = sent.ticket_id
    db.delete(sent)  # as the scheduler leaves it: due, not sent
    db.flush()
    db.add(Survey(ticket_id=ticket_id, customer_id=sent.customer_id, channel=sent.channel,
                  purpose=sent.purpose, kinds=sent.kinds, due_at=NOW))  # fmt: skip
    db.commit()

    add_feedback(engine, seed=5, now=NOW)  # without the flag: left to the sweep
    db.expire_all()
    assert db.scalar(select(Survey).where(Survey.ticket_id == ticket_id)).sent_at is None
    db.commit()
    add_feedback(engine, seed=5, now=NOW, redo_unsent=True)
    db.expire_all()
    again = db.scalar(select(Survey).where(Survey.ticket_id == ticket_id))
    assert again.sent_at == sent.sent_at and again.csat == sent.csat  # the same history, by seed
