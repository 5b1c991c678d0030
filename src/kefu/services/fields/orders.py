"""The order lookup: kefu asks the shop's own system for the order a ticket's order number
(订单号 field, key ``order_no``) names, and keeps the answer on the ticket with when it was
fetched — shown in the ticket page's customer panel and used by the scripts' placeholders.

The call (docs/order-lookup.md) is a POST of JSON to the integration's ``order_lookup_url``,
signed like its callbacks (``X-Kefu-Timestamp``, ``X-Kefu-Signature``: HMAC-SHA256 with the
integration's signing secret), to the address the outbound guard checked just then
(services/infra/outbound_urls.py), with a short timeout and no redirect followed. Whatever goes
wrong is kept as the lookup's error (a code and a detail) and shown; the fields are untouched.

A new order number only marks the lookup due (``order_lookup_due_at``): the ``orders`` job
fetches it outside the request (``lookup_due``); the refresh button fetches at once
(``lookup_now``). The network call never holds the ticket's row lock.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.channels.api_callback import sign
from kefu.db.base import utcnow
from kefu.db.models import InboundPayload, Integration, Message, Ticket
from kefu.domain import events as ev
from kefu.domain import orders as rules
from kefu.domain.outbound_urls import UrlRefused
from kefu.domain.ticket_fields import ORDER_NUMBER_KEY
from kefu.errors import KefuError
from kefu.services import audit
from kefu.services.actors import SYSTEM, Actor
from kefu.services.events import unit_of_work as events
from kefu.services.infra.outbound_urls import OutboundGuard, guard_of, outbound_client
from kefu.services.infra.secret_box import SecretUnreadable
from kefu.services.intake.integrations import callback_secret_of
from kefu.settings import Settings

log = logging.getLogger(__name__)

LOOKUP_VERSION = 1
PENDING, OK, NOT_FOUND, ERROR = "pending", "ok", "not_found", "error"
LEASE = timedelta(minutes=2)  # a worker that died mid-lookup leaves it to the next round after this


# --- on the ticket ------------------------------------------------------------------------------


def order_number(ticket: Ticket) -> str | None:
    value = (ticket.fields or {}).get(ORDER_NUMBER_KEY)
    return str(value) if value not in (None, "") else None


def schedule(ticket: Ticket, now: datetime) -> None:
    """The order number changed: its order is due to be fetched (none: forgotten)."""
    number = order_number(ticket)
    if number is None:
        ticket.order_lookup, ticket.order_lookup_due_at = None, None
        return
    ticket.order_lookup = {"order_no": number, "state": PENDING, "requested_at": now.isoformat()}
    ticket.order_lookup_due_at = now


def order_of(ticket: Ticket) -> rules.Order | None:
    """The order last fetched for the ticket's current order number, if any."""
    found = ticket.order_lookup or {}
    if found.get("state") != OK or found.get("order_no") != order_number(ticket):
        return None
    try:
        return rules.Order.model_validate(found["order"])
    except (KeyError, ValueError):
        return None


# --- asking the shop ----------------------------------------------------------------------------


class LookupFailed(Exception):
    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}")
        self.code, self.detail = code, detail[:300]


@dataclass(frozen=True)
class Shop:
    integration_id: int
    url: str
    secret_sealed: str  # the integration's callback secret, opened only to sign the lookup


