"""What the quality-review pages (``/qa``) show, read from a review's stored results: the rows of
a list, and a review's conversation with each criterion's evidence marked in the messages'
text (escaped piece by piece: a message is never read as markup)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import Customer, Message, QaReview, User
from kefu.domain.qa.criteria import Verdict
from kefu.domain.tickets import Direction
from kefu.web.render import marked


def verdict_of(result: dict[str, Any]) -> str:
    """The verdict that stands: the reviewer's where there is one, else the automatic one."""
    return str(result.get("reviewed") or result["verdict"])


def failed(review: QaReview) -> list[str]:
    return [r["criterion"] for r in review.results if verdict_of(r) == Verdict.FAIL.value]


def names_of(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    query = select(User.id, User.name).where(User.id.in_(wanted))
    return {user_id: name for user_id, name in session.execute(query)}


def _customer_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    query = select(Customer.id, Customer.name).where(Customer.id.in_(wanted))
    return {customer_id: name for customer_id, name in session.execute(query)}


@dataclass(frozen=True)
class Row:
    """A review in a list."""

    review: QaReview
    agent: str
    failed: list[str]


def rows(session: Session, reviews: list[QaReview]) -> list[Row]:
    names = names_of(session, (r.agent_id for r in reviews))
    return [Row(r, names.get(r.agent_id or 0, ""), failed(r)) for r in reviews]


@dataclass
class Turn:
    """A message of the reviewed conversation, its evidence marked."""

    message: Message
    customer: bool
    author: str  # the agent's or the customer's name, when known
    body: Markup
    cited: list[tuple[str, str]] = field(default_factory=list)  # (criterion, verdict)


Span = tuple[int, int, str]  # start, end, the mark's class


def conversation(session: Session, review: QaReview, messages: list[Message]) -> list[Turn]:
    """The messages in order, each with the spans the review cites marked and the criteria
    that cite it (a failed criterion's spans in ``mark.qa-fail``, the others' in ``mark``)."""
    by_id = {m.id: i for i, m in enumerate(messages)}
    spans: dict[int, list[Span]] = {}
    cited: dict[int, list[tuple[str, str]]] = {}
    for result in review.results:
        verdict = verdict_of(result)
        css = "qa-fail" if verdict == Verdict.FAIL.value else ""
        for evidence in result.get("evidence") or ():
            index = by_id.get(evidence.get("message_id") or 0, evidence.get("turn"))
            if not isinstance(index, int) or not 0 <= index < len(messages):
                continue
            start, end = int(evidence.get("start") or 0), int(evidence.get("end") or 0)
            spans.setdefault(index, []).append((start, end, css))
            if (result["criterion"], verdict) not in cited.get(index, []):
                cited.setdefault(index, []).append((result["criterion"], verdict))
    names = names_of(session, (m.author_user_id for m in messages))
    customers = _customer_names(session, (m.author_customer_id for m in messages))
    return [
        Turn(message=m, customer=m.direction == Direction.INBOUND.value,
             author=names.get(m.author_user_id or 0, "")
             or customers.get(m.author_customer_id or 0, ""),
             body=highlighted(m.body_text, spans.get(i, [])), cited=cited.get(i, []))
        for i, m in enumerate(messages)
    ]  # fmt: skip


def highlighted(text: str, spans: list[Span]) -> Markup:
    """``text`` escaped with each span in a ``<mark>``; where spans overlap, a failed
    criterion's wins, then the shorter (a finding like 跟我们没关系 over a whole message
    cited for a missing greeting: the message's chips name that one)."""
    chosen: list[Span] = []
    for span in sorted(spans, key=lambda s: (s[2] != "qa-fail", s[1] - s[0], s[0])):
        if span[0] < span[1] and not any(span[0] < c[1] and c[0] < span[1] for c in chosen):
            chosen.append(span)
    pieces, at = [], 0
    for start, end, css in sorted(chosen):
        end = min(end, len(text))
        if start >= end:
            continue
        pieces += [marked(text[at:start], ()), marked(text[start:end], [(0, end - start)], css)]
        at = end
    pieces.append(marked(text[at:], ()))
    return Markup("").join(pieces)
