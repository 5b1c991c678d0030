"""The outbound adapters of a process (``kefu serve``, ``kefu worker``), by channel.

A channel with no adapter here sends nothing: its outbox rows wait, untouched, for a process
that has one (a relay only claims rows of its own adapters' channels).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session

from kefu.channels.api_callback import ApiCallbackAdapter
from kefu.channels.base import Adapters
from kefu.channels.email.smtp import EmailAdapter
from kefu.channels.webchat import WebchatAdapter
from kefu.channels.webhook import WebhookAdapter
from kefu.channels.wechat.adapter import WechatAccounts, WechatAdapter
from kefu.domain.events import Event
from kefu.services.infra.outbound_urls import guard_of
from kefu.services.mail.outbound import attachment_loader, smtp_lookup
from kefu.settings import Settings


def process_adapters(
    settings: Settings,
    read_sessions: Callable[[], Session],
    publish: Callable[[Sequence[Event]], None] | None = None,
) -> Adapters:
    """Every adapter this process sends with; ``read_sessions`` for the lookups they make,
    ``publish`` (the process's event bus) for web chat, whose replies are events the visitors'
    sockets show: without a bus this process leaves web chat rows to one that has it."""
    adapters = Adapters()
    adapters.add(
        ApiCallbackAdapter(
            read_sessions,
            secret_key=settings.secret_key,
            timeout=settings.callback_timeout_seconds,
            guard=guard_of(settings),
        )
    )
    adapters.add(
        WebhookAdapter(
            read_sessions,
            secret_key=settings.secret_key,
            timeout=settings.callback_timeout_seconds,
            guard=guard_of(settings),
        )
    )
    adapters.add(
        WechatAdapter(
            WechatAccounts(
                read_sessions,
                settings.secret_key,
                timeout=settings.callback_timeout_seconds,
                guard=guard_of(settings),
            )
        )
    )
    if publish is not None:
        adapters.add(WebchatAdapter(publish))
    adapters.add(
        EmailAdapter(
            smtp_lookup(read_sessions, settings.secret_key),
            load_attachment=attachment_loader(read_sessions, settings.attachments_dir),
        )
    )
    return adapters


def close_adapters(adapters: Adapters) -> None:
    """Let go of what the adapters hold (connection pools)."""
    for adapter in adapters.by_channel.values():
        close = getattr(adapter, "close", None)
        if close is not None:
            close()
