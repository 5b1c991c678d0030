"""``/api/v1/events``: the staff WebSocket — what happens to the cases an agent may see, live.

Opening: the session cookie, or a personal API token (``Authorization: Bearer``, or offered as
the subprotocol ``kefu.bearer.<token>`` beside ``kefu`` by a page that cannot set headers:
realtime/credentials.py). A token in the URL (``?token=``) is refused with 400
``credential_in_url``: URLs end up in proxies' and servers' logs. A page's ``Origin`` must be kefu's own host or one of ``KEFU_ALLOWED_ORIGINS``
(a cookie rides along on any site's WebSocket, so the Origin is what stops another site from
listening with it); a client that sends no Origin is not a browser and is let through on its
credentials. Refused openings get an HTTP answer with kefu's error body: 403 ``origin_refused``,
401 ``not_authenticated`` / ``signed_out``, 403 ``staff_required`` / ``deactivated``.

Client → server (JSON text frames):

- ``{"type": "hello", "last_event_id": "<id>" | null}`` — the first frame: resume after that id.
  The server answers the events missed since, or ``{"type": "resync"}`` when it no longer holds
  them (reload from REST), then ``{"type": "ready", "last_event_id": "<id>"}``: the id to resume
  from if nothing newer arrives. Live events wait until then; a client that sends another frame
  first, or nothing for ``HELLO_WAIT`` seconds, starts from now.
- ``{"type": "typing", "ticket_id": N}`` — the agent is typing a reply: a ``typing`` event for
  whoever watches the ticket (and the visitor's widget), if the agent may see it; at most one
  per ticket every ``TYPING_EVERY`` seconds goes out.
- ``{"type": "viewing", "ticket_id": N}`` — the agent has the ticket open (the workspace sends it
  on opening the ticket and every 20 s while it stays open): a ``viewing`` event with the agent's
  name for the others who may see the ticket; at most one per ticket every ``VIEWING_EVERY``
  seconds goes out.
- ``{"type": "ping"}`` → ``{"type": "pong"}``.

Server → client: ``{"type": "event", "id": "<id>", "event": {"event": name, ...}}`` for each event
of the allowed kinds (domain/event_audience.py) that the agent may see by the REST API's rules,
in one global order; ``{"type": "error", "code", "message"}`` for a frame it cannot act on.

Closing codes: 4401 signed out (logout, token revoked, password changed, session expired), 4403
deactivated, 1013 the client fell too far behind (reconnect with ``last_event_id``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections import deque
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar
from urllib.parse import urlsplit

import anyio.to_thread
from fastapi import APIRouter, FastAPI, WebSocket
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.websockets import WebSocketDisconnect

from kefu.api.cookies import cookie_name
from kefu.api.deps import SESSION_COOKIE
from kefu.domain import events as ev
from kefu.domain.event_audience import TicketPlace, Viewer
from kefu.errors import NotFound, pick_language, render_message
from kefu.realtime.agent_hub import AgentHub, Frame
from kefu.realtime.bus import event_id_key
from kefu.realtime.credentials import (
    SIGNED_OUT,
    Credential,
    Refused,
    bearer_from_protocols,
    check,
    credential_from,
)
from kefu.services.actors import Actor
from kefu.services.cases.places import places_of
from kefu.services.cases.tickets import access_ticket
from kefu.settings import normalise_origin

log = logging.getLogger(__name__)
router = APIRouter(tags=["realtime"])

HELLO_WAIT = 10.0  # seconds a client has to say where it resumes before live events flow
RECHECK_SECONDS = 120.0  # credentials checked again this often besides AccessChanged events
MAX_QUEUED = 10_000  # frames waiting for a slow client before it is told to reconnect
TYPING_EVERY = 2.0
VIEWING_EVERY = 10.0
MAX_FRAME_CHARS = 4096
TOO_SLOW = 1013  # "try again later"

T = TypeVar("T")
_SILENT = object()  # the client said nothing before HELLO_WAIT ran out


def make_hub(app: FastAPI) -> AgentHub:
    async def places(ticket_ids: Any) -> dict[int, TicketPlace]:
        return await in_database(app, places_of, ticket_ids)

    return AgentHub(app.state.bus, places)


async def in_database(app: FastAPI, work: Callable[..., T], *args: Any) -> T:
    """``work(session, *args)`` in a worker thread, admitted like a request (api/database_gate.py)."""

    def run() -> T:
        with app.state.session_factories.read() as session:
            return work(session, *args)

    async with app.state.admission.reader():
        return await anyio.to_thread.run_sync(run)


def origin_allowed(origin: str | None, host: str | None, allowed: frozenset[str]) -> bool:
    """A browser page of kefu's own host or of an allowed origin; a client without an Origin
    (not a browser) is judged by its credentials alone."""
    if origin is None:
        return True
    normal = normalise_origin(origin)
    if normal is None:
        return False
    return normal in allowed or (host is not None and urlsplit(normal).netloc == host.lower())


@router.websocket("/events")
async def staff_events(websocket: WebSocket) -> None:
    app: FastAPI = websocket.app
    settings = app.state.settings
    if not origin_allowed(
        websocket.headers.get("origin"), websocket.headers.get("host"), settings.allowed_origin_set
    ):
        await _deny(websocket, 403, "origin_refused")
        return
    if "token" in websocket.query_params:
        await _deny(websocket, 400, "credential_in_url")
        return
    offered, subprotocol = bearer_from_protocols(websocket.headers.get("sec-websocket-protocol"))
    try:
        credential = credential_from(
            cookie=websocket.cookies.get(cookie_name(settings, SESSION_COOKIE)),
            authorization=websocket.headers.get("authorization"),
            token=offered,
        )
        actor = await in_database(app, check, credential, settings)
    except Refused as e:
        await _deny(websocket, 401 if e.code == SIGNED_OUT else 403, e.reason)
        return
    except SQLAlchemyError:  # down or restarting: the client retries, as with REST's 503
        log.warning("a staff socket could not check its credential", exc_info=True)
        await _deny(websocket, 503, "database_unavailable")
        return
    await AgentConnection(websocket, app, credential, actor, subprotocol=subprotocol).run()


async def _deny(websocket: WebSocket, status: int, code: str) -> None:
    language = pick_language(websocket.headers.get("accept-language"))
    body = {"error": {"code": code, "message": render_message(code, language), "details": None}}
    try:
        await websocket.send_denial_response(JSONResponse(body, status_code=status))
    except RuntimeError:  # a server without the denial extension: a bare 403
        await websocket.close(code=1008)


def viewer_of(actor: Actor) -> Viewer:
    assert actor.user_id is not None
    return Viewer(actor.user_id, actor.role, actor.group_ids)


class AgentConnection:
    """One open staff socket: its credential, what it waits to send, and its three tasks —
    sending, reading the client's frames, checking the credential again."""

    def __init__(
        self,
        websocket: WebSocket,
        app: FastAPI,
        credential: Credential,
        actor: Actor,
        *,
        subprotocol: str | None = None,
    ) -> None:
        self.websocket = websocket
        self.subprotocol = subprotocol
        self.app = app
        self.credential = credential
        self.actor = actor
        self.viewer = viewer_of(actor)
        self._queue: deque[Frame | str] = deque()
        self._wake = asyncio.Event()
        self._recheck = asyncio.Event()
        self._cutoff = (0, 0)  # events up to here were replayed or came before the client's start
        self._closing: tuple[int, str] | None = None
        self._told: dict[tuple[str, int], float] = {}  # (frame type, ticket) → when last told

    # --- the hub's side ----------------------------------------------------------------

    def push(self, frames: Any) -> None:
        if self._closing is not None:
            return
        if len(self._queue) + len(frames) > MAX_QUEUED:
            self._queue.clear()
            self.close_soon(TOO_SLOW, "too_slow")
            return
        self._queue.extend(frames)
        self._wake.set()

    def access_changed(self) -> None:
        self._recheck.set()

    def resync(self) -> None:
        if self._closing is None:
            self._say({"type": "resync"})

    def close_soon(self, code: int, reason: str) -> None:
        self._closing = (code, reason)
        self._wake.set()

    # --- the socket's life -------------------------------------------------------------

    async def run(self) -> None:
        await self.websocket.accept(subprotocol=self.subprotocol)
        bus = self.app.state.bus
        hub: AgentHub = self.app.state.agent_hub
        start = await _quietly(bus.head)  # before attaching: overlap is harmless, a gap is not
        hub.attach(self)
        try:
            first = await self._first_frame()
            hello = isinstance(first, dict) and first.get("type") == "hello"
            await self._begin(first.get("last_event_id") if hello else None, start)
            if first is not _SILENT and not hello:
                await self._handle(first)
            tasks = [
                asyncio.create_task(self._send_forever()),
                asyncio.create_task(self._read_forever()),
            ]
            watcher = asyncio.create_task(self._watch_credentials())
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in (*tasks, watcher):
                task.cancel()
            await asyncio.gather(*tasks, watcher, return_exceptions=True)
        except WebSocketDisconnect:
            pass
        finally:
            hub.detach(self)

    async def _first_frame(self) -> Any:
        """The client's first frame, parsed (None if it was not JSON), or ``_SILENT``."""
        try:
            message = await asyncio.wait_for(self.websocket.receive(), HELLO_WAIT)
        except TimeoutError:
            return _SILENT
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        return _parse(message.get("text"))

    async def _begin(self, last_id: Any, start: str | None) -> None:
        """Replay what the client missed (or tell it to resync), then say where it stands.

        A client that names no id starts where the log stood when it connected (``start``):
        what was published between that moment and the socket joining the hub is replayed
        like any gap, so starting "from now" loses nothing either."""
        resume_from = last_id if last_id is not None else start
        resume_at = start
        missed = None
        if resume_from is not None:
            missed = await _quietly(self.app.state.bus.since, resume_from)
        if isinstance(missed, list):
            hub: AgentHub = self.app.state.agent_hub
            for frame in await hub.frames_for(self.viewer, missed):
                await self.websocket.send_text(frame.text)
            resume_at = missed[-1].id if missed else resume_from
        elif last_id is not None:  # RESYNC, or the log is out of reach
            await self.websocket.send_text('{"type":"resync"}')
        self._cutoff = event_id_key(resume_at) if resume_at is not None else (0, 0)
        await self.websocket.send_text(json.dumps({"type": "ready", "last_event_id": resume_at}))

    async def _send_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue and self._closing is None:
                item = self._queue.popleft()
                if isinstance(item, str):
                    await self.websocket.send_text(item)
                elif item.key > self._cutoff:
                    await self.websocket.send_text(item.text)
            if self._closing is not None:
                code, reason = self._closing
                await self.websocket.close(code=code, reason=reason)
                return

    async def _read_forever(self) -> None:
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            await self._handle(_parse(message.get("text")))

    async def _handle(self, frame: Any) -> None:
        kind = frame.get("type") if isinstance(frame, dict) else None
        if kind == "ping":
            self._say({"type": "pong"})
        elif kind == "typing":
            await self._tell(kind, frame.get("ticket_id"), TYPING_EVERY)
        elif kind == "viewing":
            await self._tell(kind, frame.get("ticket_id"), VIEWING_EVERY)
        elif kind == "hello":
            self._error("bad_frame", reason="hello")  # only the first frame resumes
        else:
            self._error("bad_frame", reason="type")

    async def _tell(self, kind: str, ticket_id: Any, every: float) -> None:
        """Tell the others on a ticket the agent may see that they are typing or viewing it."""
        if type(ticket_id) is not int or not 0 < ticket_id < 2**63:
            self._error("bad_frame", reason="ticket_id")
            return
        now, key = time.monotonic(), (kind, ticket_id)
        if now - self._told.get(key, -math.inf) < every:
            return  # said recently: the others still show it
        if len(self._told) > 1000:
            self._told.clear()
        self._told[key] = now
        try:
            await in_database(self.app, _may_see, self.actor, ticket_id)
        except NotFound:
            self._told.pop(key, None)
            self._error("not_found", what="ticket")
            return
        except SQLAlchemyError:  # the database is away: this is not told, the socket lives
            self._told.pop(key, None)
            self._error("database_unavailable")
            return
        event: ev.Event
        if kind == "typing":
            event = ev.Typing(ticket_id, who="agent", user_id=self.actor.user_id)
        else:
            assert self.actor.user_id is not None
            event = ev.Viewing(ticket_id, user_id=self.actor.user_id, user_name=self.actor.name)
        await anyio.to_thread.run_sync(self.app.state.bus.publish, [event])

    async def _watch_credentials(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._recheck.wait(), RECHECK_SECONDS)
            except TimeoutError:
                pass
            self._recheck.clear()
            try:
                actor = await in_database(self.app, check, self.credential, self.app.state.settings)
            except Refused as e:
                self.close_soon(e.code, e.reason)
                return
            except Exception:  # the database is away: keep the socket, try again later
                log.warning("checking a staff socket's credential failed", exc_info=True)
                continue
            self.actor, self.viewer = actor, viewer_of(actor)

    def _say(self, frame: dict[str, Any]) -> None:
        self._queue.append(json.dumps(frame, ensure_ascii=False))
        self._wake.set()

    def _error(self, code: str, **params: Any) -> None:
        language = pick_language(self.websocket.headers.get("accept-language"))
        message = render_message(code, language, **params)
        self._say({"type": "error", "code": code, "message": message})


def _may_see(session: Session, actor: Actor, ticket_id: int) -> None:
    access_ticket(session, actor, ticket_id)


def _parse(text: str | None) -> Any:
    if text is None or len(text) > MAX_FRAME_CHARS:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


async def _quietly(work: Callable[..., T], *args: Any) -> T | None:
    """A log lookup (Redis I/O) off the loop; None when the log cannot be reached."""
    try:
        return await anyio.to_thread.run_sync(partial(work, *args))
    except Exception:
        log.warning("the event log could not be read", exc_info=True)
        return None
