"""A visitor's message into kefu: through intake, like every customer message.

The widget gives each message a client id; intake dedupes on (channel, external id), and the
external id is made from the visitor and the client id, so a message the widget sends again
after a dropped connection (it never saw ``accepted``) is stored once and answers the seq of the
first. The ticket it opens carries the widget's channel and goes to the channel's group.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime

from kefu.domain.roles import Role
from kefu.domain.tickets import Channel
from kefu.errors import KefuError
from kefu.services.actors import Actor
from kefu.services.bot.service import bot_takes_now
from kefu.services.infra.intake_writer import IntakeWriter
from kefu.services.intake.attachments import AttachmentIn
from kefu.services.intake.inbound import Delivery, InboundMessage, InboundResult, Sender
from kefu.services.webchat.channels import ChannelInfo
from kefu.services.webchat.conversation import external_id_for
from kefu.services.webchat.visitor_tokens import Visitor

# The web chat itself delivers its visitors' messages (audited as the system, via "webchat").
WEBCHAT = Actor(user_id=None, role=Role.ADMIN, via="webchat", name="web chat")
CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def checked_client_id(raw: object) -> str:
    if not isinstance(raw, str) or not CLIENT_ID.fullmatch(raw):
        raise KefuError("validation_error", status_code=422, details={"field": "client_id"})
    return raw


async def submit(
    intake: IntakeWriter,
    channel: ChannelInfo,
    visitor: Visitor,
    *,
    client_id: str,
    text: str,
    now: datetime,
    attachments: Sequence[AttachmentIn] = (),
) -> InboundResult:
    """Store the message (waits for its batch to commit); raise the refusal if intake refused it."""
    message = InboundMessage(
        channel=Channel.WEBCHAT.value,
        external_id=external_id_for(visitor.external_id, client_id),
        sender=Sender(visitor.external_id, visitor.name),
        text=text,
        attachments=list(attachments),
        webchat_channel_id=channel.id,
        group_id=channel.group_id,
        bot_holds=bot_takes_now(channel.bot_mode, channel.calendar, now),
    )
    raw = json.dumps(
        {
            "channel": channel.key,
            "visitor": visitor.external_id,
            "client_id": client_id,
            "text": text,
            "attachments": [a.__dict__ for a in attachments],
        },
        ensure_ascii=False,
    )
    outcome = await intake.submit(Delivery(WEBCHAT, message, raw, now))
    if isinstance(outcome, KefuError):
        raise outcome
    return outcome
