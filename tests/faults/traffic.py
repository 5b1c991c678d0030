"""What the fault tests send kefu, one function per channel, and how they count what kefu kept.

Every customer message carries a tag in its text (``[tag]``): the tests count stored messages
by tag, whatever the channel made of the rest.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook
from websockets.exceptions import ConnectionClosed

from kefu.db.base import utcnow
from kefu.db.models import Message, SlaEvent, Ticket
from kefu.services.actors import SYSTEM
from kefu.services.webhooks import sources
from tests import factories, visitors, wechat_peer

SECRET_KEY = "kefu-faults-secret-key-0123456789abcdef"  # noqa: S105 - the private servers'
# Settings that make the worker quick to notice, retry and take over (a few seconds a test).
FAST = {
    "sla_sweep_seconds": 0.3,
    "outbox_poll_seconds": 0.3,
    "outbox_retry_first_seconds": 0.2,
    "outbox_retry_max_seconds": 0.5,
    "outbox_max_attempts": 50,
    "outbox_lease_seconds": 2,
    "callback_timeout_seconds": 1,
    "sla_sweep_in_server": "false",
    "outbox_relay_in_server": "false",
    "mail_idle_in_server": "false",
    "secret_key": SECRET_KEY,
}
WORKER_JOBS = ("--job", "sla", "--job", "outbox", "--job", "analysis")
TIMEOUT = 20.0  # an answer slower than this is a hang

_numbers = itertools.count(1)


@dataclass
class Sent:
    """One request: the tag of its message and what kefu answered (status, JSON body)."""

    channel: str
    tag: str
    status: int
    body: Any

    @property
    def acknowledged(self) -> bool:
        return 200 <= self.status < 300


def tagged(tag: str) -> str:
    return f"[{tag}] 我的快递五天了还没到，麻烦帮我查一下"


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def api_inbound(client: httpx.Client, token: str, tag: str, *, sender: str = "") -> Sent:
    response = client.post(
        "/api/v1/inbound",
        headers={"Authorization": f"Bearer {token}"},
        json={"channel": "api", "external_id": f"ext-{tag}",
              "sender": {"external_id": sender or f"buyer-{tag}", "name": "王小明"}, "text": tagged(tag)},
    )  # fmt: skip
    return Sent("api", tag, response.status_code, _json(response))


def webhook_source(db: Session, key: str) -> str:
    """A webhook source of SMS messages; returns its signing secret."""
    secret, _ = sources.do_create_source(
        db, SYSTEM, name="短信网关", kinds=["sms.received"], key=key, secret_key=SECRET_KEY
    )
    db.commit()
    return secret


def webhook(client: httpx.Client, key: str, secret: str, tag: str) -> Sent:
    event = {
        "type": "sms.received",
        "data": {"id": f"sms-{tag}", "from": f"+86138{next(_numbers):08d}", "name": "李雷",
                 "text": tagged(tag)},
    }  # fmt: skip
    body = json.dumps(event, ensure_ascii=False).encode()
    sent_at = datetime.now(UTC)
    headers = {
        "webhook-id": f"wh-{tag}",
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(secret).sign(f"wh-{tag}", sent_at, body),
        "content-type": "application/json",
    }
    response = client.post(f"/api/v1/channels/webhook/{key}", content=body, headers=headers)
    return Sent("webhook", tag, response.status_code, _json(response))


def wechat(client: httpx.Client, account_key: str, tag: str) -> Sent:
    peer = wechat_peer.Peer()
    xml = wechat_peer.message_xml(openid=f"o-{tag}", Content=tagged(tag))
    query, body = peer.plain(xml)
    response = client.post(
        f"/api/v1/channels/wechat/{account_key}",
        params=query,
        content=body,
        headers={"Content-Type": "text/xml"},
    )
    return Sent("wechat", tag, response.status_code, _json(response))


def webchat(widget: visitors.Widget, tag: str) -> Sent:
    """A visitor's message over the widget's socket: 200 for ``accepted``, else the error's
    status (its code in the body), 0 when the socket closed instead of answering."""
    widget.send(type="message", client_id=f"c-{tag}", text=tagged(tag))
    try:
        frame = widget.until(lambda f: f["type"] in ("accepted", "error"), timeout=TIMEOUT)
    except ConnectionClosed as e:
        return Sent("webchat", tag, 0, {"closed": e.rcvd.code if e.rcvd else None})
    if frame["type"] == "accepted":
        return Sent("webchat", tag, 200, frame)
    return Sent("webchat", tag, 503 if frame["code"] == "database_unavailable" else 400, frame)


def agent_reply(client: httpx.Client, ticket_id: int, tag: str) -> Sent:
    response = client.post(
        f"/api/v1/tickets/{ticket_id}/messages",
        json={
            "text": f"您好，已为您查询，今天发出。[{tag}]",
            "norms_override_reason": "故障测试的标记",
        },
    )
    return Sent("reply", tag, response.status_code, _json(response))


def stored(db: Session, tag: str) -> list[Message]:
    """The messages whose text carries ``[tag]``."""
    db.rollback()  # a fresh read: what the servers committed
    return list(db.scalars(select(Message).where(Message.body_text.contains(f"[{tag}]"))))


def count_stored(db: Session, tag: str) -> int:
    db.rollback()
    found = db.scalar(
        select(func.count()).select_from(Message).where(Message.body_text.contains(f"[{tag}]"))
    )
    return int(found or 0)


def refused_as_unavailable(sent: Sent) -> bool:
    """kefu's answer while its database is away: 503 with the JSON error ``database_unavailable``."""
    body = sent.body if isinstance(sent.body, dict) else {}
    code = body.get("error", {}).get("code") if "error" in body else body.get("code")
    return sent.status == 503 and code == "database_unavailable"


def wait_for(condition: Any, seconds: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


WEBCHAT_FIRST_RESPONSE = timedelta(seconds=30)  # P4 web chat, around the clock (domain/sla.py)


def due_cases(db: Session, count: int, *, due_in: float) -> list[int]:
    """Web chat cases (P4, a group open around the clock) whose first response falls due
    ``due_in`` seconds from now (negative: overdue already), to be swept at once."""
    group = factories.make_group(db, calendar={"always_open": True})
    ids = [
        factories.make_ticket(db, group=group, channel="webchat", priority="P4").id
        for _ in range(count)
    ]
    opened = utcnow() - WEBCHAT_FIRST_RESPONSE + timedelta(seconds=due_in)
    db.execute(
        update(Ticket).where(Ticket.id.in_(ids)).values(created_at=opened, sla_check_at=utcnow())
    )
    db.commit()
    return ids


def first_response_breaches(db: Session, ids: list[int]) -> dict[int, int]:
    """How many first-response breaches are on record for each of these cases."""
    db.rollback()
    rows = db.execute(
        select(SlaEvent.ticket_id, func.count())
        .where(SlaEvent.ticket_id.in_(ids), SlaEvent.kind == "breach",
               SlaEvent.target == "first_response")
        .group_by(SlaEvent.ticket_id)
    ).all()  # fmt: skip
    return {ticket_id: n for ticket_id, n in rows}
