"""The visitor's WebSocket, ``/chat/ws/{key}``, its visitor token offered as the subprotocol
``kefu.bearer.<token>`` beside ``kefu`` (realtime/credentials.py; the protocol: plan-18.md).

The page's origin must be one the channel allows, and the token one kefu signed for this
channel. A foreign origin is refused at the handshake (HTTP 403); a bad token is closed with
4401 and an unknown channel with 4404 (the widget then starts a new session). The first frame
is the widget's ``hello`` with the last seq it holds: the socket starts listening for live
events *before* it reads what was missed, sends the missed messages, then ``ready``, then
whatever arrived meanwhile, so nothing falls between the two. Every message is sent once per
socket (by seq); across reconnects the widget dedupes by seq.

A visitor's messages are stored one after the other in the order they came (each waits for its
commit before the next is read), so their seqs follow the visitor's order; resending a client id
answers the first seq and stores nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.websockets import WebSocketDisconnected

from kefu.api.client_address import forwarded_client
from kefu.db.base import utcnow
from kefu.db.models import Ticket, User
from kefu.domain import events as ev
from kefu.domain.delivery import DeliveryState
from kefu.domain.tickets import Channel
from kefu.errors import KefuError, render_message
from kefu.realtime.bus import Stored
from kefu.realtime.chat_runtime import WebchatRuntime
from kefu.realtime.credentials import bearer_from_protocols
from kefu.services.bot import service as bot_service
from kefu.services.webchat import availability, conversation, messages, offers, receipts
from kefu.services.webchat import visitor_tokens as tokens
from kefu.services.webchat.channels import ChannelInfo
from kefu.services.webchat.visitors import customer_of

log = logging.getLogger(__name__)
router = APIRouter()

HELLO_TIMEOUT = 15.0
QUEUE_REFRESH_SECONDS = 10.0  # while the chat waits for an agent
IDLE_REFRESH_SECONDS = 300.0  # otherwise (working hours begin and end)
REFRESHING_FIELDS = frozenset({"status", "chat_offer_user_id", "chat_accepted_at"})
TYPING_EVERY_SECONDS = 2.0
MAX_PENDING_BATCHES = 1000
REMEMBERED_SEQS = 5000
REPLAY_PAGE = 500
# Close codes: the widget reconnects after 1013 and 1011, and not after the 44xx refusals.
CLOSE_NO_CHANNEL, CLOSE_BAD_TOKEN, CLOSE_ORIGIN, CLOSE_NO_HELLO = 4404, 4401, 4403, 4400
CLOSE_TOO_SLOW = 1013


@router.websocket("/chat/ws/{key}")
async def visitor_socket(websocket: WebSocket, key: str) -> None:
    runtime: WebchatRuntime = websocket.app.state.webchat
    channel = await runtime.channel(key)
    origin = websocket.headers.get("origin")
    if channel is not None and not channel.allows_origin(origin, websocket.headers.get("host", "")):
        await websocket.close(code=CLOSE_ORIGIN)  # before the handshake: a 403, nothing opens
        return
    # The visitor token as a subprotocol (kefu.bearer.<token> beside kefu), never in the URL.
    token, subprotocol = bearer_from_protocols(websocket.headers.get("sec-websocket-protocol"))
    visitor = tokens.read(runtime.secret_key, token, channel.id, utcnow()) if channel else None
    if channel is None or visitor is None:
        # Accepted to say why: the widget starts a new session instead of retrying this one.
        await websocket.accept(subprotocol=subprotocol)
        await websocket.close(code=CLOSE_NO_CHANNEL if channel is None else CLOSE_BAD_TOKEN)
        return
    peer = websocket.client.host if websocket.client else "unknown"
    address = forwarded_client(
        peer, websocket.headers.getlist("x-forwarded-for"), runtime.settings.trusted_proxy_networks
    )
    await websocket.accept(subprotocol=subprotocol)
    await VisitorConnection(websocket, runtime, channel, visitor, address).run()


class VisitorConnection:
    def __init__(
        self,
        websocket: WebSocket,
        runtime: WebchatRuntime,
        channel: ChannelInfo,
        visitor: tokens.Visitor,
        address: str,
    ) -> None:
        self.websocket = websocket
        self.runtime = runtime
        self.channel = channel
        self.visitor = visitor
        self.address = address
        self.loop = asyncio.get_running_loop()
        self.customer_id: int | None = None
        self.tickets: set[int] = set()
        self.chat_id: int | None = None  # the open chat, for typing and the queue
        self._chat = ChatFacts(None, False, None)  # the open chat as last read
        self._chat_changed = True  # an event may have changed it: read it again
        self._events: asyncio.Queue[list[Stored]] = asyncio.Queue()
        self._sent: set[int] = set()
        self._sent_order: deque[int] = deque()
        self._send_lock = asyncio.Lock()
        self._last_typing = 0.0
        self._last_state: tuple[Any, ...] | None = None
        self._refresh = asyncio.Event()
        self._overflowed = False
        self._names: dict[int, str] = {}  # agents' names, for typing

    # --- the hub's side (on our loop) ---------------------------------------------------------

    def deliver(self, events: list[Stored]) -> None:
        if self._overflowed:
            return
        if self._events.qsize() >= MAX_PENDING_BATCHES:
            # Too far behind to keep up: drop the socket rather than a message; the widget
            # reconnects and resumes from its last seq.
            self._overflowed = True
            self.loop.create_task(self.websocket.close(code=CLOSE_TOO_SLOW))
            return
        self._events.put_nowait(events)

    def resync(self) -> None:
        if not self._overflowed:
            self._overflowed = True  # nothing more is delivered to this socket
            self.loop.create_task(self.websocket.close(code=CLOSE_TOO_SLOW))

    # --- the connection -----------------------------------------------------------------------

    async def run(self) -> None:
        hub = self.runtime.hub
        tasks: list[asyncio.Task[None]] = []
        try:
            last_seq = await self._hello()
            if last_seq is None:
                return
            hub.attach(self)
            await self._start(last_seq)
            tasks = [
                asyncio.create_task(self._pump_events()),
                asyncio.create_task(self._refresh_state()),
            ]
            await self._read_frames()
        except (WebSocketDisconnect, WebSocketDisconnected, OSError):
            pass  # the visitor went away, also while we were answering them
        except Exception:
            log.exception("visitor socket of %s failed", self.channel.key)
            with contextlib.suppress(Exception):
                await self.websocket.close(code=1011)
        finally:
            hub.detach(self)
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _hello(self) -> int | None:
        try:
            async with asyncio.timeout(HELLO_TIMEOUT):
                frame = await self._receive_text()
            data = json.loads(frame)
        except (TimeoutError, ValueError):
            await self.websocket.close(code=CLOSE_NO_HELLO)
            return None
        last_seq = (data.get("last_seq") or 0) if isinstance(data, dict) else None
        if (
            not isinstance(data, dict)
            or data.get("type") != "hello"
            or not isinstance(last_seq, int)
            or isinstance(last_seq, bool)
            or not 0 <= last_seq < 2**62
        ):
            await self.websocket.close(code=CLOSE_NO_HELLO)
            return None
        return last_seq

    async def _start(self, last_seq: int) -> None:
        """Follow the visitor's events first, then send what they missed, then ``ready``."""
        customer_id, tickets = await self.runtime.read(self._whose)
        self._follow(customer_id, tickets)
        start = await self.runtime.read(lambda session: self._missed(session, last_seq))
        self._follow(customer_id, start["tickets"])
        await self._send_all(start["messages"])
        await self._send({"type": "ready", "last_seq": start["last_seq"]})
        self._chat, self._chat_changed = start["chat"], False
        await self._send_state(self._chat, await self.runtime.channel_queue(self.channel))

    def _follow(self, customer_id: int | None, tickets: list[int]) -> None:
        if customer_id is None:
            return
        self.customer_id = customer_id
        self.tickets.update(tickets)
        self.runtime.hub.follow(self, customer_id, tickets)

    def _whose(self, session: Session) -> tuple[int | None, list[int]]:
        customer_id = customer_of(session, self.visitor)
        return customer_id, _chat_tickets(session, customer_id)

    def _missed(self, session: Session, last_seq: int) -> dict[str, Any]:
        found: list[Any] = []
        after = last_seq
        while True:
            page = conversation.messages_after(session, self.customer_id, after, REPLAY_PAGE)
            found.extend(page)
            newer = [m.id for m in page if m.id > after]
            if len(newer) < REPLAY_PAGE:
                break
            after = max(newer)
        names = conversation.author_names(session, found)
        return {
            "messages": conversation.shaped(found, names, self.channel.key),
            "last_seq": conversation.last_seq(session, self.customer_id),
            "tickets": _chat_tickets(session, self.customer_id),
            "chat": self._read_chat(session),
        }

    # --- from the widget ----------------------------------------------------------------------

    async def _read_frames(self) -> None:
        while True:
            raw = await self._receive_text()
            try:
                frame = json.loads(raw)
            except ValueError:
                await self._error("invalid_json")
                continue
            if not isinstance(frame, dict):
                await self._error("validation_error")
                continue
            kind = frame.get("type")
            if kind == "message":
                await self._on_message(frame)
            elif kind == "typing":
                self._on_typing()
            elif kind in ("ack", "read"):
                await self._on_receipt(
                    frame, DeliveryState.DELIVERED if kind == "ack" else DeliveryState.READ
                )
            elif kind == "ping":
                await self._send({"type": "pong"})
            elif kind != "hello":
                await self._error("validation_error")

    async def _on_message(self, frame: dict[str, Any]) -> None:
        client_id = frame.get("client_id")
        try:
            client_id = messages.checked_client_id(client_id)
            text = frame.get("text")
            text = self.runtime.limits.text(text if isinstance(text, str) else "")
            self.runtime.limits.message(self.visitor.external_id, self.address)
            result = await messages.submit(
                self.runtime.intake, self.channel, self.visitor,
                client_id=client_id, text=text, now=utcnow(),
            )  # fmt: skip
        except KefuError as e:
            await self._error(
                e.code, client_id=client_id if isinstance(client_id, str) else None, **e.params
            )
            return
        await self._send({"type": "accepted", "client_id": client_id, "seq": result.message_id})
        self._remember(result.message_id)  # this widget shows it already: no echo to load
        new_chat = result.ticket_id not in self.tickets
        first = self.customer_id is None
        self._follow(result.customer_id, [result.ticket_id])
        self.chat_id = result.ticket_id
        if first:  # the visitor's first message made them a customer: catch up from there
            customer_id = result.customer_id
            await self._send_all(
                await self.runtime.read(lambda session: self._since(session, customer_id))
            )
        if result.duplicate:
            return
        turn = None
        if self.channel.bot_mode != "off":  # the bot answers on the channels it serves
            turn = await self.runtime.write(
                lambda session: bot_service.do_bot_turn(
                    session, result.ticket_id, result.message_id, now=utcnow()
                )
            )
        if new_chat or (turn is not None and turn.handoff is not None):
            # A chat the bot holds is offered to nobody: offer_now passes it over until the
            # bot hands it off.
            rules = self.runtime.rules
            await self.runtime.write(
                lambda session: offers.offer_now(session, result.ticket_id, utcnow(), rules)
            )
            self._chat_changed = True
            self._refresh.set()

    def _on_typing(self) -> None:
        now = time.monotonic()
        if self.chat_id is None or now - self._last_typing < TYPING_EVERY_SECONDS:
            return
        self._last_typing = now
        # Typing is no change to anything: told at once, outside any transaction.
        self.runtime.bus.publish([ev.Typing(self.chat_id, who="customer")])

    async def _on_receipt(self, frame: dict[str, Any], state: DeliveryState) -> None:
        seq = frame.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool) or not 0 < seq < 2**62:
            await self._error("validation_error")
            return
        if self.customer_id is not None:
            self.runtime.acknowledge(receipts.Ack(self.customer_id, seq, state))

    # --- to the widget ------------------------------------------------------------------------

    async def _pump_events(self) -> None:
        while True:
            batch = await self._events.get()
            while not self._events.empty():
                batch.extend(self._events.get_nowait())
            await self._handle(batch)

    async def _handle(self, batch: list[Stored]) -> None:
        seqs: list[int] = []
        for stored in batch:
            event = stored.event
            if isinstance(event, ev.VisitorMessage) and event.author_type:
                await self._send_message(conversation.delivered_json(event, self.channel.key))
            elif isinstance(event, ev.VisitorMessage):
                seqs.append(event.message_id)
            elif isinstance(event, ev.MessageAdded):
                seqs.append(event.message_id)
            elif isinstance(event, ev.Typing) and event.user_id is not None:
                await self._send(
                    {"type": "typing", "who": "agent", "name": await self._name(event.user_id)}
                )
            elif isinstance(event, ev.PresenceChanged):
                self._refresh.set()
            elif isinstance(event, ev.TicketAssigned) or (
                isinstance(event, ev.TicketChanged) and REFRESHING_FIELDS & set(event.fields)
            ):
                self._chat_changed = True
                self._refresh.set()
        fresh = [seq for seq in dict.fromkeys(seqs) if seq not in self._sent]
        if fresh:
            await self._send_all(
                await self.runtime.read(lambda session: self._load(session, fresh))
            )

    async def _name(self, user_id: int) -> str:
        name = self._names.get(user_id)
        if name is None:
            name = await self.runtime.read(functools.partial(_user_name, user_id=user_id)) or ""
            self._names[user_id] = name
        return name

    def _since(self, session: Session, customer_id: int) -> list[dict[str, Any]]:
        """A new conversation as it stands (it may have moved on before we followed it)."""
        found = conversation.messages_after(session, customer_id, 0, REPLAY_PAGE)
        return conversation.shaped(
            found, conversation.author_names(session, found), self.channel.key
        )

    async def _send_all(self, messages: list[dict[str, Any]]) -> None:
        for message in messages:
            await self._send_message(message)

    def _load(self, session: Session, seqs: list[int]) -> list[dict[str, Any]]:
        found = [conversation.message_of(session, self.customer_id, seq) for seq in sorted(seqs)]
        present = [m for m in found if m is not None]
        names = conversation.author_names(session, present)
        return conversation.shaped(present, names, self.channel.key)

    async def _refresh_state(self) -> None:
        """Availability, the place in the queue and the agent who took the chat, sent when they
        change: at once after a relevant event, and every few seconds while waiting.

        The channel's side is shared by every widget (``WebchatRuntime.channel_queue``); the
        visitor's own chat is read again only when an event may have changed it, or when it is
        no longer among the waiting chats: a refresh of a waiting widget costs no query."""
        while True:
            every = QUEUE_REFRESH_SECONDS if self._chat.waiting else IDLE_REFRESH_SECONDS
            with contextlib.suppress(TimeoutError):  # asyncio.timeout: 3.11's wait_for can
                async with asyncio.timeout(every):  # swallow a cancel and hang the socket's end
                    await self._refresh.wait()
            self._refresh.clear()
            queue = await self.runtime.channel_queue(self.channel)
            chat = self._chat
            if self._chat_changed or (
                chat.waiting and chat.id is not None and not queue.holds(chat.id)
            ):
                self._chat_changed = False
                chat = self._chat = await self.runtime.read(self._read_chat)
            await self._send_state(chat, queue)

    def _read_chat(self, session: Session) -> ChatFacts:
        chat = conversation.open_chat(session, self.customer_id)
        if chat is None:
            return ChatFacts(None, False, None)
        return ChatFacts(
            chat.id, conversation.waiting_in_queue(chat), conversation.accepted_by(session, chat)
        )

    async def _send_state(self, chat: ChatFacts, queue: availability.ChannelQueue) -> None:
        self.chat_id = chat.id
        if self.chat_id is not None and self.chat_id not in self.tickets and self.customer_id:
            self._follow(self.customer_id, [self.chat_id])
        found = queue.answer(chat.id if chat.waiting else None).to_json()
        key = (
            found["online"],
            found["queue_position"],
            found["expected_wait_seconds"],
            chat.agent,
        )
        if key == self._last_state:
            return
        previous, self._last_state = self._last_state, key
        await self._send({"type": "availability", **found})
        if found["queue_position"] is not None:
            await self._send({
                "type": "queue", "position": found["queue_position"],
                "expected_wait_seconds": found["expected_wait_seconds"],
            })  # fmt: skip
        if chat.agent is not None and (previous is None or previous[3] != chat.agent):
            await self._send({"type": "agent", "name": chat.agent, "joined": True})

    async def _send_message(self, message: dict[str, Any]) -> None:
        if self._remember(message["seq"]):
            await self._send({"type": "message", "message": message})

    def _remember(self, seq: int) -> bool:
        """Count ``seq`` as shown on this socket; False if it was already."""
        if seq in self._sent:
            return False
        self._sent.add(seq)
        self._sent_order.append(seq)
        if len(self._sent_order) > REMEMBERED_SEQS:
            self._sent.discard(self._sent_order.popleft())
        return True

    async def _error(self, code: str, *, client_id: str | None = None, **params: Any) -> None:
        language = "en" if self.channel.language == "en" else "zh-CN"
        frame: dict[str, Any] = {
            "type": "error",
            "code": code,
            "message": render_message(code, language, **params),
        }
        if client_id is not None:
            frame["client_id"] = client_id
        await self._send(frame)

    async def _receive_text(self) -> str:
        message = await self.websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        if message.get("text") is not None:
            return str(message["text"])
        return bytes(message.get("bytes") or b"").decode("utf-8", errors="replace")

    async def _send(self, frame: dict[str, Any]) -> None:
        async with self._send_lock:
            await self.websocket.send_text(json.dumps(frame, ensure_ascii=False))


@dataclass(frozen=True)
class ChatFacts:
    """The visitor's open chat as the widget is told of it."""

    id: int | None
    waiting: bool  # no agent has taken it yet
    agent: str | None  # the name of the agent who took it


def _chat_tickets(session: Session, customer_id: int | None) -> list[int]:
    if customer_id is None:
        return []
    return list(
        session.scalars(
            select(Ticket.id).where(
                Ticket.customer_id == customer_id, Ticket.channel == Channel.WEBCHAT.value
            )
        )
    )


def _user_name(session: Session, user_id: int) -> str | None:
    return session.scalar(select(User.name).where(User.id == user_id))
