"""Mail kefu writes itself, not a reply on a case: alerts to staff, verification codes.

A notice is an outbox row of the e-mail channel of kind ``notice`` whose target holds the
recipients, the subject and the text (there is no message row behind it); the e-mail adapter
(channels/email/smtp.py) sends it from the default mailbox. Written in the caller's
transaction, so it leaves only if what it tells of was committed.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import OutboxEntry
from kefu.domain.delivery import DeliveryState
from kefu.domain.tickets import Channel
from kefu.services.outbound import wake

KIND = "notice"


def enqueue_mail_notice(
    session: Session, *, to: Sequence[str], subject: str, text: str, ticket_id: int | None = None
) -> OutboxEntry | None:
    """Queue one mail to ``to`` (None when there is nobody to write to). The caller commits."""
    recipients = sorted({address.strip() for address in to if address and address.strip()})
    if not recipients:
        return None
    entry = OutboxEntry(
        message_id=None,
        ticket_id=ticket_id,
        channel=Channel.EMAIL.value,
        kind=KIND,
        target={"to": recipients, "subject": subject, "text": text},
        idempotency_key=f"kefu-notice-{secrets.token_hex(12)}",
        state=DeliveryState.QUEUED.value,
        attempts=0,
        next_attempt_at=utcnow(),
    )
    session.add(entry)
    session.flush()
    wake.queued(session)
    return entry
