"""Use records (话术使用记录): every reply sent with a script — which script and version, on which
case and message, by whom, and whether it went out as the script read or edited first. The
effectiveness of each script against satisfaction is computed from these once surveys exist."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import Message, Script, ScriptUse, Ticket, User
from kefu.domain.scripts.placeholders import fill
from kefu.services import audit
from kefu.services.actors import Actor
from kefu.services.scripts.library import access_script
from kefu.services.scripts.suggest import fill_for_ticket
from kefu.services.scripts.values import values_for

_NOISE = re.compile(r"[\s，。！？、；：,.!?;:~～]+")


def _plain(text: str) -> str:
    return _NOISE.sub("", text)


@dataclass(frozen=True)
class PendingUse:
    """A script a reply is about to be sent with, and the texts that count as "as is"."""

    script: Script
    expected: tuple[str, ...]


def prepare_use(session: Session, actor: Actor, ticket: Ticket, script_id: int) -> PendingUse:
    """Before the reply is written: the script (404 if the actor may not use it, so nothing is
    sent) and what the reply reads if sent unchanged — composed for this case as the composer
    offered it, or the script's own text filled."""
    script = access_script(session, actor, script_id)
    agent = session.get(User, actor.user_id) if actor.user_id else None
    composed, _ = fill_for_ticket(session, script, ticket, agent=agent)
    own = fill(script.body, values_for(session, ticket, agent=agent)).text
    return PendingUse(script, (_plain(composed), _plain(own)))


def sent_as_is(pending: PendingUse, text: str) -> bool:
    """Whether ``text`` carries the script unchanged: the composed reply, or the script's own
    text filled, inside it (punctuation and spacing aside)."""
    sent = _plain(text)
    composed, own = pending.expected
    return sent == composed or (bool(own) and own in sent)


def record_use(
    session: Session, actor: Actor, ticket: Ticket, message: Message, pending: PendingUse
) -> ScriptUse:
    """Record that ``message`` was sent with the prepared script."""
    script = pending.script
    use = ScriptUse(
        script_id=script.id,
        version=script.current_version,
        ticket_id=ticket.id,
        message_id=message.id,
        agent_id=actor.user_id,
        as_is=sent_as_is(pending, message.body_text),
    )
    session.add(use)
    session.flush()
    audit.record(session, actor, "script.use", object_type="script", object_id=script.id,
                 ticket_id=ticket.id, after={"message_id": message.id, "as_is": use.as_is,
                                             "version": use.version})  # fmt: skip
    return use


def uses_of(session: Session, script: Script) -> list[ScriptUse]:
    return list(
        session.scalars(
            select(ScriptUse).where(ScriptUse.script_id == script.id).order_by(ScriptUse.id)
        )
    )
