"""The supervisor board (主管看板): queues by group, agents and their load, crises, SLA risks
and approvals waiting; reassign a case and set an agent's status from it. Supervisors and
admins only (a 403 page for the others).

The page is made of parts that reload themselves (``/board/queues``, ``/board/agents``,
``/board/crises``, ``/board/sla``) when board.js hears of a change (ticket events, presence),
at most every two seconds; ``?group=`` narrows the agents and the lists to one group. A change
made from the board answers 204 with an ``HX-Trigger`` that reloads the parts and says what was
done (a plain form post without htmx is sent back to the board).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from kefu.api.deps import DB, AppSettings
from kefu.api.schemas import Id
from kefu.db.base import utcnow
from kefu.domain.chat_offers import AgentStatus
from kefu.errors import KefuError
from kefu.services.actors import Actor
from kefu.services.cases import tickets
from kefu.services.cases.routing import HANDLER_ROLES
from kefu.services.staff import agent_status, board
from kefu.services.staff import directory as staff
from kefu.settings import Settings
from kefu.web import i18n
from kefu.web.guard import SupervisorActor
from kefu.web.labels import label
from kefu.web.render import page

router = APIRouter(include_in_schema=False)

CHANGED_EVENT = "kefu-board-changed"  # board.js reloads the parts and shows the message
STATUSES = [s.value for s in AgentStatus]
MAX_ID = 2**62  # as the API's ids (api/schemas.py)


def _context(
    request: Request, db: Session, actor: Actor, settings: Settings, group: int | None, *parts: str
) -> dict[str, Any]:
    """What the named parts show (all of them for the page)."""
    now = utcnow()
    language = i18n.language_of(request)
    context: dict[str, Any] = {
        "now": now,
        "group": group,
        "query": f"?group={group}" if group is not None else "",
        "groups": board.groups(db, actor, only=group),
        "status_names": _names(language, "agent_status", STATUSES),
        "role_names": _names(language, "role", HANDLER_ROLES),
        "chat_cap": settings.chat_cap,
        "list_size": board.LIST_SIZE,
        "crisis_size": board.CRISIS_LIST_SIZE,
    }
    if "queues" in parts or "agents" in parts:
        team = board.team(db, actor, now)
        context["queues"] = team.queues
        context["totals"] = team.totals()
        context["agents"] = team.of_group(group) if group is not None else team.handlers
    if "crises" in parts:
        context["crises"] = board.crises(db, actor, group_id=group)
    if "sla" in parts:
        context["at_risk"] = board.sla_risks(db, actor, now, breached=False, group_id=group)
        context["breached"] = board.sla_risks(db, actor, now, breached=True, group_id=group)
    return context


PARTS = ("queues", "agents", "crises", "sla")


@router.get("/board")
def board_page(
    request: Request, db: DB, actor: SupervisorActor, settings: AppSettings, group: Id | None = None
) -> Response:
    return page(
        request, "workspace/board/board.html", _context(request, db, actor, settings, group, *PARTS)
    )


@router.get("/board/{part}")
def board_part(
    request: Request,
    part: str,
    db: DB,
    actor: SupervisorActor,
    settings: AppSettings,
    group: Id | None = None,
) -> Response:
    """One part of the board, as it reloads itself."""
    if part not in PARTS:
        raise KefuError("not_found", status_code=404, what="page")
    context = _context(request, db, actor, settings, group, part)
    return page(request, f"workspace/board/_{part}.html", context)


def _names(language: str, kind: str, codes: Sequence[str]) -> dict[str, str]:
    """The codes' names in the reader's language, looked up once for a whole table."""
    return {code: i18n.gettext(language, label(kind, code)) for code in codes}


def _done(request: Request, message: str) -> Response:
    """A change from the board went through: htmx reloads the parts; a plain form goes back."""
    if not request.headers.get("hx-request"):
        return RedirectResponse("/board", status_code=303)
    trigger = json.dumps({CHANGED_EVENT: {"message": message}})  # ASCII: a header's value
    return Response(status_code=204, headers={"HX-Trigger": trigger, "Cache-Control": "no-store"})


@router.get("/board/tickets/{ticket_id}/assign")
def reassign_form(request: Request, ticket_id: Id, db: DB, actor: SupervisorActor) -> Response:
    """The reassign control of a ticket's row, loaded when wanted: its group's handlers with
    their status and load now."""
    ticket = tickets.access_ticket(db, actor, ticket_id)
    team = board.team(db, actor, utcnow())
    context = {"ticket": ticket, "choices": team.of_group(ticket.group_id)}
    return page(request, "workspace/board/_assign_form.html", context)


@router.post("/board/tickets/{ticket_id}/assign")
def reassign(
    request: Request,
    ticket_id: Id,
    db: DB,
    actor: SupervisorActor,
    assignee_id: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Give a case to someone (``assignee_id`` empty: back to its group's queue)."""
    chosen = _optional_id(assignee_id)
    ticket = tickets.access_ticket(db, actor, ticket_id, for_update=True)
    tickets.do_assign(db, actor, ticket, assignee_id=chosen)
    language = i18n.language_of(request)
    if chosen is None:
        message = i18n.gettext(language, "工单 #%(id)s 已退回队列") % {"id": ticket.id}
    else:
        name = staff.get_user(db, chosen).name
        message = i18n.gettext(language, "工单 #%(id)s 已分配给 %(name)s") % {
            "id": ticket.id,
            "name": name,
        }
    return _done(request, message)


@router.post("/board/agents/{user_id}/status")
def set_agent_status(
    request: Request,
    user_id: Id,
    db: DB,
    actor: SupervisorActor,
    status: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Set an agent's status (在线 / 忙碌 / 小休 / 离线): who may set whose is the service's rule."""
    try:
        chosen = AgentStatus(status)
    except ValueError as e:
        raise KefuError("validation_error", status_code=422, details={"field": "status"}) from e
    user = staff.get_user(db, user_id)
    agent_status.do_set_status(db, actor, user, chosen, utcnow())
    language = i18n.language_of(request)
    message = i18n.gettext(language, "%(name)s 的状态已设为%(status)s") % {
        "name": user.name,
        "status": i18n.gettext(language, label("agent_status", chosen.value)),
    }
    return _done(request, message)


def _optional_id(value: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= MAX_ID:
        raise KefuError("validation_error", status_code=422, details={"field": "assignee_id"})
    return number
