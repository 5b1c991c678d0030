"""/api/v1/tickets/{id}/case, /steps, /timeline, /links, /merge: the closed loop of a case.

A complaint moves 受理登记 → 分析评估 → 处理解决 → 跟进反馈 → 总结归档 by steps, each recorded
with who took it; other cases take the short path open → resolved → closed. A step the case
is not ready for answers 409 with what is missing (403 when compensation is above the
caller's authority).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import AwareDatetime, Field, StringConstraints

from kefu.api.access import STAFF, allow
from kefu.api.deps import DB, AppSettings, CurrentActor
from kefu.api.schemas import ERRORS, Id, In, Out
from kefu.api.tickets import TicketPublic
from kefu.domain import case_loop as cw
from kefu.domain.roles import Role
from kefu.domain.triage_labels import Category
from kefu.services.cases import links as case_links
from kefu.services.cases import loop as cases
from kefu.services.cases import tickets as tickets_service
from kefu.services.cases import timeline
from kefu.services.sla import clocks as sla_service

router = APIRouter(prefix="/tickets", tags=["cases"], responses=ERRORS)

Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
Optional = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Why = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class CompensationIn(In):
    kind: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)] = (
        Field(description="coupon, refund, cash, gift, points, …")
    )
    amount_yuan: Annotated[Decimal, Field(ge=0, le=1_000_000, decimal_places=2)]


class RecordFacts(In):
    action: Literal["record_facts"]
    facts: Note


class RecordAnalysis(In):
    action: Literal["record_analysis"]
    category: Category
    root_cause: Optional = ""
    five_whys: list[Why] = Field(
        default_factory=list,
        max_length=7,
        description="the 5-Why chain; its last answer is the root cause",
    )


class ProposeSolution(In):
    action: Literal["propose_solution"]
    solution: Note
    compensation: CompensationIn | None = None


class Approve(In):
    action: Literal["approve"]
    comment: Optional = ""


class Reject(In):
    action: Literal["reject"]
    comment: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class RecordFeedback(In):
    action: Literal["record_feedback"]
    confirmed: bool
    rating: Annotated[int, Field(ge=1, le=5)] | None = None


class Advance(In):
    action: Literal["advance"]


class Archive(In):
    action: Literal["archive"]
    lesson: Note


class SendBack(In):
    action: Literal["send_back"]


class Wait(In):
    action: Literal["wait"]
    on: cw.Waiting
    until: AwareDatetime | None = Field(
        default=None, description="when the wait should end (the agreed answer time)"
    )


class Resume(In):
    action: Literal["resume"]


class Reopen(In):
    action: Literal["reopen"]


Step = Annotated[
    RecordFacts
    | RecordAnalysis
    | ProposeSolution
    | Approve
    | Reject
    | RecordFeedback
    | Advance
    | Archive
    | SendBack
    | Wait
    | Resume
    | Reopen,
    Field(discriminator="action"),
]


def _action(step: Any) -> cw.Action:
    match step:
        case RecordFacts():
            return cw.RecordFacts(step.facts)
        case RecordAnalysis():
            return cw.RecordAnalysis(step.category.value, step.root_cause, tuple(step.five_whys))
        case ProposeSolution():
            comp = step.compensation
            return cw.ProposeSolution(
                step.solution,
                None
                if comp is None
                else cw.Compensation(comp.kind, int(comp.amount_yuan * 100), Role.AGENT),
            )  # the proposer is set from the caller
        case Approve():
            return cw.Approve(Role.AGENT, step.comment)  # the approver is the caller
        case Reject():
            return cw.Reject(Role.AGENT, step.comment)
        case RecordFeedback():
            return cw.RecordFeedback(step.confirmed, step.rating)
        case Archive():
            return cw.Archive(step.lesson)
        case Wait():
            return cw.Wait(step.on, step.until)
        case Advance():
            return cw.Advance()
        case SendBack():
            return cw.SendBack()
        case Resume():
            return cw.Resume()
    return cw.Reopen()


class CompensationOut(Out):
    kind: str
    amount_yuan: str
    proposed_by: str
    approved_by: str | None
    rejected_by: str | None = Field(description="who turned it down; the solution needs revising")
    comment: str = Field(description="the approver's words with the decision")
    approval_needed_by: str | None = Field(
        description="the lowest role that may approve it; null once settled or rejected"
    )


class CaseView(Out):
    path: str = Field(description="complaint | short")
    stage: str
    stage_name: str
    stages: list[str]
    status: str
    waiting_on: str | None
    waiting_until: datetime | None = Field(description="when the wait should end, if agreed")
    facts: str
    category: str | None = Field(
        description="the confirmed category (null until the analysis step)"
    )
    root_cause: str
    five_whys: list[str]
    solution: str
    compensation: CompensationOut | None
    customer_confirmed: bool
    rating: int | None
    lesson: str
    missing: list[str] = Field(description="what the stage still needs before the case may move on")
    reopen_count: int
    repeat_complaint: bool
    merged_into_id: int | None


class StepResult(CaseView):
    step: str = Field(
        description="what was recorded: stage:analyzing, wait:customer, approved:supervisor, …"
    )


class TicketTimelineEntry(Out):
    at: datetime
    kind: str = Field(description="message | event")
    action: str
    summary: str
    actor_type: str
    actor_id: int | None
    actor_name: str | None = Field(
        default=None, description="who it was, for people: a name, 集成「名称」 or 系统"
    )
    message_id: int | None = None
    delivery_state: str | None = Field(
        default=None, description="a reply's delivery: queued, sent, delivered, read, failed, dead"
    )
    data: dict[str, Any] | None = None


class LinkOut(Out):
    ticket_id: int
    kind: str
    direction: str = Field(
        description="earlier: this case points at it; later: it points at this case"
    )
    created_at: datetime


class LinkCreate(In):
    ticket_id: Id


class TicketMergeBody(In):
    into_ticket_id: Id = Field(description="the case to keep; this ticket is the duplicate")


@router.get(
    "/{ticket_id}/case",
    response_model=CaseView,
    summary="Where the case stands in its loop",
    **allow(*STAFF),
)
def get_case(ticket_id: Id, db: DB, actor: CurrentActor, settings: AppSettings) -> CaseView:
    ticket = tickets_service.access_ticket(db, actor, ticket_id)
    return CaseView(**cases.view(ticket, cases.policy_of(settings)))


@router.post(
    "/{ticket_id}/steps",
    response_model=StepResult,
    summary="Take one step of the case's loop",
    **allow(*STAFF),
)
def take_step(
    ticket_id: Id, body: Step, db: DB, actor: CurrentActor, settings: AppSettings
) -> StepResult:
    ticket = tickets_service.access_ticket(db, actor, ticket_id, for_update=True)
    policy = cases.policy_of(settings)
    window = cases.intake_rules(settings).repeat_window
    outcome = cases.do_step(db, actor, ticket, _action(body), policy, repeat_window=window)
    return StepResult(**cases.view(ticket, policy), step=outcome.step)


@router.get(
    "/{ticket_id}/timeline",
    response_model=list[TicketTimelineEntry],
    summary="Messages and events, in order",
    **allow(*STAFF),
)
def get_timeline(ticket_id: Id, db: DB, actor: CurrentActor) -> list[TicketTimelineEntry]:
    ticket = tickets_service.access_ticket(db, actor, ticket_id)
    return [TicketTimelineEntry(**entry) for entry in timeline.of_ticket(db, ticket)]


@router.get(
    "/{ticket_id}/links",
    response_model=list[LinkOut],
    summary="Linked cases (follow-ups, repeats, merges)",
    **allow(*STAFF),
)
def list_links(ticket_id: Id, db: DB, actor: CurrentActor) -> list[LinkOut]:
    ticket = tickets_service.access_ticket(db, actor, ticket_id)
    return [LinkOut.model_validate(link) for link in case_links.links_of(db, actor, ticket)]


@router.post(
    "/{ticket_id}/links",
    response_model=LinkOut,
    status_code=201,
    summary="Link a related case",
    **allow(*STAFF),
)
def create_link(ticket_id: Id, body: LinkCreate, db: DB, actor: CurrentActor) -> LinkOut:
    ticket = tickets_service.access_ticket(db, actor, ticket_id)
    return LinkOut.model_validate(case_links.do_link(db, actor, ticket, body.ticket_id))


@router.post(
    "/{ticket_id}/merge",
    response_model=TicketPublic,
    summary="Merge this duplicate into another case",
    **allow(*STAFF),
)
def merge_ticket(ticket_id: Id, body: TicketMergeBody, db: DB, actor: CurrentActor) -> TicketPublic:
    kept = case_links.do_merge(db, actor, ticket_id, body.into_ticket_id)
    return TicketPublic.of(kept, sla_service.Policies.load(db))
