"""An entry promoted to a knowledge-base article draft (supervisors and admins).

``promote_to_article`` builds the draft from the entry; ``do_promote`` writes it into the
knowledge base as a draft article (services/kb), for an editor to finish and publish.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from kefu.db.models import CaseEntry, KbArticle
from kefu.domain.case_library import ArticleDraft, article_draft
from kefu.errors import PermissionDenied
from kefu.services.actors import Actor
from kefu.services.kb import articles

COMPENSATION_NAMES = {"coupon": "优惠券", "refund": "退款", "cash": "现金补偿", "gift": "赠品"}


def require_supervisor(actor: Actor) -> None:
    if actor.is_integration or not actor.sees_all_tickets:
        raise PermissionDenied()


def compensation_amount_text(entry: CaseEntry) -> str:
    """The compensation's amount as people read it (¥20.00); empty without one."""
    if entry.compensation_kind is None or entry.compensation_amount is None:
        return ""
    return f"¥{entry.compensation_amount / 100:.2f}"


def compensation_text(entry: CaseEntry) -> str:
    amount = compensation_amount_text(entry)
    if not amount or entry.compensation_kind is None:
        return ""
    return f"{COMPENSATION_NAMES.get(entry.compensation_kind, entry.compensation_kind)} {amount}"


def promote_to_article(session: Session, entry: CaseEntry, *, actor: Actor) -> ArticleDraft:
    """The knowledge-base draft an entry makes: its problem, cause, solution, compensation and
    lesson as sections, its category, its tags and 案例库. Writes nothing."""
    require_supervisor(actor)
    return article_draft(
        title=entry.title,
        problem=entry.problem,
        root_cause=entry.root_cause,
        solution=entry.solution,
        compensation=compensation_text(entry),
        lesson=entry.lesson,
        category=entry.category,
        tags=entry.tags or [],
    )


def do_promote(session: Session, entry: CaseEntry, *, actor: Actor) -> KbArticle:
    """The entry as a new draft article of the knowledge base (version 1, audited)."""
    draft = promote_to_article(session, entry, actor=actor)
    return articles.do_create_article(
        session,
        actor,
        title=draft.title,
        body=draft.body,
        category=draft.category,
        tags=list(draft.tags),
        status="draft",
        note=f"案例库 #{entry.id}",
    )
