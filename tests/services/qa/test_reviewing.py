"""Supervisors judge the automatic reviews and the agreement figures follow; agents see their own
and dispute one; the queue puts disputes and the riskiest first."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kefu.db.models import AuditEvent, QaCorrection, QaDispute
from kefu.errors import Conflict, KefuError, NotFound, PermissionDenied
from kefu.services.actors import Actor
from kefu.services.analytics import quality
from kefu.services.qa import reviewing
from tests import factories
from tests.services.qa.cases import rude_case, verdicts


def _actor(user) -> Actor:
    return Actor(user_id=user.id, role=user.role, via="test", name=user.name)


def test_a_correction_moves_the_agreement_of_its_criterion_and_the_score(db, engine):
    agent = factories.make_user(db)
    boss = _actor(factories.make_user(db, role="supervisor"))
    review = rude_case(db, engine, agent)
    assert verdicts(review)["courtesy"] == "fail" and review.failed_critical == ["courtesy"]
    before = reviewing.agreement_by_criterion(db, boss)
    assert before["courtesy"].pairs == 0 and before["courtesy"].agreement is None

    reviewing.do_judge(db, boss, review, {}, "同意")  # confirmed as it stands
    db.commit()
    confirmed = reviewing.agreement_by_criterion(db, boss)
    assert confirmed["courtesy"].pairs == 1 and confirmed["courtesy"].agreement == 1.0
    assert review.status == "confirmed"

    other = rude_case(db, engine, agent)
    reviewing.do_judge(db, boss, other, {"courtesy": "pass"}, "说明了原因，不算推责")
    db.commit()
    corrected = reviewing.agreement_by_criterion(db, boss)
    assert corrected["courtesy"].pairs == 2 and corrected["courtesy"].agreement == 0.5
    assert corrected["greeting"].agreement == 1.0  # its verdicts stood twice
    assert other.status == "corrected" and other.failed_critical == []  # rescored
    assert other.total is not None and review.total is not None and other.total > review.total
    rows = db.scalars(select(QaCorrection).where(QaCorrection.review_id == other.id)).all()
    assert {(r.criterion, r.automatic, r.verdict) for r in rows} >= {("courtesy", "fail", "pass")}
    event = db.scalar(
        select(AuditEvent).where(AuditEvent.action == "qa.judge").order_by(AuditEvent.id.desc())
    )
    assert event.after["comment"] == "说明了原因，不算推责"

    reviewing.do_judge(db, boss, other, {}, "再看一遍，原结论对")  # judged again: replaced
    db.commit()
    again = reviewing.agreement_by_criterion(db, boss)
    assert again["courtesy"].pairs == 2 and again["courtesy"].agreement == 1.0


def test_an_agent_disputes_their_review_and_a_supervisor_answers(db, engine):
    agent_user = factories.make_user(db)
    agent, boss = _actor(agent_user), _actor(factories.make_user(db, role="supervisor"))
    stranger = _actor(factories.make_user(db))
    review = rude_case(db, engine, agent_user)
    assert reviewing.load_review(db, agent, review.id) is review
    with pytest.raises(NotFound):
        reviewing.load_review(db, stranger, review.id)  # another agent's: not even seen
    with pytest.raises(PermissionDenied):
        reviewing.do_dispute(db, stranger, review, None, "不是我的")
    with pytest.raises(KefuError) as empty:
        reviewing.do_dispute(db, agent, review, "courtesy", "  ")
    assert empty.value.status_code == 422
    with pytest.raises(KefuError) as unknown:
        reviewing.do_dispute(db, agent, review, "tone", "理由")
    assert unknown.value.details == {"criterion": "未知的质检项。"}

    reviewing.do_dispute(db, agent, review, "courtesy", "我是在说明快递的情况，并没有推责")
    db.commit()
    assert review.status == "disputed"
    with pytest.raises(Conflict):
        reviewing.do_dispute(db, agent, review, None, "再申诉一次")
    with pytest.raises(PermissionDenied):
        reviewing.do_judge(db, agent, review, {"courtesy": "pass"}, "我自己改")
    calm = rude_case(db, engine, factories.make_user(db))
    queue = reviewing.review_queue(db, boss)
    assert [r.id for r in queue][:2] == [review.id, calm.id]  # the dispute first

    reviewing.do_judge(db, boss, review, {"courtesy": "pass"}, "申诉成立")
    db.commit()
    dispute = db.scalar(select(QaDispute).where(QaDispute.review_id == review.id))
    assert not dispute.open and dispute.answer == "申诉成立"
    assert review.id not in [r.id for r in reviewing.review_queue(db, boss)]
    mine = quality.for_agent(db, agent, agent_user.id, start=review.resolved_at,
                             end=review.resolved_at.replace(year=2100))  # fmt: skip
    assert mine.reviews == 1 and ("courtesy", 1) not in mine.missed  # the supervisor's verdict
    with pytest.raises(PermissionDenied):
        quality.for_agent(db, stranger, agent_user.id, start=review.resolved_at,
                          end=review.resolved_at.replace(year=2100))  # fmt: skip
    with pytest.raises(PermissionDenied):
        reviewing.agent_reviews(db, stranger, agent_user.id)


def test_verdicts_are_validated_naming_the_criterion(db, engine):
    boss = _actor(factories.make_user(db, role="supervisor"))
    review = rude_case(db, engine, factories.make_user(db))
    for given, field in (({"tone": "pass"}, "tone"), ({"greeting": "good"}, "greeting")):
        with pytest.raises(KefuError) as refused:
            reviewing.do_judge(db, boss, review, given, "")
        assert field in refused.value.details
    assert review.status == "automatic"
