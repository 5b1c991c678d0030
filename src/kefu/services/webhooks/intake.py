"""A customer message a webhook carried, through intake in the request's transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from kefu.errors import KefuError
from kefu.services.cases.loop import intake_rules
from kefu.services.intake.inbound import (
    AttachmentLimits,
    Delivery,
    InboundResult,
    receive_batch,
)
from kefu.settings import Settings


def take_message(session: Session, delivery: Delivery, settings: Settings) -> InboundResult:
    """Intake's outcome for one delivery (analysed already or not), under the settings' case
    rules; its refusal raised (the caller's transaction rolls back: nothing of the event stays)."""
    limits = AttachmentLimits(settings.attachments_dir, settings.max_attachment_bytes)
    [outcome] = receive_batch(session, [delivery], limits, intake_rules(settings))
    if isinstance(outcome, KefuError):
        raise outcome
    return outcome
