"""What every outbound channel adapter is given and answers.

The relay (services/outbound/) takes an outbox row, builds an ``OutboundDelivery`` from it and
hands it to the adapter of its channel. The adapter sends it and answers a ``SendResult``, or
raises ``DeliveryFailed``: a temporary failure is tried again with back-off
(domain/delivery.RetryPolicy), a permanent one (the receiver refused it for good) goes
straight to the dead letters. Anything else an adapter raises counts as temporary.

An adapter must make a repeated send of the same ``idempotency_key`` harmless on the
receiver's side (the relay delivers at least once: a relay killed after sending and before
marking sends again); the receiver shows each key once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from kefu.domain.delivery import DeliveryState


@dataclass(frozen=True)
class AttachmentRef:
    id: int
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class OutboundDelivery:
    outbox_id: int
    idempotency_key: str
    channel: str
    kind: str  # "message" (a reply or a bot answer); later "survey", "notice"
    target: Mapping[str, Any]  # where it goes, as written at enqueue (outbox.target)
    ticket_id: int | None
    message_id: int | None
    text: str
    html: str | None = None
    author_name: str = ""
    author_type: str = ""  # "user" (an agent), "bot", "system"
    created_at: datetime | None = None
    attachments: tuple[AttachmentRef, ...] = ()
    attempt: int = 1  # this is the n-th attempt


@dataclass(frozen=True)
class SendResult:
    state: DeliveryState = DeliveryState.SENT  # or DELIVERED for a channel that confirms at once
    external_ref: str | None = None  # the channel's own id for it (receipts refer to it)


class DeliveryFailed(Exception):  # noqa: N818 - a failure the adapter reports, not a bug
    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class ChannelAdapter(Protocol):
    channel: str

    def send(self, delivery: OutboundDelivery) -> SendResult: ...


@dataclass
class Adapters:
    """The adapters of this process, by channel name."""

    by_channel: dict[str, ChannelAdapter] = field(default_factory=dict)

    def add(self, adapter: ChannelAdapter) -> None:
        self.by_channel[adapter.channel] = adapter

    def get(self, channel: str) -> ChannelAdapter | None:
        return self.by_channel.get(channel)
