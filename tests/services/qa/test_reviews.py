"""The automatic review of a resolved case: owed in the resolving transaction, written by the
job after the commit with the real norms checker's findings, again after a reopen; a complaint
only once archived; a critical failure recorded."""

from __future__ import annotations

from sqlalchemy import select

from kefu.db.base import utcnow
from kefu.db.models import QaReview, Survey
from kefu.domain.case_loop import CasePath, Stage
from kefu.domain.tickets import TicketStatus
from kefu.services.cases import loop
from kefu.services.qa import queue as qa_queue
from tests import factories
from tests.services.qa.cases import resolve, say, sweep, verdicts


def test_a_resolved_case_is_reviewed_by_the_job_with_the_norms_findings(db, engine):
    agent = factories.make_user(db)
    ticket = factories.make_ticket(db, text="快递一周了还没到，你们到底管不管？！")
    ticket.assignee_id = agent.id
    say(db, ticket, "customer", "快递一周了还没到，你们到底管不管？！", 0, "angry")
    say(db, ticket, "agent", "这是快递公司的问题，跟我们没关系。", 2)
    say(db, ticket, "customer", "那我的包裹怎么办？", 3, "angry")
    say(db, ticket, "agent", "您的手机号13812345678已登记，我们会尽快处理。", 4)
    db.commit()
    assert ticket.qa_due_at is None
    resolve(db, ticket)
    assert ticket.qa_due_at is not None  # owed in the resolving transaction
    assert db.scalar(select(QaReview)) is None  # written by the job, not on the resolve path

    assert sweep(db, engine) == 1
    review = db.scalar(select(QaReview).where(QaReview.ticket_id == ticket.id))
    got = verdicts(review)
    assert got["greeting"] == "fail"
    assert got["empathy"] == "fail"
    assert got["courtesy"] == "fail"  # blame on the delivery company
    assert got["privacy"] == "fail"  # the full phone number
    assert got["commitments"] == "fail"  # 尽快 without a time
    assert got["emotion_trend"] == "fail"  # angry to the end
    assert set(review.failed_critical) == {"courtesy", "privacy"}
    assert review.agent_id == agent.id and review.scorecard_version == 0
    privacy = next(r for r in review.results if r["criterion"] == "privacy")
    assert privacy["evidence"][0]["text"] == "13812345678"
    assert privacy["explanation"]
    db.refresh(ticket)
    assert ticket.qa_due_at is None
    assert sweep(db, engine) == 0  # reviewed once


def test_a_good_conversation_scores_high_and_a_reopened_case_is_reviewed_again(db, engine):
    ticket = factories.make_ticket(db, text="请问退款多久到账？")
    say(db, ticket, "customer", "请问退款多久到账？", 0, "anxious")
    say(
        db,
        ticket,
        "agent",
        "您好，理解您着急的心情。退款会退回您付款的账户，预计3个工作日内到账。",
        1,
    )
    say(db, ticket, "customer", "好的，谢谢", 2, "satisfied")
    say(db, ticket, "agent", "不客气，请问还有其他可以帮您的吗？", 3)
    db.add(Survey(ticket_id=ticket.id, customer_id=ticket.customer_id, channel="web",
                  kinds=["csat"], csat=5, answered_at=utcnow(), comment=""))  # fmt: skip
    db.commit()
    resolve(db, ticket)
    sweep(db, engine)
    first = db.scalar(select(QaReview).where(QaReview.ticket_id == ticket.id))
    got = verdicts(first)
    assert {got[c] for c in ("greeting", "closing", "empathy", "courtesy", "jargon",
                                  "commitments", "privacy", "emotion_trend", "survey")} == {"pass"}  # fmt: skip
    assert got["loop_complete"] == "na"
    assert first.total == 100.0 and first.failed_critical == []

    db.refresh(ticket)  # as the job left it
    loop.move_status(ticket, TicketStatus.OPEN, now=utcnow())
    db.commit()
    assert ticket.qa_due_at is None
    resolve(db, ticket)
    assert sweep(db, engine) == 1
    assert len(db.scalars(select(QaReview).where(QaReview.ticket_id == ticket.id)).all()) == 2


def test_a_complaint_is_owed_its_review_when_archived_not_when_resolved(db):
    ticket = factories.make_ticket(db, text="质量太差了，我要投诉")
    ticket.case_path = CasePath.COMPLAINT.value
    db.commit()
    resolve(db, ticket)
    assert ticket.qa_due_at is None  # resolved mid-loop: the review waits for the archive
    now = utcnow()
    was = qa_queue.before(ticket)
    ticket.stage = Stage.ARCHIVED.value
    qa_queue.follow(ticket, was, now)
    assert ticket.qa_due_at == now
    ticket.qa_due_at = None
    qa_queue.follow(ticket, qa_queue.before(ticket), now)  # still archived: nothing new owed
    assert ticket.qa_due_at is None
