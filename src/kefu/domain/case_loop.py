"""The closed loop of a case: a pure state machine with the data each step needs.

Complaints take the long path of the reference documents:

    受理登记 registered → 分析评估 analyzing → 处理解决 resolving → 跟进反馈 following_up → 总结归档 archived

and may only move on once the step's data is there: the key facts at registration; the
confirmed category and a root cause (a 5-Why chain may supply it) before resolving; the
solution, and an approval for compensation above the actor's authority (分级授权), before
following up; the customer's confirmation or rating before archiving; a lesson-learned note to
archive. An approver may also reject a compensation, with a reason; the proposer then revises
the solution (a new proposal needs its own approval). Inquiries, suggestions and praise take the short path open → resolved → closed.

Any open stage may wait on the customer or a third party (the SLA clocks pause), until an
agreed time if one was set (shown as a countdown; the wait ends when someone resumes it). A customer
who writes again within the reopen window after the case was resolved reopens it (counted;
during 跟进反馈 the message is the customer's feedback); after the window the caller opens a
new case linked to this one (``Outcome.new_linked_case``). Staff may reopen a case too
(``Reopen``, counted). ``status_actions`` maps a plain status change (an agent setting
"pending" or "resolved") onto these actions; a complaint cannot skip its steps that way.

``apply(case, action, at)`` returns the next case and the step to record, or raises
``StepRefused`` with a code and the missing data. Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from kefu.domain.roles import Role
from kefu.domain.tickets import TicketStatus


class CasePath(StrEnum):
    COMPLAINT = "complaint"
    SHORT = "short"


class Stage(StrEnum):
    REGISTERED = "registered"  # 受理登记
    ANALYSING = "analyzing"  # 分析评估
    RESOLVING = "resolving"  # 处理解决
    FOLLOWING_UP = "following_up"  # 跟进反馈
    ARCHIVED = "archived"  # 总结归档
    OPEN = "open"
    RESOLVED = "resolved"
    CLOSED = "closed"


STAGE_NAMES_ZH = {
    Stage.REGISTERED: "受理登记",
    Stage.ANALYSING: "分析评估",
    Stage.RESOLVING: "处理解决",
    Stage.FOLLOWING_UP: "跟进反馈",
    Stage.ARCHIVED: "总结归档",
    Stage.OPEN: "处理中",
    Stage.RESOLVED: "已解决",
    Stage.CLOSED: "已关闭",
}
COMPLAINT_STAGES = (
    Stage.REGISTERED,
    Stage.ANALYSING,
    Stage.RESOLVING,
    Stage.FOLLOWING_UP,
    Stage.ARCHIVED,
)
SHORT_STAGES = (Stage.OPEN, Stage.RESOLVED, Stage.CLOSED)
# Stages after the problem was solved: a customer message here is a reopen (or a new case).
DONE_STAGES = frozenset({Stage.FOLLOWING_UP, Stage.ARCHIVED, Stage.RESOLVED, Stage.CLOSED})
FINAL_STAGES = frozenset({Stage.ARCHIVED, Stage.CLOSED})


class Waiting(StrEnum):
    CUSTOMER = "customer"
    THIRD_PARTY = "third_party"  # a courier, a supplier, a bank


@dataclass(frozen=True)
class AuthorityLimits:
    """The compensation (in fen, 1/100 yuan) each role may grant alone; above it, approval by a
    role whose limit covers it. Admins have no limit."""

    agent: int = 50_00
    specialist: int = 200_00
    supervisor: int = 1_000_00

    def limit(self, role: Role) -> int | None:
        return {
            Role.AGENT: self.agent,
            Role.SPECIALIST: self.specialist,
            Role.SUPERVISOR: self.supervisor,
        }.get(role)

    def may_grant(self, role: Role, amount: int) -> bool:
        limit = self.limit(role)
        return limit is None or amount <= limit

    def approver_for(self, amount: int) -> Role:
        """The lowest role that may grant ``amount`` alone."""
        for role in (Role.AGENT, Role.SPECIALIST, Role.SUPERVISOR):
            if self.may_grant(role, amount):
                return role
        return Role.ADMIN


@dataclass(frozen=True)
class Compensation:
    kind: str  # "coupon", "refund", "cash", "gift", …
    amount: int  # fen
    proposed_by: Role
    approved_by: Role | None = None  # set when the proposer's authority did not cover it
    rejected_by: Role | None = None  # an approver said no: the solution must be revised
    comment: str = ""  # the approver's words with the decision

    def settled(self, limits: AuthorityLimits) -> bool:
        """Granted within the proposer's authority, or approved by a role whose authority covers it."""
        if limits.may_grant(self.proposed_by, self.amount):
            return True
        return self.approved_by is not None and limits.may_grant(self.approved_by, self.amount)

    def awaiting_approval(self, limits: AuthorityLimits) -> bool:
        """Above the proposer's authority, and nobody has approved or rejected it yet."""
        return not self.settled(limits) and self.rejected_by is None


