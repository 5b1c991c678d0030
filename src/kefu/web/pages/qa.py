"""``/qa`` (质检): the automatic quality reviews of resolved cases (services/qa/reviewing.py).

Supervisors and admins get the reviewers' queue — disputed reviews first, then the riskiest —
and how often their judgements kept each criterion's automatic verdict; agents and specialists
get their own reviews, their average over 30 days and the criteria they miss most.

``/qa/reviews/{id}`` shows one review: the conversation with each criterion's evidence marked,
the verdicts, and the forms — a supervisor confirms or corrects every criterion with a comment,
the reviewed agent disputes the review. Anyone else gets the not-found page.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from kefu.api.deps import DB
from kefu.api.schemas import Id
from kefu.db.base import utcnow
from kefu.db.models import QaReview
from kefu.domain.qa.criteria import Verdict
from kefu.errors import KefuError
from kefu.services.actors import Actor
from kefu.services.analytics import quality
from kefu.services.events import unit_of_work as events
from kefu.services.qa import reviewing, reviews
from kefu.web import i18n
from kefu.web.guard import PageActor
from kefu.web.labels import N_
from kefu.web.pages import qa_view as v
from kefu.web.pages.admin.forms import FORM, Errors, Posted, text
from kefu.web.render import page

router = APIRouter(include_in_schema=False)

QUALITY_DAYS = 30  # the period of an agent's average on /qa
VERDICTS = [verdict.value for verdict in Verdict]
# The service's messages for a refused form (services/qa/reviewing.py), to be translated.
SERVICE_MESSAGES = (N_("请填写理由。"), N_("未知的质检项。"), N_("结论只能是 pass、fail 或 na。"))


@router.get("/qa")
def qa_page(request: Request, db: DB, actor: PageActor) -> Response:
    if actor.sees_all_tickets:
        queue = reviewing.review_queue(db, actor)
        context: dict[str, Any] = {
            "reviewer": True,
            "rows": v.rows(db, queue),
            "agreement": reviewing.agreement_by_criterion(db, actor),
        }
    else:
        agent_id = actor.user_id or 0
        now = utcnow()
        figures = quality.for_agent(
            db, actor, agent_id, start=now - timedelta(days=QUALITY_DAYS), end=now
        )
        own = reviewing.agent_reviews(db, actor, agent_id)
        context = {"reviewer": False, "rows": v.rows(db, own), "quality": figures,
                   "days": QUALITY_DAYS}  # fmt: skip
    return page(request, "workspace/qa/index.html", context)


def _review_page(
    request: Request, db: Session, actor: Actor, review: QaReview, *,
    form: str = "", errors: Errors | None = None, values: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:  # fmt: skip
    messages = reviews.conversation_messages(db, review.ticket_id)
    disputes = reviewing.disputes_of(db, review)
    judgement = reviewing.judgement_of(db, review)
    people = [review.agent_id, *(d.answered_by_id for d in disputes)]
    names = v.names_of(db, [*people, judgement.reviewer_id if judgement else None])
    context = {
        "review": review,
        "agent": names.get(review.agent_id or 0, ""),
        "names": names,
        "turns": v.conversation(db, review, messages),
        "results": review.results,
        "verdict_of": v.verdict_of,
        "verdicts": VERDICTS,
        "judgement": judgement,
        "disputes": disputes,
        "open_dispute": any(d.open for d in disputes),
        "may_judge": actor.sees_all_tickets and not actor.is_integration,
        "may_dispute": actor.user_id is not None and review.agent_id == actor.user_id,
        "failed_form": form,  # the form the errors are of: judge or dispute
        "errors": errors or {},
        "values": values or {},
        "done": request.query_params.get("done"),
    }
    return page(request, "workspace/qa/review.html", context, status=status)


@router.get("/qa/reviews/{review_id}")
def review_page(review_id: Id, request: Request, db: DB, actor: PageActor) -> Response:
    return _review_page(request, db, actor, reviewing.load_review(db, actor, review_id))


def _refused(error: KefuError, language: str) -> Errors:
    """A refusal of the service as the form shows it: a field's own message next to it (422),
    anything else above the form (409: a dispute is already open)."""
    details = error.details if isinstance(error.details, dict) else {}
    if error.status_code == 422 and details:
        return {str(k): i18n.gettext(language, str(m)) for k, m in details.items()}
    return {FORM: error.message(language)}


def _attempt(db: Session, change: Any, language: str) -> tuple[bool, Errors, int]:
    try:
        with events.savepoint(db):
            change()
        return True, {}, 200
    except KefuError as e:
        if e.status_code not in (409, 422):
            raise  # not the form's fault: the error page says it
        return False, _refused(e, language), e.status_code


@router.post("/qa/reviews/{review_id}/judgement")
def judge(review_id: Id, request: Request, db: DB, actor: PageActor, form: Posted) -> Response:
    review = reviewing.load_review(db, actor, review_id)
    verdicts = {
        r["criterion"]: text(form, f"verdict_{r['criterion']}")
        for r in review.results
        if text(form, f"verdict_{r['criterion']}")
    }
    comment = text(form, "comment")
    done, errors, status = _attempt(
        db, lambda: reviewing.do_judge(db, actor, review, verdicts, comment),
        i18n.language_of(request),
    )  # fmt: skip
    if done:
        return RedirectResponse(f"/qa/reviews/{review.id}?done=judged", status_code=303)
    values = {"comment": comment, "verdicts": verdicts}
    return _review_page(request, db, actor, review, form="judge", errors=errors, values=values,
                        status=status)  # fmt: skip


@router.post("/qa/reviews/{review_id}/dispute")
def dispute(review_id: Id, request: Request, db: DB, actor: PageActor, form: Posted) -> Response:
    review = reviewing.load_review(db, actor, review_id)
    criterion = text(form, "criterion") or None
    comment = text(form, "comment")
    done, errors, status = _attempt(
        db, lambda: reviewing.do_dispute(db, actor, review, criterion, comment),
        i18n.language_of(request),
    )  # fmt: skip
    if done:
        return RedirectResponse(f"/qa/reviews/{review.id}?done=disputed", status_code=303)
    values = {"criterion": criterion or "", "comment": comment}
    return _review_page(request, db, actor, review, form="dispute", errors=errors, values=values,
                        status=status)  # fmt: skip
