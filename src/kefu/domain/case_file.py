"""A case as the ticket stores it: the loop's columns and the ``case_file`` its steps recorded.

``case_of`` reads a ``Case`` (domain/case_loop.py) from anything with a ticket's case columns
— an ORM ticket or a row of intake's set-based queries — and ``case_file_of`` writes back the
data the steps recorded, so both writers keep one format. No I/O.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from kefu.domain.case_loop import Case, CasePath, Compensation, Stage, Waiting
from kefu.domain.roles import Role


class CaseColumns(Protocol):
    @property
    def case_path(self) -> str: ...
    @property
    def stage(self) -> str: ...
    @property
    def case_file(self) -> dict[str, Any] | None: ...
    @property
    def category(self) -> str | None: ...
    @property
    def waiting_on(self) -> str | None: ...
    @property
    def resolved_at(self) -> datetime | None: ...
    @property
    def reopen_count(self) -> int: ...


def case_of(ticket: CaseColumns) -> Case:
    f = ticket.case_file or {}
    comp = f.get("compensation")
    compensation = (
        None
        if not comp
        else Compensation(
            comp["kind"],
            int(comp["amount"]),
            Role(comp["proposed_by"]),
            Role(comp["approved_by"]) if comp.get("approved_by") else None,
            Role(comp["rejected_by"]) if comp.get("rejected_by") else None,
            comp.get("comment", ""),
        )
    )
    waiting = Waiting(ticket.waiting_on) if ticket.waiting_on else None
    # Intake's batch ends a wait by its column alone: a due time left in the file is an old one.
    until = f.get("waiting_until") if waiting is not None else None
    return Case(
        path=CasePath(ticket.case_path),
        stage=Stage(ticket.stage),
        facts=f.get("facts", ""),
        category=ticket.category if f.get("category_confirmed") else None,
        root_cause=f.get("root_cause", ""),
        five_whys=tuple(f.get("five_whys", ())),
        solution=f.get("solution", ""),
        compensation=compensation,
        customer_confirmed=bool(f.get("customer_confirmed")),
        rating=f.get("rating"),
        lesson=f.get("lesson", ""),
        waiting=waiting,
        waiting_until=datetime.fromisoformat(until) if until else None,
        resolved_at=ticket.resolved_at,
        reopen_count=ticket.reopen_count,
    )


def case_file_of(case: Case) -> dict[str, Any]:
    comp = case.compensation
    data: dict[str, Any] = {
        "facts": case.facts,
        "category_confirmed": case.category is not None,
        "root_cause": case.root_cause,
        "five_whys": list(case.five_whys),
        "solution": case.solution,
        "compensation": None
        if comp is None
        else {
            "kind": comp.kind,
            "amount": comp.amount,
            "proposed_by": comp.proposed_by.value,
            "approved_by": comp.approved_by.value if comp.approved_by else None,
            **({"rejected_by": comp.rejected_by.value} if comp.rejected_by else {}),
            **({"comment": comp.comment} if comp.comment else {}),
        },
        "customer_confirmed": case.customer_confirmed,
        "rating": case.rating,
        "lesson": case.lesson,
        "waiting_until": case.waiting_until.isoformat() if case.waiting_until else None,
    }
    return {k: v for k, v in data.items() if v not in ("", None, [], False)}