@dataclass(frozen=True)
class Case:
    path: CasePath
    stage: Stage
    facts: str = ""
    category: str | None = None
    root_cause: str = ""
    five_whys: tuple[str, ...] = ()
    solution: str = ""
    compensation: Compensation | None = None
    customer_confirmed: bool = False
    rating: int | None = None  # 1-5
    lesson: str = ""
    waiting: Waiting | None = None
    waiting_until: datetime | None = None  # the agreed time the wait should end by
    resolved_at: datetime | None = None
    reopen_count: int = 0

    def __post_init__(self) -> None:
        if self.waiting is None and self.waiting_until is not None:
            object.__setattr__(self, "waiting_until", None)  # a due time belongs to a wait

    @property
    def status(self) -> TicketStatus:
        """The coarse status lists and SLA clocks read."""
        if self.waiting is not None:
            return TicketStatus.PENDING
        if self.stage in FINAL_STAGES:
            return TicketStatus.CLOSED
        if self.stage in DONE_STAGES:
            return TicketStatus.RESOLVED
        return TicketStatus.OPEN

    @property
    def cause(self) -> str:
        """The root cause: as written, or the last answer of the 5-Why chain."""
        return self.root_cause or (self.five_whys[-1] if self.five_whys else "")


# Actions -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordFacts:
    facts: str


@dataclass(frozen=True)
class RecordAnalysis:
    category: str
    root_cause: str = ""
    five_whys: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProposeSolution:
    solution: str
    compensation: Compensation | None = None


@dataclass(frozen=True)
class Approve:
    by: Role
    comment: str = ""


@dataclass(frozen=True)
class Reject:
    """An approver turns down a compensation above the proposer's authority, saying why."""

    by: Role
    comment: str


@dataclass(frozen=True)
class RecordFeedback:
    confirmed: bool
    rating: int | None = None


@dataclass(frozen=True)
class Advance:
    """Move to the next stage of the path."""


@dataclass(frozen=True)
class Archive:
    lesson: str


@dataclass(frozen=True)
class SendBack:
    """Follow-up found the customer not satisfied: back to 处理解决 (the feedback is cleared)."""


@dataclass(frozen=True)
class Wait:
    on: Waiting
    until: datetime | None = None  # when the customer or third party promised an answer


@dataclass(frozen=True)
class Resume:
    pass


@dataclass(frozen=True)
class CustomerWrote:
    pass


@dataclass(frozen=True)
class Reopen:
    """Staff reopen a resolved or closed case (counted like a customer's reopen)."""


Action = (
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
    | CustomerWrote
    | Reopen
)


@dataclass(frozen=True)
class Policy:
    limits: AuthorityLimits = field(default_factory=AuthorityLimits)
    reopen_window: timedelta = timedelta(days=7)


@dataclass(frozen=True)
class Outcome:
    case: Case
    step: str  # what to record on the timeline: "stage:analyzing", "wait:customer", "reopened", …
    new_linked_case: bool = (
        False  # the customer wrote after the reopen window: open a new case, linked
    )


