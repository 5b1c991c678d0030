"""The case panel's forms read into steps of the closed loop (domain/case_loop.py).

Each reader takes the posted fields and returns the step, or raises ``FormInvalid`` with a
message per field (in Chinese, marked for the catalogue; the page translates them). The
limits are the API's (api/cases.py): what one accepts, the other does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from kefu.domain import case_loop as cw
from kefu.domain.roles import Role
from kefu.domain.tickets import TicketStatus
from kefu.domain.triage_labels import Category
from kefu.web.labels import N_
from kefu.web.render import LOCAL_ZONE

Fields = Mapping[str, str]
WHYS = 5  # the 5-Why chain: up to five answers
NOTE_LENGTH = 5000
WHY_LENGTH = 500
CAUSE_LENGTH = 2000
MAX_YUAN = Decimal(1_000_000)
# What a compensation may be, as the form offers it.
COMPENSATION_KINDS = {
    "coupon": N_("优惠券"),
    "refund": N_("退款"),
    "cash": N_("现金补偿"),
    "gift": N_("赠品"),
    "points": N_("积分"),
}
STATUS_TARGETS = (TicketStatus.RESOLVED, TicketStatus.CLOSED, TicketStatus.OPEN)


class FormInvalid(Exception):
    """Fields that do not pass, each with what is wrong (an untranslated message)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class StatusChange:
    """The short path's plain status change (resolve, close, reopen)."""

    target: TicketStatus


Step = cw.Action | StatusChange


def _text(fields: Fields, name: str, limit: int, *, required: str | None = None) -> str:
    value = fields.get(name, "").strip()
    if required and not value:
        raise FormInvalid({name: required})
    if len(value) > limit:
        raise FormInvalid({name: N_("内容太长了，请精简")})
    return value


def read_facts(fields: Fields) -> cw.Action:
    return cw.RecordFacts(
        _text(fields, "facts", NOTE_LENGTH, required=N_("请写下客户反映的关键信息"))
    )


def read_analysis(fields: Fields) -> cw.Action:
    errors: dict[str, str] = {}
    category = fields.get("category", "")
    if category not in {c.value for c in Category}:
        errors["category"] = N_("请选择问题类别")
    whys = []
    for n in range(1, WHYS + 1):
        answer = fields.get(f"why_{n}", "").strip()
        if len(answer) > WHY_LENGTH:
            errors[f"why_{n}"] = N_("内容太长了，请精简")
        whys.append(answer)
    cause = fields.get("root_cause", "").strip()
    if len(cause) > CAUSE_LENGTH:
        errors["root_cause"] = N_("内容太长了，请精简")
    if errors:
        raise FormInvalid(errors)
    return cw.RecordAnalysis(category, cause, tuple(w for w in whys if w))


def yuan_to_fen(value: str) -> int:
    """An amount typed in yuan (up to two decimals) in fen."""
    try:
        amount = Decimal(value.strip().replace(",", "").replace("，", "").lstrip("¥￥"))
    except InvalidOperation as e:
        raise FormInvalid({"amount": N_("请填写金额，例如 50 或 19.90")}) from e
    if not amount.is_finite() or amount < 0 or amount > MAX_YUAN:
        raise FormInvalid({"amount": N_("金额须在 0 到 1,000,000 元之间")})
    if amount != amount.quantize(Decimal("0.01")):
        raise FormInvalid({"amount": N_("金额最多两位小数")})
    return int(amount * 100)


def read_solution(fields: Fields) -> cw.Action:
    solution = _text(fields, "solution", NOTE_LENGTH, required=N_("请写下解决方案"))
    kind = fields.get("kind", "")
    if not kind:
        if fields.get("amount", "").strip():
            raise FormInvalid({"kind": N_("请选择补偿方式")})
        return cw.ProposeSolution(solution)
    if kind not in COMPENSATION_KINDS:
        raise FormInvalid({"kind": N_("请选择补偿方式")})
    if not fields.get("amount", "").strip():
        raise FormInvalid({"amount": N_("请填写金额，例如 50 或 19.90")})
    # The proposer is the person posting: the service sets it (services/cases/loop.py).
    return cw.ProposeSolution(
        solution, cw.Compensation(kind, yuan_to_fen(fields["amount"]), Role.AGENT)
    )


def read_decision(fields: Fields) -> cw.Action:
    comment = _text(fields, "comment", CAUSE_LENGTH)
    decision = fields.get("decision", "")
    if decision == "approve":
        return cw.Approve(Role.AGENT, comment)  # the approver is the person posting
    if decision == "reject":
        if not comment:
            raise FormInvalid({"comment": N_("驳回时请写明理由")})
        return cw.Reject(Role.AGENT, comment)
    raise FormInvalid({"decision": N_("请选择批准或驳回")})


def read_feedback(fields: Fields) -> cw.Action:
    confirmed = fields.get("confirmed") == "yes"
    rating_text = fields.get("rating", "")
    if rating_text not in ("", "1", "2", "3", "4", "5"):
        raise FormInvalid({"rating": N_("评分为 1 到 5 星")})
    rating = int(rating_text) if rating_text else None
    if not confirmed and rating is None:
        raise FormInvalid({"rating": N_("请勾选客户已确认，或记下客户的评分")})
    return cw.RecordFeedback(confirmed, rating)


def read_lesson(fields: Fields) -> cw.Action:
    return cw.Archive(_text(fields, "lesson", NOTE_LENGTH, required=N_("请写下经验总结")))


def read_wait(fields: Fields) -> cw.Action:
    try:
        on = cw.Waiting(fields.get("on", ""))
    except ValueError as e:
        raise FormInvalid({"on": N_("请选择在等谁")}) from e
    typed = fields.get("until", "").strip()
    if not typed:
        return cw.Wait(on)
    try:
        local = datetime.fromisoformat(typed)
    except ValueError as e:
        raise FormInvalid({"until": N_("请填写有效的日期和时间")}) from e
    if local.tzinfo is None:  # the form's time is kefu's local time (北京时间)
        local = local.replace(tzinfo=LOCAL_ZONE)
    return cw.Wait(on, local.astimezone(UTC))


def read_status(fields: Fields) -> Step:
    try:
        target = TicketStatus(fields.get("status", ""))
    except ValueError as e:
        raise FormInvalid({"status": N_("请选择状态")}) from e
    if target not in STATUS_TARGETS:
        raise FormInvalid({"status": N_("请选择状态")})
    return StatusChange(target)


def _fixed(action: cw.Action) -> Callable[[Fields], Step]:
    return lambda _fields: action


# The steps the panel posts to /tickets/{id}/case/<name>, and the form each one reads.
READERS: dict[str, Callable[[Fields], Step]] = {
    "facts": read_facts,
    "analysis": read_analysis,
    "solution": read_solution,
    "approval": read_decision,
    "advance": _fixed(cw.Advance()),
    "feedback": read_feedback,
    "send-back": _fixed(cw.SendBack()),
    "archive": read_lesson,
    "wait": read_wait,
    "resume": _fixed(cw.Resume()),
    "reopen": _fixed(cw.Reopen()),
    "status": read_status,
}
# Which field a missing piece of data belongs to, to mark it in the form.
MISSING_FIELDS = {
    "facts": "facts",
    "category": "category",
    "root_cause": "root_cause",
    "solution": "solution",
    "revised_solution": "solution",
    "confirmation_or_rating": "rating",
    "lesson": "lesson",
    "comment": "comment",
}