class OrderLookupClient:
    """Calls shops' order lookups; one per process (it keeps a connection pool)."""

    def __init__(
        self,
        *,
        guard: OutboundGuard,
        secret_key: str,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.guard, self.timeout, self.clock = guard, timeout, clock
        self.secret_key = secret_key  # opens the shops' sealed signing secrets
        self._client: httpx.Client | None = None

    @property
    def client(self) -> httpx.Client:
        """Made at the first lookup (its TLS set-up costs tens of milliseconds)."""
        if self._client is None:
            self._client = outbound_client(self.timeout)
        return self._client

    @classmethod
    def of(cls, settings: Settings) -> OrderLookupClient:
        return cls(
            guard=guard_of(settings),
            secret_key=settings.secret_key,
            timeout=settings.order_lookup_timeout_seconds,
        )

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def _secret(self, shop: Shop) -> str:
        try:
            return callback_secret_of(self.secret_key, shop.secret_sealed)
        except SecretUnreadable as e:  # the master key changed without the old one kept
            raise LookupFailed("secret_unreadable") from e

    def fetch(self, shop: Shop, order_no: str, ticket_id: int) -> rules.Order | None:
        """The order, None when the shop says it has none (404), else ``LookupFailed``."""
        try:
            pinned = self.guard.pin(shop.url)
        except UrlRefused as e:
            raise LookupFailed("refused_url", e.reason) from e
        payload = {"type": "order.lookup", "version": LOOKUP_VERSION,
                   "order_no": order_no, "ticket_id": ticket_id}  # fmt: skip
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = str(int(self.clock()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Kefu-Timestamp": timestamp,
            "X-Kefu-Signature": sign(self._secret(shop), timestamp, body),
            "X-Kefu-Event": "order.lookup",
            **pinned.headers,
        }
        try:
            response = self.client.post(
                pinned.url, content=body, headers=headers, extensions=pinned.extensions
            )
        except httpx.TimeoutException as e:
            raise LookupFailed("timeout", f"{self.timeout:g} s") from e
        except httpx.HTTPError as e:
            raise LookupFailed("connection", type(e).__name__) from e
        return _answer(response, order_no)


def _answer(response: httpx.Response, order_no: str) -> rules.Order | None:
    status = response.status_code
    if status == 404:
        return None
    if 300 <= status < 400:
        raise LookupFailed("redirect", f"HTTP {status}")
    if status != 200:
        raise LookupFailed("http_status", f"HTTP {status}")
    try:
        answer = response.json()
    except ValueError as e:
        raise LookupFailed("not_json") from e
    try:
        return rules.read_answer(answer, order_no)
    except rules.BadAnswer as e:
        raise LookupFailed("bad_answer", str(e)) from e


def shop_for(session: Session, ticket: Ticket) -> Shop | None:
    """The integration that delivered the case, if it looks orders up; else the first one
    that does (a shop with one system behind all its channels)."""
    candidates = select(Integration).where(
        Integration.order_lookup_url.is_not(None), Integration.revoked_at.is_(None)
    )
    delivered_by = session.scalar(
        select(InboundPayload.integration_id)
        .join(
            Message,
            (Message.channel == InboundPayload.channel)
            & (Message.external_id == InboundPayload.external_id),
        )
        .where(Message.ticket_id == ticket.id)
        .order_by(Message.id)
        .limit(1)
    )
    found = None
    if delivered_by is not None:
        found = session.scalar(candidates.where(Integration.id == delivered_by))
    found = found or session.scalar(candidates.order_by(Integration.id).limit(1))
    if found is None or not found.order_lookup_url or not found.callback_secret_sealed:
        return None
    return Shop(found.id, found.order_lookup_url, found.callback_secret_sealed)


# --- the lookup, written back -------------------------------------------------------------------


def lookup_now(
    session: Session, client: OrderLookupClient, ticket_id: int, *, actor: Actor = SYSTEM
) -> dict[str, Any] | None:
    """Fetch the order of the ticket's order number now and write what came back (the
    session's transaction is the caller's to commit). The call is made before the row is
    locked; an order number changed meanwhile keeps its own (newer) lookup."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return None
    number = order_number(ticket)
    if number is None:  # cleared meanwhile: nothing to fetch, and nothing left due
        ticket.order_lookup_due_at = None
        return None
    shop = shop_for(session, ticket)
    result: dict[str, Any] = {"order_no": number}
    try:
        if shop is None:
            raise LookupFailed("no_shop")
        order = client.fetch(shop, number, ticket.id)
    except LookupFailed as e:
        log.info("order lookup for ticket %s failed: %s", ticket_id, e.code)
        result.update(state=ERROR, error={"code": e.code, "detail": e.detail})
    else:
        if order is None:
            result.update(state=NOT_FOUND)
        else:
            result.update(state=OK, order=order.model_dump(mode="json"))
    now = utcnow()
    result["fetched_at"] = now.isoformat()
    session.refresh(ticket, with_for_update=True)
    if order_number(ticket) != number:
        return ticket.order_lookup
    due_again = None
    if result["state"] == ERROR:  # a shop that did not answer is asked again a few times
        before = ticket.order_lookup or {}
        same = before.get("order_no") == number and before.get("state") == ERROR
        result["failures"] = failures = int(before.get("failures", 1)) + 1 if same else 1
        delay = rules.retry_delay(result["error"]["code"], result["error"]["detail"], failures)
        if delay is not None:
            due_again = now + delay
            result["retry_at"] = due_again.isoformat()
    ticket.order_lookup, ticket.order_lookup_due_at = result, due_again
    audit.record(
        session, actor, "ticket.order_lookup", object_type="ticket", object_id=ticket.id,
        ticket_id=ticket.id, customer_id=ticket.customer_id,
        after={"order_no": number, "state": result["state"],
               **({"error": result["error"]["code"]} if "error" in result else {})},
    )  # fmt: skip
    events.record(session, ev.TicketChanged(ticket.id, fields=("order_lookup",)))
    return result


def do_refresh(
    session: Session, actor: Actor, client: OrderLookupClient, ticket: Ticket
) -> dict[str, Any]:
    """The refresh button: the order of a ticket the actor may see, fetched now (422
    ``no_order_number`` without one)."""
    if order_number(ticket) is None:
        raise KefuError("no_order_number", status_code=422, details={"field": ORDER_NUMBER_KEY})
    result = lookup_now(session, client, ticket.id, actor=actor)
    assert result is not None
    return result


def lookup_due(
    sessions: Callable[[], Session], client: OrderLookupClient, now: datetime, *, limit: int = 50
) -> dict[str, int]:
    """One round of the ``orders`` job: the lookups that are due, each in its own transaction."""
    with sessions() as session:  # taken with a lease, so that workers share the round
        due = list(
            session.scalars(
                select(Ticket)
                .where(Ticket.order_lookup_due_at <= now)
                .order_by(Ticket.order_lookup_due_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        for ticket in due:
            ticket.order_lookup_due_at = now + LEASE
        due_ids = [t.id for t in due]
        session.commit()
    counts = {"looked_up": 0, "failed": 0}
    for ticket_id in due_ids:
        with sessions() as session:
            result = lookup_now(session, client, ticket_id)
            session.commit()
        counts["failed" if result and result.get("state") == ERROR else "looked_up"] += 1
    return counts
