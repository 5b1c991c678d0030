"""Factories that create rows through the services (so audit and invariants hold) and commit."""

from __future__ import annotations

import functools
import itertools
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy.orm import Session

from kefu.db.models import Customer, Group, Integration, Message, Ticket, User, WebchatChannel
from kefu.domain.roles import Role
from kefu.services.actors import SYSTEM
from kefu.services.cases import tickets
from kefu.services.customers import profiles as customers
from kefu.services.customers.profiles import IdentityIn
from kefu.services.infra.sealed_columns import purpose_of
from kefu.services.infra.secret_box import unseal
from kefu.services.intake import integrations
from kefu.services.intake.inbound import InboundMessage, Sender, receive_inbound
from kefu.services.staff import auth
from kefu.services.staff import directory as staff
from kefu.settings import DEVELOPMENT_SECRET

_seq = itertools.count(1)
PASSWORD = "correct-horse-battery"  # noqa: S105
Factory = TypeVar("Factory", bound=Callable[..., Any])
_FACTORY_DEPTH = "factory_depth"  # in Session.info: how many factories are running on it


def _writes(factory: Factory) -> Factory:
    """The factory's work in a transaction that holds SQLite's write lock from its start (BEGIN
    IMMEDIATE, waiting its turn): one that read first and wrote after failed at once with
    "database is locked" when the live server's threads wrote in between. What the session holds
    unsaved is committed first, as the factory would at its end."""

    @functools.wraps(factory)
    def run(db: Session, *args: Any, **kwargs: Any) -> Any:
        db.commit()
        sqlite = db.get_bind().dialect.name == "sqlite"
        if sqlite:
            db.connection(execution_options={"sqlite_immediate": True})
        depth = db.info.get(_FACTORY_DEPTH, 0)
        db.info[_FACTORY_DEPTH] = depth + 1
        try:
            made = factory(db, *args, **kwargs)
        finally:
            db.info[_FACTORY_DEPTH] = depth
        if depth and sqlite:
            # A factory inside another (make_ticket's make_customer) committed: the outer one
            # goes on writing, so it takes the write lock again instead of a plain BEGIN.
            db.connection(execution_options={"sqlite_immediate": True})
        return made

    return cast(Factory, run)


SECRET_KEY = DEVELOPMENT_SECRET  # the test settings' (tests/conftest.py): what the live app opens


def callback_secret(integration: Integration, *, secret_key: str = SECRET_KEY) -> str:
    """The plaintext of an integration's sealed callback secret (what its receiver checks)."""
    assert integration.callback_secret_sealed, "the integration has no callback secret"
    return integrations.callback_secret_of(secret_key, integration.callback_secret_sealed)


def channel_secret(channel: WebchatChannel, *, secret_key: str = SECRET_KEY) -> str:
    """The plaintext of a web chat channel's sealed secret (what its site signs identities with)."""
    return unseal(
        secret_key, channel.secret_sealed, purpose=purpose_of(WebchatChannel.secret_sealed)
    )


@_writes
def make_group(db: Session, name: str | None = None, **overrides: Any) -> Group:
    group = staff.do_create_group(db, SYSTEM, name=name or f"组{next(_seq)}", **overrides)
    db.commit()
    return group


@_writes
def make_user(
    db: Session,
    *,
    role: str = "agent",
    groups: list[Group] | None = None,
    email: str | None = None,
    name: str | None = None,
    password: str = PASSWORD,
) -> User:
    n = next(_seq)
    user = staff.do_create_user(
        db,
        SYSTEM,
        email=email or f"user{n}@example.cn",
        name=name or f"客服{n}",
        role=Role(role),
        password=password,
        group_ids=[g.id for g in groups or []],
    )
    db.commit()
    return user


@_writes
def make_token(db: Session, user: Any) -> str:
    secret, _ = auth.do_create_token(db, SYSTEM, db.get(User, user.id), name="test")
    db.commit()
    return secret


ALL_CHANNELS = ["api", "web", "webchat", "email", "wechat", "phone", "sms", "social", "app_review"]


@_writes
def make_integration(
    db: Session, *, name: str | None = None, channels: list[str] | None = None
) -> str:
    """An integration that may deliver customer messages; returns its token."""
    secret, _, _ = integrations.do_create_integration(
        db, SYSTEM, name=name or f"集成{next(_seq)}", channels=channels or ALL_CHANNELS,
        secret_key=SECRET_KEY,
    )  # fmt: skip
    db.commit()
    return secret


