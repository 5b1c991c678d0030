"""Macros (宏): a script plus ticket actions in one click — status, tags added and removed,
priority, group, a step of the case loop. Each action goes through the service that owns it
(``do_update_ticket``, ``do_step``), with its checks, audit and events; the macro's use is
audited on the ticket too. Supervisors and admins manage macros; every staff member applies them
to the cases they may work on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import Macro, Script, Ticket, User
from kefu.domain import case_loop as cw
from kefu.domain.case_loop import Policy
from kefu.domain.scripts.placeholders import Placeholder
from kefu.errors import Conflict, KefuError, NotFound
from kefu.services import audit
from kefu.services.actors import Actor
from kefu.services.cases import loop
from kefu.services.cases import tickets as ticket_service
from kefu.services.scripts.library import access_script, require_manager
from kefu.services.scripts.suggest import fill_for_ticket

# The steps of the case loop a macro may take: those that need no data of their own.
STEPS: dict[str, Callable[[], cw.Action]] = {
    "advance": cw.Advance,
    "resume": cw.Resume,
    "reopen": cw.Reopen,
    "send_back": cw.SendBack,
    "wait_customer": lambda: cw.Wait(cw.Waiting.CUSTOMER),
    "wait_third_party": lambda: cw.Wait(cw.Waiting.THIRD_PARTY),
}
ACTION_KEYS = ("status", "priority", "group_id", "tags_add", "tags_remove", "case_step")


def access_macro(session: Session, macro_id: int) -> Macro:
    macro = session.get(Macro, macro_id)
    if macro is None:
        raise NotFound("macro")
    return macro


def list_macros(session: Session) -> list[Macro]:
    return list(session.scalars(select(Macro).order_by(Macro.name)))


def _checked(session: Session, actor: Actor, fields: dict[str, Any]) -> dict[str, Any]:
    actions = fields.get("actions") or {}
    unknown = set(actions) - set(ACTION_KEYS)
    if unknown:
        raise KefuError("invalid_macro", status_code=422, reason=", ".join(sorted(unknown)))
    if actions.get("case_step") and actions["case_step"] not in STEPS:
        raise KefuError("invalid_macro", status_code=422, reason=str(actions["case_step"]))
    if fields.get("script_id") is not None:
        access_script(session, actor, fields["script_id"])
    return fields


def _snapshot(macro: Macro) -> dict[str, Any]:
    return {"name": macro.name, "script_id": macro.script_id, "actions": macro.actions}


def _name_free(session: Session, name: str, macro_id: int | None = None) -> None:
    taken = session.scalar(select(Macro.id).where(Macro.name == name))
    if taken is not None and taken != macro_id:
        raise Conflict("name_taken", details={"field": "name"})


def do_create_macro(session: Session, actor: Actor, **fields: Any) -> Macro:
    require_manager(actor)
    _name_free(session, fields["name"])
    macro = Macro(**_checked(session, actor, fields), created_by_id=actor.user_id)
    session.add(macro)
    session.flush()
    audit.record(session, actor, "macro.create", object_type="macro", object_id=macro.id,
                 after=_snapshot(macro))  # fmt: skip
    return macro


def do_update_macro(session: Session, actor: Actor, macro: Macro, changes: dict[str, Any]) -> Macro:
    require_manager(actor)
    if "name" in changes:
        _name_free(session, changes["name"], macro.id)
    before = _snapshot(macro)
    for name, value in _checked(session, actor, changes).items():
        setattr(macro, name, value)
    old, new = audit.changed_fields(before, _snapshot(macro))
    if new:
        macro.updated_at = utcnow()
        session.flush()
        audit.record(session, actor, "macro.update", object_type="macro", object_id=macro.id,
                     before=old, after=new)  # fmt: skip
    return macro


def do_delete_macro(session: Session, actor: Actor, macro: Macro) -> None:
    require_manager(actor)
    audit.record(session, actor, "macro.delete", object_type="macro", object_id=macro.id,
                 before=_snapshot(macro))  # fmt: skip
    session.delete(macro)
    session.flush()


@dataclass(frozen=True)
class Applied:
    ticket: Ticket
    script: Script | None
    text: str
    unfilled: tuple[Placeholder, ...]


def _ticket_changes(ticket: Ticket, actions: dict[str, Any]) -> dict[str, Any]:
    changes = {k: actions[k] for k in ("status", "priority", "group_id") if actions.get(k)}
    add, remove = actions.get("tags_add") or [], set(actions.get("tags_remove") or [])
    if add or remove:
        names = [t.name for t in ticket.tags if t.name not in remove]
        changes["tags"] = names + [n for n in add if n not in names and n not in remove]
    return changes


def _usable_script(session: Session, actor: Actor, script_id: int | None) -> Script | None:
    """The macro's script if the actor may use it: one retired since leaves the actions working."""
    if script_id is None:
        return None
    try:
        return access_script(session, actor, script_id)
    except NotFound:
        return None


def do_apply_macro(
    session: Session,
    actor: Actor,
    ticket: Ticket,
    macro: Macro,
    policy: Policy,
    *,
    repeat_window: timedelta,
) -> Applied:
    """Apply ``macro`` to a ticket the caller has locked (``access_ticket(for_update=True)``);
    nothing is kept if any action is refused (the caller's transaction rolls back)."""
    actions = macro.actions or {}
    changes = _ticket_changes(ticket, actions)
    if changes:
        ticket_service.do_update_ticket(session, actor, ticket, changes, policy,
                                        repeat_window=repeat_window)  # fmt: skip
    step = actions.get("case_step")
    if step:
        loop.do_step(session, actor, ticket, STEPS[step](), policy, repeat_window=repeat_window)
    script = _usable_script(session, actor, macro.script_id)
    text, unfilled = "", tuple[Placeholder, ...]()
    if script is not None:
        agent = session.get(User, actor.user_id) if actor.user_id else None
        text, unfilled = fill_for_ticket(session, script, ticket, agent=agent)
    audit.record(session, actor, "macro.apply", object_type="macro", object_id=macro.id,
                 ticket_id=ticket.id, customer_id=ticket.customer_id,
                 after={"name": macro.name, **actions})  # fmt: skip
    return Applied(ticket, script, text, unfilled)
