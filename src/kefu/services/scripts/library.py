"""Scenarios and scripts: the tree, loaders, edits as new versions, proposals and review.

Supervisors and admins write the library; every edit of a script's title or text is a new
version with its author, time and note. Agents read published scripts and propose new ones from
their own sent replies; a supervisor publishes or rejects a proposal (with a note). Every change
is audited and renews the library's stamp, which in-memory indexes follow (index.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import Message, Script, ScriptLibraryStamp, ScriptScenario, ScriptVersion
from kefu.domain.scripts.ranking import Conditions
from kefu.domain.tickets import Direction
from kefu.errors import Conflict, KefuError, NotFound, PermissionDenied
from kefu.services import audit
from kefu.services.actors import SYSTEM, Actor
from kefu.services.cases.tickets import access_ticket

TYPES = ("inquiry", "complaint", "suggestion", "praise")  # 咨询 / 投诉 / 建议 / 表扬
INDUSTRIES = ("general", "retail", "food_delivery", "telecom", "finance", "travel", "education",
              "utilities")  # fmt: skip
ROLES = ("opener", "body", "closing")
STATUSES = ("draft", "proposed", "published", "retired")
SYSTEM_READER = SYSTEM  # reads every script (export, indexes)


def require_manager(actor: Actor) -> None:
    if not (actor.is_system or actor.sees_all_tickets):
        raise PermissionDenied()


def renew_stamp(session: Session) -> str:
    """Mark the library changed: every process rebuilds its index at its next suggestion."""
    stamp = uuid.uuid4().hex
    if not session.execute(update(ScriptLibraryStamp).values(stamp=stamp)).rowcount:  # type: ignore[attr-defined]
        session.add(ScriptLibraryStamp(id=1, stamp=stamp))
    return stamp


def current_stamp(session: Session) -> str:
    return session.scalar(select(ScriptLibraryStamp.stamp)) or ""


def snapshot(script: Script) -> dict[str, Any]:
    return {
        "scenario_id": script.scenario_id, "title": script.title, "body": script.body,
        "role": script.role, "conditions": script.conditions, "status": script.status,
        "version": script.current_version,
    }  # fmt: skip


def _audit(session: Session, actor: Actor, action: str, script: Script, **kw: Any) -> None:
    audit.record(session, actor, action, object_type="script", object_id=script.id, **kw)


# --- loading -------------------------------------------------------------------------------


def visible_statuses(actor: Actor) -> tuple[str, ...]:
    """Agents see the published library; managers every script."""
    return STATUSES if actor.is_system or actor.sees_all_tickets else ("published",)


def access_script(session: Session, actor: Actor, script_id: int) -> Script:
    """The only way to load a script for an actor; missing and not visible both 404."""
    script = session.get(Script, script_id)
    if script is None or script.status not in visible_statuses(actor):
        raise NotFound("script")
    return script


def access_scenario(session: Session, scenario_id: int) -> ScriptScenario:
    scenario = session.get(ScriptScenario, scenario_id)
    if scenario is None:
        raise NotFound("scenario")
    return scenario


@dataclass(frozen=True)
class Tree:
    scenarios: list[ScriptScenario]
    scripts: dict[int, list[Script]]  # scenario id → its scripts


def tree(session: Session, actor: Actor, *, industry: str | None = None) -> Tree:
    """Types → scenarios → scripts the actor may see (scenarios in type and position order)."""
    query = select(ScriptScenario).order_by(
        ScriptScenario.type, ScriptScenario.position, ScriptScenario.id
    )
    if industry:
        query = query.where(ScriptScenario.industry == industry)
    scenarios = list(session.scalars(query))
    scripts: dict[int, list[Script]] = {s.id: [] for s in scenarios}
    rows = session.scalars(
        select(Script)
        .where(Script.status.in_(visible_statuses(actor)), Script.scenario_id.in_(list(scripts)))
        .order_by(Script.role, Script.id)
    )
    for script in rows:
        scripts[script.scenario_id].append(script)
    return Tree(scenarios, scripts)


def versions(session: Session, script: Script) -> list[ScriptVersion]:
    return list(
        session.scalars(
            select(ScriptVersion)
            .where(ScriptVersion.script_id == script.id)
            .order_by(ScriptVersion.number.desc())
        )
    )


# --- writing -------------------------------------------------------------------------------


def do_create_scenario(
    session: Session, actor: Actor, *, type: str, name: str, industry: str, position: int = 0
) -> ScriptScenario:
    require_manager(actor)
    exists = session.scalar(
        select(ScriptScenario.id).where(
            ScriptScenario.type == type,
            ScriptScenario.industry == industry,
            ScriptScenario.name == name,
        )
    )
    if exists:
        raise Conflict("name_taken", details={"field": "name"})
    scenario = ScriptScenario(type=type, name=name, industry=industry, position=position)
    session.add(scenario)
    session.flush()
    audit.record(session, actor, "scenario.create", object_type="script_scenario",
                 object_id=scenario.id, after={"type": type, "name": name, "industry": industry})  # fmt: skip
    renew_stamp(session)
    return scenario


def _add_version(session: Session, script: Script, author_id: int | None, note: str) -> None:
    session.add(
        ScriptVersion(
            script_id=script.id,
            number=script.current_version,
            title=script.title,
            body=script.body,
            author_id=author_id,
            note=note,
            created_at=utcnow(),
        )
    )


def create_script(
    session: Session,
    actor: Actor,
    *,
    scenario: ScriptScenario,
    title: str,
    body: str,
    role: str = "body",
    conditions: dict[str, Any] | None = None,
    status: str = "published",
    key: str | None = None,
    note: str = "",
    proposed_from_message_id: int | None = None,
) -> Script:
    """A new script at version 1 (no permission check: callers check theirs)."""
    script = Script(
        scenario_id=scenario.id, key=key, title=title, body=body, role=role,
        conditions=Conditions.of(conditions).as_dict(), status=status, current_version=1,
        proposed_from_message_id=proposed_from_message_id, created_by_id=actor.user_id,
    )  # fmt: skip
    session.add(script)
    session.flush()
    _add_version(session, script, actor.user_id, note)
    _audit(session, actor, "script.create", script, after=snapshot(script))
    renew_stamp(session)
    return script


def do_create_script(session: Session, actor: Actor, *, scenario_id: int, **fields: Any) -> Script:
    require_manager(actor)
    return create_script(session, actor, scenario=access_scenario(session, scenario_id), **fields)


def do_update_script(
    session: Session, actor: Actor, script: Script, changes: dict[str, Any], *, note: str = ""
) -> Script:
    """Change a script; a new title or text is a new version (with ``note``)."""
    require_manager(actor)
    before = snapshot(script)
    if "scenario_id" in changes:
        access_scenario(session, changes["scenario_id"])
    if "conditions" in changes:
        changes = {**changes, "conditions": Conditions.of(changes["conditions"]).as_dict()}
    for name, value in changes.items():
        setattr(script, name, value)
    if script.title != before["title"] or script.body != before["body"]:
        script.current_version += 1
        _add_version(session, script, actor.user_id, note)
    old, new = audit.changed_fields(before, snapshot(script))
    if new:
        script.updated_at = utcnow()
        session.flush()
        _audit(session, actor, "script.update", script, before=old, after=new)
        renew_stamp(session)
    return script


def do_propose_from_reply(
    session: Session,
    actor: Actor,
    *,
    message_id: int,
    scenario_id: int,
    title: str,
    role: str = "body",
    conditions: dict[str, Any] | None = None,
    body: str | None = None,
    note: str = "",
) -> Script:
    """An agent proposes one of their own sent replies (its text, or ``body`` edited from it —
    names and numbers made placeholders) as a script; a supervisor reviews it."""
    message = session.get(Message, message_id)
    if message is None:
        raise NotFound("message")
    access_ticket(session, actor, message.ticket_id)  # the same 404 for a ticket out of reach
    if message.direction != Direction.OUTBOUND or message.author_user_id != actor.user_id:
        raise KefuError("not_own_reply", status_code=422, details={"field": "message_id"})
    return create_script(
        session, actor, scenario=access_scenario(session, scenario_id), title=title,
        body=body or message.body_text, role=role, conditions=conditions, status="proposed",
        note=note, proposed_from_message_id=message.id,
    )  # fmt: skip


def do_review(
    session: Session, actor: Actor, script: Script, *, publish: bool, note: str = ""
) -> Script:
    """A supervisor publishes a proposal, or rejects it (retired, with the reason)."""
    require_manager(actor)
    if script.status != "proposed":
        raise Conflict("not_proposed", current=script.status)
    before = snapshot(script)
    script.status = "published" if publish else "retired"
    script.review_note = note
    script.updated_at = utcnow()
    session.flush()
    _audit(session, actor, "script.publish" if publish else "script.reject", script,
           before={"status": before["status"]}, after={"status": script.status, "note": note})  # fmt: skip
    renew_stamp(session)
    return script
