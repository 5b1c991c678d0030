"""The ``api`` channel's adapter: an agent's reply, posted to the integration's callback URL, signed.

An integration (a marketplace shop's chat bridge, a company's own app) that delivers customer
messages to ``POST /api/v1/inbound`` may register a ``callback_url``; agents' replies to its
tickets are posted there as JSON (docs/callbacks.md has the payload and how to check it):

- ``X-Kefu-Timestamp``: Unix seconds when it was signed;
- ``X-Kefu-Signature``: ``sha256=<hex HMAC-SHA256(callback_secret, f"{timestamp}.{body}")>``,
  ``body`` being the exact bytes of the request body;
- ``Idempotency-Key``: the same for every attempt at one message; the receiver shows each once.

What the answer means: 2xx — it has it (``sent``; ``delivered`` or ``read`` if the answer's JSON
says ``"state": "delivered"``, and its ``external_ref`` is kept for later receipts); 408, 429,
5xx, a timeout or a connection error — temporary, tried again with back-off; any other answer
(4xx, a redirect, which is never followed) — permanent, straight to the dead letters. The URL is
checked again before each attempt (services/infra/outbound_urls.py): a host that now resolves
to a private address is not called (permanent).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy.orm import Session

from kefu.channels.base import DeliveryFailed, OutboundDelivery, SendResult
from kefu.channels.guarded_post import GuardedPoster, status_failure
from kefu.db.models import Integration
from kefu.domain.delivery import DeliveryState
from kefu.services.infra.outbound_urls import OutboundGuard
from kefu.services.infra.secret_box import SecretUnreadable
from kefu.services.intake.integrations import callback_secret_of

CALLBACK_VERSION = 1
ANSWER_STATES = {"delivered": DeliveryState.DELIVERED, "read": DeliveryState.READ}


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Kefu-Signature`` of ``body`` signed at ``timestamp``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def payload(delivery: OutboundDelivery) -> dict[str, Any]:
    """The JSON kefu posts for one message (docs/callbacks.md)."""
    target = delivery.target
    return {
        "type": delivery.kind,
        "version": CALLBACK_VERSION,
        "idempotency_key": delivery.idempotency_key,
        "outbox_id": delivery.outbox_id,
        "attempt": delivery.attempt,
        "ticket_id": delivery.ticket_id,
        "message_id": delivery.message_id,
        "in_reply_to": target.get("in_reply_to"),
        "customer_external_id": target.get("customer_external_id"),
        "text": delivery.text,
        "html": delivery.html,
        "author": {"name": delivery.author_name},
        "created_at": delivery.created_at.isoformat() if delivery.created_at else None,
        "attachments": [
            {"id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size}
            for a in delivery.attachments
        ],
    }


class ApiCallbackAdapter:
    """Posts to the callback URL the integration has now (a changed URL or secret applies to the
    next attempt). ``sessions`` reads the integration (read-only sessions suffice)."""

    channel = "api"

    def __init__(
        self,
        sessions: Callable[[], Session],
        *,
        secret_key: str,
        timeout: float = 10.0,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
        guard: OutboundGuard | None = None,
    ) -> None:
        self.sessions = sessions
        self.secret_key = secret_key  # opens the integration's sealed callback secret
        # The URL is checked again at each call (DNS rebinding): channels/guarded_post.py.
        self.poster = GuardedPoster(timeout=timeout, client=client, guard=guard)
        self.clock = clock

    def close(self) -> None:
        self.poster.close()

    def send(self, delivery: OutboundDelivery) -> SendResult:
        url, secret = self._destination(delivery)
        body = json.dumps(payload(delivery), ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = str(int(self.clock()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Kefu-Timestamp": timestamp,
            "X-Kefu-Signature": sign(secret, timestamp, body),
            "Idempotency-Key": delivery.idempotency_key,
            "X-Kefu-Event": delivery.kind,
        }
        response = self.poster.post(url, content=body, headers=headers, what="the callback URL")
        failure = status_failure(response)
        if failure is not None:
            raise failure
        return _answer(response)

    def _destination(self, delivery: OutboundDelivery) -> tuple[str, str]:
        integration_id = delivery.target.get("integration_id")
        with self.sessions() as session:
            integration = session.get(Integration, integration_id) if integration_id else None
            if integration is None or integration.revoked_at is not None:
                raise DeliveryFailed("the integration is gone or revoked", permanent=True)
            if not integration.callback_url or not integration.callback_secret_sealed:
                raise DeliveryFailed("the integration has no callback URL", permanent=True)
            url, sealed = integration.callback_url, integration.callback_secret_sealed
        try:
            return url, callback_secret_of(self.secret_key, sealed)
        except SecretUnreadable as e:  # the master key changed without the old one kept
            raise DeliveryFailed(
                "the callback secret cannot be opened with the secret key: rotate it",
                permanent=True,
            ) from e


def _answer(response: httpx.Response) -> SendResult:
    """A 2xx answer may say more: ``{"state": "delivered", "external_ref": "..."}``."""
    try:
        answer = response.json()
    except ValueError:
        return SendResult()
    if not isinstance(answer, dict):
        return SendResult()
    state = ANSWER_STATES.get(str(answer.get("state", "")), DeliveryState.SENT)
    ref = answer.get("external_ref", answer.get("id"))
    return SendResult(state=state, external_ref=str(ref)[:200] if ref not in (None, "") else None)
