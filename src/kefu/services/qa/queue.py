"""When a case owes a quality review (``tickets.qa_due_at``): set by the one writer of a case's
status (``cases.loop.write_state``) in its transaction — a short case when it is resolved (again
after a reopen), a complaint when it is archived, its loop done — and cleared by the review job.
Only a column of the ticket being written: the resolve path locks nothing more and waits for
nothing (the review runs after the commit, in the job)."""

from __future__ import annotations

from datetime import datetime

from kefu.db.models import Ticket
from kefu.domain.case_loop import CasePath, Stage

Before = tuple[datetime | None, str | None]  # the ticket's resolved_at and stage before the write


def before(ticket: Ticket) -> Before:
    return ticket.resolved_at, ticket.stage


def follow(ticket: Ticket, was: Before, now: datetime) -> None:
    resolved_before, stage_before = was
    if ticket.case_path == CasePath.COMPLAINT.value:
        archived = Stage.ARCHIVED.value
        if ticket.stage == archived and stage_before != archived:
            ticket.qa_due_at = now
    elif ticket.resolved_at is not None and ticket.resolved_at != resolved_before:
        ticket.qa_due_at = now
