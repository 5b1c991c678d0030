"""The event log behind the bus: every published event with its id, kept long enough to replay.

Two kinds, one interface (``EventLog``):

- ``MemoryLog`` (one process, the embedded default): a ring buffer of the last
  ``KEFU_EVENT_RETENTION`` events. Appending gives the ids (``"<ms>-<seq>"``) and hands the
  events to the bus at once, in the publishing thread, under one lock so every subscriber sees
  one order.
- ``RedisLog`` (``KEFU_REDIS_URL`` set): a Redis Stream shared by every kefu process. Appending
  is one ``XADD … MAXLEN ~ retention`` per event in one round trip; the ids are Redis's own. A
  reader thread (``XREAD BLOCK``) hands every entry, whichever process wrote it, to this
  process's subscribers once and in stream order, so a socket on any process sees the same
  events in the same order. Pub/sub would only wake listeners: it stores nothing to replay,
  and a process that blinks loses what was said meanwhile; a stream does not.

``since(last_id)`` answers a client that reconnects: the events after ``last_id``, or
``RESYNC`` when the log cannot vouch for the whole gap. The rule is the same for both kinds: the
id the client names must still be in the log (everything after a kept entry is kept, since
trimming only removes the oldest), or be the log's floor, the id just before its oldest entry
(``"0-0"`` for a stream that was never trimmed). An id that was trimmed, that the log never gave
(another stream, a process since restarted, a typo) or that is not an id at all answers
``RESYNC``: the client reloads from REST, which stays the truth.

A publish that cannot reach Redis is logged and dropped (its transaction has committed; the
REST state holds it); the reader retries with back-off and resumes after the last entry it
handed over, so a blink of Redis loses nothing that was written — unless, meanwhile, more than
the retention was written and trimmed: a reader (or a client) that far behind can only resync.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Final, Protocol

from kefu.domain.events import Event
from kefu.realtime import codec

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stored:
    """A published event with its place in the one global order."""

    id: str  # "<milliseconds>-<sequence>", compared with ``event_id_key``
    event: Event


class Resync:
    """``since`` cannot replay the gap: the client must reload what it shows (REST)."""

    def __repr__(self) -> str:
        return "RESYNC"


RESYNC: Final = Resync()
Deliver = Callable[[Sequence[Stored]], None]
# Told when events may have been lost (Redis was away): whoever relies on the hand-over reloads.
Gap = Callable[[], None]
DEFAULT_RETENTION = 20_000
ORIGIN = "0-0"  # before every id


def event_id_key(event_id: str) -> tuple[int, int]:
    """``"1733500000000-3"`` as a sortable pair; a ValueError for anything else."""
    ms, dash, seq = event_id.partition("-")
    if not (ms.isdigit() and (not dash or seq.isdigit())):
        raise ValueError(f"not an event id: {event_id!r}")
    return int(ms), int(seq or 0)


def is_event_id(value: object) -> bool:
    if not isinstance(value, str) or len(value) > 64:
        return False
    try:
        event_id_key(value)
    except ValueError:
        return False
    return True


class EventLog(Protocol):
    def append(self, events: Sequence[Event]) -> None:
        """Store the events; they reach ``deliver`` (see ``start``) in log order."""

    def start(self, deliver: Deliver, gap: Gap | None = None) -> None:
        """Hand every event appended from now on (Redis: by any process) to ``deliver``, once;
        call ``gap`` when some may never arrive (Redis: an append failed, or the reader lost
        its connection)."""

    def since(self, last_id: str) -> list[Stored] | Resync: ...

    def head(self) -> str:
        """The id of the newest event (the floor when there is none): where a client that has
        seen everything so far would resume."""

    def close(self) -> None:
        """Stop handing events over (``start`` again resumes after the last one handed)."""


class EventIds:
    """Ids in publish order: the current millisecond and a sequence within it, never going back
    (a clock that steps back keeps the last millisecond)."""

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        import time

        self._clock = clock or time.time
        self._last = (0, -1)

    def next(self) -> str:
        ms = int(self._clock() * 1000)
        last_ms, last_seq = self._last
        self._last = (ms, 0) if ms > last_ms else (last_ms, last_seq + 1)
        return f"{self._last[0]}-{self._last[1]}"


class MemoryLog:
    """The last ``retention`` events of this process, in a ring."""

    def __init__(self, retention: int = DEFAULT_RETENTION, *, ids: EventIds | None = None) -> None:
        self._ids = ids or EventIds()
        self._ring: deque[Stored] = deque(maxlen=retention)
        # The id just before the oldest kept event: this log's own first id while nothing was
        # dropped, so that a client that connected before any event can still resume.
        self._floor = self._ids.next()
        self._deliver: Deliver | None = None
        self._lock = threading.Lock()

    def append(self, events: Sequence[Event]) -> None:
        with self._lock:  # ids, ring and hand-over in one order for every subscriber
            stored = tuple(Stored(self._ids.next(), event) for event in events)
            overflow = len(self._ring) + len(stored) - (self._ring.maxlen or 0)
            if overflow > 0:
                self._floor = _nth(self._ring, stored, overflow - 1).id
            self._ring.extend(stored)
            if self._deliver is not None:
                self._deliver(stored)

    def start(self, deliver: Deliver, gap: Gap | None = None) -> None:
        self._deliver = deliver  # nothing is ever lost in memory: no gap to tell

    def since(self, last_id: str) -> list[Stored] | Resync:
        if not is_event_id(last_id):
            return RESYNC
        with self._lock:
            if last_id == self._floor:
                return list(self._ring)
            key = event_id_key(last_id)
            at = bisect.bisect_left(self._ring, key, key=lambda s: event_id_key(s.id))
            if at == len(self._ring) or self._ring[at].id != last_id:
                return RESYNC
            return list(itertools.islice(self._ring, at + 1, None))

    def head(self) -> str:
        with self._lock:
            return self._ring[-1].id if self._ring else self._floor

    def close(self) -> None:
        """Nothing to stop: events go on reaching the subscribers of this process."""


def _nth(ring: deque[Stored], more: Sequence[Stored], n: int) -> Stored:
    """The ``n``-th (from 0) of ``ring`` followed by ``more``."""
    return ring[n] if n < len(ring) else more[n - len(ring)]


FIELD = b"e"
# An entry that says "events were lost here" (an append failed while Redis was away): readers
# tell their subscribers, and a replay across it is a resync.
GAP_FIELD = b"gap"
READ_BLOCK_MS = 250  # also how long close() may wait for the reader to notice
READ_COUNT = 1000
RANGE_PAGE = 1000


class RedisLog:
    """A Redis Stream shared by every kefu process (``KEFU_REDIS_URL``, key ``KEFU_EVENT_STREAM``)."""

    def __init__(self, url: str, *, key: str, retention: int = DEFAULT_RETENTION) -> None:
        import redis

        self._redis_errors = (redis.RedisError, OSError)
        self.key = key
        self.retention = retention
        self._client: Any = redis.Redis.from_url(url, socket_timeout=5, health_check_interval=30)
        # The reader blocks up to READ_BLOCK_MS on its own connection.
        self._reader_client: Any = redis.Redis.from_url(
            url, socket_timeout=READ_BLOCK_MS / 1000 + 5
        )
        self._position: str | None = None  # the last entry handed over
        self._lost = False  # an append failed: the next one first writes a gap entry
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def append(self, events: Sequence[Event]) -> None:
        lost = self._lost
        try:
            with self._client.pipeline(transaction=False) as pipe:
                if lost:
                    pipe.xadd(self.key, {GAP_FIELD: b"1"}, maxlen=self.retention, approximate=True)
                for event in events:
                    pipe.xadd(
                        self.key,
                        {FIELD: codec.encode(event).encode()},
                        maxlen=self.retention,
                        approximate=True,
                    )
                pipe.execute()
        except self._redis_errors:
            self._lost = True
            log.exception("events not published: Redis unreachable (%d events)", len(events))
            return
        if lost:
            self._lost = False

    def start(self, deliver: Deliver, gap: Gap | None = None) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            if self._position is None:
                self._position = self._head_or_origin()
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._read,
                args=(deliver, gap or _no_gap),
                name="kefu-event-reader",
                daemon=True,
            )
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=READ_BLOCK_MS / 1000 + 6)
        self._thread = None

    def head(self) -> str:
        return self._head_or_origin()

    def since(self, last_id: str) -> list[Stored] | Resync:
        if not is_event_id(last_id):
            return RESYNC
        page = self._client.xrange(self.key, min=last_id, count=RANGE_PAGE + 1)
        if page and _text(page[0][0]) == last_id:
            page = page[1:]
        elif not (last_id == ORIGIN and self._never_trimmed()):
            return RESYNC
        found = [s for s in map(_stored, page) if s is not None]
        gap = any(_is_gap(entry) for entry in page)
        while len(page) >= RANGE_PAGE:  # ids are unique, so "(" + last excludes what we have
            page = self._client.xrange(self.key, min="(" + _text(page[-1][0]), count=RANGE_PAGE)
            found.extend(s for s in map(_stored, page) if s is not None)
            gap = gap or any(_is_gap(entry) for entry in page)
        return RESYNC if gap else found

    def _never_trimmed(self) -> bool:
        info = self._info()
        return info is None or int(info["entries-added"]) == int(info["length"])

    def _info(self) -> dict[str, Any] | None:
        import redis

        try:
            info: dict[str, Any] = self._client.xinfo_stream(self.key)
        except redis.ResponseError:  # no such key: nothing was ever published
            return None
        return info

    def _head_or_origin(self) -> str:
        info = self._info()
        return ORIGIN if info is None else _text(info["last-generated-id"])

    def _read(self, deliver: Deliver, gap: Gap) -> None:
        backoff = 0.5
        broken = False
        while not self._stop.is_set():
            try:
                answer = self._reader_client.xread(
                    {self.key: self._position or ORIGIN}, block=READ_BLOCK_MS, count=READ_COUNT
                )
                backoff = 0.5
            except self._redis_errors:
                log.warning("event reader: Redis unreachable; retrying in %.1f s", backoff)
                broken = True
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if broken:  # what was published meanwhile may never come (the stream may be new)
                broken = False
                _safely(gap, "telling a gap")
            if self._lost:  # this process lost events and has published nothing since
                self._mark_gap()
            for _key, entries in answer or ():
                if entries:
                    self._position = _text(entries[-1][0])
                    self._hand_over(entries, deliver, gap)

    def _mark_gap(self) -> None:
        """Write the gap entry of this process's lost events (every reader tells its subscribers)."""
        try:
            self._client.xadd(self.key, {GAP_FIELD: b"1"}, maxlen=self.retention, approximate=True)
        except self._redis_errors:
            return
        self._lost = False

    @staticmethod
    def _hand_over(entries: list[Any], deliver: Deliver, gap: Gap) -> None:
        """The entries' events to ``deliver`` in order, a gap entry told where it stands."""
        batches: list[list[Stored] | None] = [[]]  # None: a gap between two batches
        for entry in entries:
            if _is_gap(entry):
                batches += [None, []]
            elif (stored := _stored(entry)) is not None:
                last = batches[-1]
                assert last is not None
                last.append(stored)
        for batch in batches:
            if batch is None:
                _safely(gap, "telling a gap")
            elif batch:
                _safely(partial(deliver, batch), f"delivering {len(batch)} events")


def _safely(call: Callable[[], None], what: str) -> None:
    try:
        call()
    except Exception:  # a subscriber's bug must not stop the reader
        log.exception("%s failed", what)


def _no_gap() -> None:
    pass


def _is_gap(entry: tuple[bytes, dict[bytes, bytes]]) -> bool:
    return GAP_FIELD in entry[1]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _stored(entry: tuple[bytes, dict[bytes, bytes]]) -> Stored | None:
    entry_id, fields = entry
    try:
        return Stored(_text(entry_id), codec.decode(fields[FIELD]))
    except (KeyError, codec.UnknownEvent) as e:
        log.warning("skipping stream entry %s: %s", _text(entry_id), e)
        return None