@_writes
def make_customer(
    db: Session,
    *,
    name: str | None = None,
    identities: list[tuple[str, str]] | None = None,
    **overrides: Any,
) -> Customer:
    customer = customers.do_create_customer(
        db,
        SYSTEM,
        name=name or f"顾客{next(_seq)}",
        identities=[IdentityIn(c, e) for c, e in identities or []],
        **overrides,
    )
    db.commit()
    return customer


@_writes
def make_ticket(
    db: Session,
    *,
    customer: Customer | None = None,
    group: Group | None = None,
    text: str = "我的订单SL20240001还没发货，麻烦查一下",
    **overrides: Any,
) -> Ticket:
    customer = customer or make_customer(db)
    ticket = tickets.do_create_ticket(
        db,
        SYSTEM,
        customer_id=customer.id,
        subject=overrides.pop("subject", text[:30]),
        text=text,
        channel=overrides.pop("channel", "web"),
        group_id=group.id if group else None,
        **overrides,
    )
    db.commit()
    return ticket


@_writes
def make_callback_integration(
    db: Session, url: str, *, name: str | None = None, secret_key: str = SECRET_KEY
) -> Integration:
    """An integration of the api channel whose replies are posted to ``url`` (its callback
    secret: ``callback_secret(integration)``)."""
    _, integration, _ = integrations.do_create_integration(
        db, SYSTEM, name=name or f"回调集成{next(_seq)}", channels=["api"], callback_url=url,
        secret_key=secret_key,
    )  # fmt: skip
    db.commit()
    return integration


@_writes
def make_api_conversation(
    db: Session,
    integration: Integration,
    *,
    sender: str | None = None,
    text: str = "你好，我的订单什么时候发货？",
) -> Ticket:
    """An api-channel case as intake opens it: ``integration`` delivered the customer's message."""
    n = next(_seq)
    message = InboundMessage(
        channel="api",
        external_id=f"their-msg-{n}",
        sender=Sender(sender or f"buyer-{n}", "顾客"),
        text=text,
    )
    result = receive_inbound(
        db,
        integrations.actor_for(integration),
        message,
        raw="{}",
        attachments_root=Path(tempfile.gettempdir()),
        max_attachment_bytes=1000,
    )
    db.commit()
    return db.get(Ticket, result.ticket_id)


@_writes
def make_reply(db: Session, ticket: Ticket, text: str = "您好，已为您查询，今天发出。") -> Message:
    """An agent's public reply on ``ticket`` (queued in the outbox where its channel sends)."""
    locked = tickets.access_ticket(db, SYSTEM, ticket.id, for_update=True)
    message = tickets.do_add_message(db, SYSTEM, locked, text=text, internal=False)
    db.commit()
    return message


@_writes
def make_webchat_channel(
    db: Session, *, name: str | None = None, secret_key: str = SECRET_KEY, **overrides: Any
) -> Any:
    """A web chat channel, its secret sealed under ``secret_key`` (``channel_secret(channel)``
    opens it)."""
    from kefu.services.webchat import channels

    channel, _ = channels.do_create_channel(
        db, SYSTEM, name=name or f"网站{next(_seq)}", secret_key=secret_key, **overrides
    )
    db.commit()
    return channel


@_writes
def make_archived_complaint(
    db: Session,
    *,
    text: str,
    facts: str,
    category: str,
    cause: str,
    solution: str,
    lesson: str,
    rating: int | None = 5,
    compensation: tuple[str, int] | None = None,
    **overrides: Any,
) -> Ticket:
    """A complaint walked through its five steps to 总结归档 (so the case library has its entry)."""
    from kefu.domain import case_loop as cw
    from kefu.services.cases import loop

    ticket = make_ticket.__wrapped__(  # type: ignore[attr-defined]
        db, text=text, intent="complaint", category=category, **overrides
    )
    comp = cw.Compensation(compensation[0], compensation[1], Role.ADMIN) if compensation else None
    steps: list[cw.Action] = [
        cw.RecordFacts(facts), cw.Advance(), cw.RecordAnalysis(category, root_cause=cause),
        cw.Advance(), cw.ProposeSolution(solution, comp), cw.Advance(),
        cw.RecordFeedback(True, rating), cw.Archive(lesson),
    ]  # fmt: skip
    for step in steps:
        loop.do_step(db, SYSTEM, ticket, step, cw.Policy())
    db.commit()
    return ticket


@_writes
def make_demo_kb(db: Session) -> None:
    """The demo's 60 help articles, published (the bot and the portal answer from them)."""
    from kefu.demo.loader import load_demo_kb

    load_demo_kb(db, SYSTEM)
    db.commit()
