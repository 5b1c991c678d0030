"""An admin sends a message again: a dead letter is queued anew (its attempts start over), a
failed one is tried now instead of after its back-off. Audited; the relays are woken."""

from __future__ import annotations

from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import OutboxEntry
from kefu.domain.delivery import DeliveryState
from kefu.errors import Conflict
from kefu.services import audit
from kefu.services.actors import Actor
from kefu.services.outbound import states, wake
from kefu.services.outbound.entries import access_entry

D = DeliveryState


def do_replay(session: Session, actor: Actor, outbox_id: int) -> OutboxEntry:
    entry = access_entry(session, actor, outbox_id, for_update=True)
    current = D(entry.state)
    if current not in (D.DEAD, D.FAILED):
        raise Conflict("not_retryable", state=current.value)
    now = utcnow()
    before = {"state": current.value, "attempts": entry.attempts, "last_error": entry.last_error}
    if current == D.DEAD:
        entry.attempts = 0  # the policy's attempts start over
        states.move(session, entry, D.QUEUED, now)
    entry.next_attempt_at = now  # a relay sending it right now keeps it: its lease says so
    audit.record(
        session, actor, "outbox.replay", object_type="outbox", object_id=entry.id,
        ticket_id=entry.ticket_id, before=before,
        after={"state": entry.state, "message_id": entry.message_id, "channel": entry.channel},
    )  # fmt: skip
    wake.queued(session)
    return entry