class StepRefused(ValueError):
    def __init__(
        self, code: str, message: str, missing: tuple[str, ...] = (), needs: Role | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.missing = missing
        self.needs = needs  # above_authority: the lowest role that may approve


def open_case(path: CasePath, facts: str = "") -> Case:
    return Case(
        path, Stage.REGISTERED if path == CasePath.COMPLAINT else Stage.OPEN, facts=facts.strip()
    )


def path_for_intent(intent: str | None) -> CasePath:
    """Complaints take the long path; every other intent the short one."""
    return CasePath.COMPLAINT if intent == "complaint" else CasePath.SHORT


def missing_to_leave(case: Case, policy: Policy) -> tuple[str, ...]:
    """What the current stage still needs before the case may move on."""
    if case.stage == Stage.REGISTERED:
        return () if case.facts else ("facts",)
    if case.stage == Stage.ANALYSING:
        return tuple(
            name for name, ok in (("category", case.category), ("root_cause", case.cause)) if not ok
        )
    if case.stage in (Stage.RESOLVING, Stage.OPEN) and case.path == CasePath.COMPLAINT:
        missing = [] if case.solution else ["solution"]
        comp = case.compensation
        if comp is not None and comp.rejected_by is not None:
            missing.append("revised_solution")
        elif comp is not None and not comp.settled(policy.limits):
            missing.append("approval")
        return tuple(missing)
    if case.stage == Stage.FOLLOWING_UP:
        return (
            ()
            if case.customer_confirmed or case.rating is not None
            else ("confirmation_or_rating",)
        )
    return ()


def apply(case: Case, action: Action, at: datetime, policy: Policy | None = None) -> Outcome:
    policy = policy or Policy()
    if isinstance(action, CustomerWrote):
        return _customer_wrote(case, at, policy)
    if isinstance(action, Reopen):
        if case.stage not in DONE_STAGES:
            raise StepRefused("not_resolved", "only a resolved or closed case can be reopened")
        return _reopened(case)
    if case.stage in FINAL_STAGES:
        raise StepRefused(
            "case_archived", f"the case is {case.stage.value}; only a customer message reopens it"
        )
    match action:
        case Wait(on=on, until=until):
            if case.stage in DONE_STAGES:
                raise StepRefused("not_waitable", "a resolved case does not wait")
            if until is not None and until <= at:
                raise StepRefused("bad_wait_until", "a wait ends in the future")
            due = until.astimezone(UTC) if until is not None else None
            return Outcome(replace(case, waiting=on, waiting_until=due), f"wait:{on.value}")
        case Resume():
            return Outcome(replace(case, waiting=None), "resume")
        case RecordFacts(facts=facts):
            if not facts.strip():
                raise StepRefused("missing_data", "the key facts are empty", ("facts",))
            return Outcome(replace(case, facts=facts.strip()), "facts")
        case RecordAnalysis(category=category, root_cause=root_cause, five_whys=whys):
            _require_stage(case, Stage.ANALYSING, Stage.REGISTERED)
            whys = tuple(w.strip() for w in whys if w.strip())
            return Outcome(
                replace(case, category=category, root_cause=root_cause.strip(), five_whys=whys),
                "analysis",
            )
        case ProposeSolution(solution=solution, compensation=compensation):
            _require_stage(case, Stage.RESOLVING, Stage.OPEN, Stage.ANALYSING)
            if compensation is not None and compensation.amount < 0:
                raise StepRefused("bad_compensation", "compensation cannot be negative")
            return Outcome(
                replace(case, solution=solution.strip(), compensation=compensation), "solution"
            )
        case Approve(by=role, comment=comment):
            comp = _decidable(case, role, policy, pending_only=False)
            decided = replace(comp, approved_by=role, rejected_by=None, comment=comment.strip())
            return Outcome(replace(case, compensation=decided), f"approved:{role.value}")
        case Reject(by=role, comment=comment):
            comp = _decidable(case, role, policy, pending_only=True)
            if not comment.strip():
                raise StepRefused("missing_data", "a rejection says why", ("comment",))
            decided = replace(comp, approved_by=None, rejected_by=role, comment=comment.strip())
            return Outcome(replace(case, compensation=decided), f"rejected:{role.value}")
        case RecordFeedback(confirmed=confirmed, rating=rating):
            _require_stage(case, Stage.FOLLOWING_UP, Stage.RESOLVED)
            if rating is not None and not 1 <= rating <= 5:
                raise StepRefused("bad_rating", "a rating is 1 to 5")
            return Outcome(replace(case, customer_confirmed=confirmed, rating=rating), "feedback")
        case SendBack():
            _require_stage(case, Stage.FOLLOWING_UP)
            return Outcome(
                replace(
                    case,
                    stage=Stage.RESOLVING,
                    customer_confirmed=False,
                    rating=None,
                    resolved_at=None,
                ),
                "stage:resolving",
            )
        case Archive(lesson=lesson):
            _require_stage(case, Stage.FOLLOWING_UP)
            missing = missing_to_leave(case, policy) + (() if lesson.strip() else ("lesson",))
            if missing:
                raise StepRefused("missing_data", "the case cannot be archived yet", missing)
            return Outcome(
                replace(case, stage=Stage.ARCHIVED, lesson=lesson.strip(), waiting=None),
                "stage:archived",
            )
        case Advance():
            return _advance(case, at, policy)
    raise StepRefused("unknown_action", f"unknown action {action!r}")


def _decidable(case: Case, role: Role, policy: Policy, *, pending_only: bool) -> Compensation:
    """The compensation ``role`` may decide on; a rejection needs one still awaiting approval."""
    comp = case.compensation
    if comp is None or (pending_only and not comp.awaiting_approval(policy.limits)):
        raise StepRefused("nothing_to_approve", "there is no compensation awaiting approval")
    if not policy.limits.may_grant(role, comp.amount):
        needed = policy.limits.approver_for(comp.amount)
        raise StepRefused(
            "above_authority",
            f"deciding on this compensation needs the role {needed.value}",
            needs=needed,
        )
    return comp


def _advance(case: Case, at: datetime, policy: Policy) -> Outcome:
    order = COMPLAINT_STAGES if case.path == CasePath.COMPLAINT else SHORT_STAGES
    index = order.index(case.stage)
    target = order[index + 1]
    if target == Stage.ARCHIVED:
        raise StepRefused(
            "missing_data", "archiving needs a lesson-learned note (Archive)", ("lesson",)
        )
    missing = missing_to_leave(case, policy)
    if missing:
        raise StepRefused("missing_data", f"{STAGE_NAMES_ZH[case.stage]} is not complete", missing)
    resolved_at = at if target in (Stage.FOLLOWING_UP, Stage.RESOLVED) else case.resolved_at
    waiting = None if target in DONE_STAGES else case.waiting
    return Outcome(
        replace(case, stage=target, resolved_at=resolved_at, waiting=waiting),
        f"stage:{target.value}",
    )


def _customer_wrote(case: Case, at: datetime, policy: Policy) -> Outcome:
    if case.stage not in DONE_STAGES:
        if case.waiting == Waiting.CUSTOMER:
            return Outcome(replace(case, waiting=None), "resume")
        return Outcome(case, "customer_message")
    if case.resolved_at is not None and at - case.resolved_at > policy.reopen_window:
        return Outcome(case, "new_linked_case", new_linked_case=True)
    if case.stage == Stage.FOLLOWING_UP:
        return Outcome(case, "customer_feedback")  # the follow-up is answered; an agent reads it
    return _reopened(case)


def _reopened(case: Case) -> Outcome:
    back = Stage.RESOLVING if case.path == CasePath.COMPLAINT else Stage.OPEN
    return Outcome(
        replace(
            case,
            stage=back,
            reopen_count=case.reopen_count + 1,
            resolved_at=None,
            customer_confirmed=False,
            rating=None,
            waiting=None,
        ),
        "reopened",
    )


def status_actions(case: Case, target: TicketStatus, policy: Policy) -> tuple[Action, ...]:
    """The actions a plain status change stands for (an agent choosing "pending" or "resolved").

    Waiting, resuming and reopening work on both paths; the short path may also be resolved or
    closed this way. A complaint is resolved and archived only through its steps, so asking for
    that raises ``StepRefused("steps_required")`` with what its stage still needs under the
    team's ``policy`` (its authority limits decide whether a compensation needs approval)."""
    current = case.status
    if target == current:
        return ()
    if target == TicketStatus.PENDING:
        return (Wait(Waiting.CUSTOMER),)
    if target == TicketStatus.OPEN:
        return (Resume(),) if current == TicketStatus.PENDING else (Reopen(),)
    if case.path == CasePath.COMPLAINT:
        raise StepRefused(
            "steps_required",
            "a complaint is resolved and archived through its steps",
            missing_to_leave(case, policy),
        )
    resume: tuple[Action, ...] = (Resume(),) if current == TicketStatus.PENDING else ()
    if target == TicketStatus.RESOLVED:
        return resume + (Advance(),)
    if target == TicketStatus.CLOSED:
        return resume + ((Advance(),) if case.stage == Stage.RESOLVED else (Advance(), Advance()))
    raise StepRefused("unknown_status", f"no case step sets the status {target.value}")


def with_intent(case: Case, intent: str | None) -> Case:
    """The case after its intent changed: a case still at its first stage takes the path of the new
    intent (a question that turns out to be a complaint is registered as one); later, the path stays."""
    path = path_for_intent(intent)
    if path == case.path or case.stage not in (Stage.REGISTERED, Stage.OPEN):
        return case
    return replace(
        case, path=path, stage=Stage.REGISTERED if path == CasePath.COMPLAINT else Stage.OPEN
    )


def _require_stage(case: Case, *stages: Stage) -> None:
    if case.stage not in stages:
        allowed = "、".join(STAGE_NAMES_ZH[s] for s in stages)
        raise StepRefused(
            "wrong_stage",
            f"this step belongs to {allowed}, the case is at {STAGE_NAMES_ZH[case.stage]}",
        )
