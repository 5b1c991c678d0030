"""What people do with the automatic reviews: supervisors work a queue ordered by risk and
confirm or correct each criterion's verdict with a comment (``qa_corrections``: the agreement
figures per criterion come from these); an agent sees their own reviews and disputes one, which
puts it at the head of the queue until a supervisor judges it again."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session, aliased

from kefu.db.base import utcnow
from kefu.db.models import QaCorrection, QaDispute, QaReview
from kefu.domain.qa.agreement import Agreement, agreement
from kefu.domain.qa.criteria import Criterion, CriterionResult, Verdict
from kefu.domain.qa.scorecard import score
from kefu.errors import Conflict, KefuError, NotFound, PermissionDenied
from kefu.services import audit
from kefu.services.actors import Actor, require_supervisor
from kefu.services.qa.reviews import scorecard_version

MAX_COMMENT = 1000
UNJUDGED = ("automatic", "disputed")


def load_review(session: Session, actor: Actor, review_id: int) -> QaReview:
    """A review its reader may see: supervisors and admins any, an agent only their own."""
    review = session.get(QaReview, review_id)
    if review is None or actor.is_integration:
        raise NotFound("质检记录")
    if not actor.sees_all_tickets and review.agent_id != actor.user_id:
        raise NotFound("质检记录")
    return review


def _comment(text: str | None, *, required: bool) -> str:
    comment = (text or "").strip()
    if required and not comment:
        raise KefuError("validation_error", status_code=422, details={"comment": "请填写理由。"})
    if len(comment) > MAX_COMMENT:
        raise KefuError("validation_error", status_code=422,
                        details={"comment": f"最多 {MAX_COMMENT} 个字。"})  # fmt: skip
    return comment


def _verdicts(review: QaReview, given: Mapping[str, str]) -> dict[str, str]:
    known = {r["criterion"]: r["verdict"] for r in review.results}
    for name, verdict in given.items():
        if name not in known:
            raise KefuError("validation_error", status_code=422,
                            details={name: "未知的质检项。"})  # fmt: skip
        if verdict not in {v.value for v in Verdict}:
            raise KefuError("validation_error", status_code=422,
                            details={name: "结论只能是 pass、fail 或 na。"})  # fmt: skip
    return {name: given.get(name, automatic) for name, automatic in known.items()}


def do_judge(
    session: Session, actor: Actor, review: QaReview, verdicts: Mapping[str, str], comment: str
) -> QaReview:
    """A supervisor's judgement of the whole review: every criterion confirmed or corrected
    (those not named keep the automatic verdict), the total recomputed from the reviewer's
    verdicts, an open dispute answered. Judging again replaces the previous judgement."""
    require_supervisor(actor)
    text = _comment(comment, required=False)
    judged = _verdicts(review, verdicts)
    session.execute(delete(QaCorrection).where(QaCorrection.review_id == review.id))
    results: list[dict[str, Any]] = []
    for result in review.results:
        name = result["criterion"]
        session.add(QaCorrection(review_id=review.id, criterion=name, automatic=result["verdict"],
                                 verdict=judged[name], comment=text,
                                 reviewer_id=actor.user_id))  # fmt: skip
        results.append({**result, "reviewed": judged[name]})
    changed = any(judged[r["criterion"]] != r["verdict"] for r in review.results)
    card = scorecard_version(session, review.scorecard_version)
    final = score([CriterionResult(Criterion(n), Verdict(v), "") for n, v in judged.items()], card)
    before = {"status": review.status, "total": review.total}
    review.results = results
    review.total, review.failed_critical = final.total, [c.value for c in final.failed_critical]
    review.status = "corrected" if changed else "confirmed"
    now = utcnow()
    for dispute in session.scalars(
        select(QaDispute).where(QaDispute.review_id == review.id, QaDispute.open.is_(True))
    ):
        dispute.open, dispute.answer = False, text or ("已更正" if changed else "维持原结论")
        dispute.answered_by_id, dispute.answered_at = actor.user_id, now
    audit.record(session, actor, "qa.judge", object_type="qa_review", object_id=review.id,
                 ticket_id=review.ticket_id, before=before,
                 after={"status": review.status, "total": review.total,
                        "verdicts": judged, "comment": text})  # fmt: skip
    session.flush()
    return review


def do_dispute(
    session: Session, actor: Actor, review: QaReview, criterion: str | None, comment: str
) -> QaDispute:
    """The reviewed agent disputes the review (or one criterion of it), with a reason."""
    if actor.user_id is None or review.agent_id != actor.user_id:
        raise PermissionDenied()
    text = _comment(comment, required=True)
    if criterion is not None and criterion not in {r["criterion"] for r in review.results}:
        raise KefuError("validation_error", status_code=422,
                        details={"criterion": "未知的质检项。"})  # fmt: skip
    open_one = session.scalar(
        select(QaDispute.id).where(QaDispute.review_id == review.id, QaDispute.open.is_(True))
    )
    if open_one is not None:
        raise Conflict("qa_dispute_open")
    dispute = QaDispute(review_id=review.id, criterion=criterion, agent_id=actor.user_id,
                        comment=text, open=True, created_at=utcnow())  # fmt: skip
    session.add(dispute)
    review.status = "disputed"
    session.flush()
    audit.record(session, actor, "qa.dispute", object_type="qa_review", object_id=review.id,
                 ticket_id=review.ticket_id,
                 after={"criterion": criterion, "comment": text})  # fmt: skip
    return dispute


def disputes_of(session: Session, review: QaReview) -> list[QaDispute]:
    """A review's disputes, oldest first, with the supervisors' answers (a loaded review)."""
    query = select(QaDispute).where(QaDispute.review_id == review.id).order_by(QaDispute.id)
    return list(session.scalars(query))


def judgement_of(session: Session, review: QaReview) -> QaCorrection | None:
    """The supervisor's judgement standing on a review (one of its rows: who, the comment,
    when), or None while it is unjudged."""
    query = select(QaCorrection).where(QaCorrection.review_id == review.id).limit(1)
    return session.scalar(query.order_by(QaCorrection.id))


def review_queue(session: Session, actor: Actor, *, limit: int = 50) -> list[QaReview]:
    """The reviews waiting for a supervisor, each case's newest only: disputed first, then the
    riskiest (low scores, critical failures, crises, customers left upset), newest first."""
    require_supervisor(actor)
    out: list[QaReview] = []
    for status in ("disputed", "automatic"):  # each along its (status, risk, id) index
        query = (
            select(QaReview)
            .where(QaReview.status == status, ~superseded(QaReview))
            .order_by(QaReview.risk.desc(), QaReview.id.desc())
            .limit(limit - len(out))
        )
        out += session.scalars(query)
        if len(out) >= limit:
            break
    return out


def superseded(review: type[QaReview]) -> Any:
    """A review of a case reviewed again since (after a reopen): the newer one stands."""
    newer = aliased(QaReview)
    return exists().where(newer.ticket_id == review.ticket_id, newer.id > review.id)


def agent_reviews(
    session: Session, actor: Actor, agent_id: int, *, limit: int = 50
) -> list[QaReview]:
    if not actor.sees_all_tickets and actor.user_id != agent_id:
        raise PermissionDenied()
    query = (
        select(QaReview)
        .where(QaReview.agent_id == agent_id)
        .order_by(QaReview.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def agreement_by_criterion(
    session: Session, actor: Actor, *, since: datetime | None = None
) -> dict[str, Agreement]:
    """Per criterion, how often the automatic verdict stood when a supervisor judged it."""
    require_supervisor(actor)
    query = select(QaCorrection.criterion, QaCorrection.automatic, QaCorrection.verdict)
    if since is not None:
        query = query.where(QaCorrection.created_at >= since)
    pairs: dict[str, list[tuple[str, str]]] = {c.value: [] for c in Criterion}
    for name, automatic, verdict in session.execute(query):
        pairs.setdefault(name, []).append((automatic, verdict))
    return {name: agreement(listed) for name, listed in pairs.items()}
