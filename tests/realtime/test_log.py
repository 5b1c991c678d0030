"""The event log behind the bus: ids in one order, replay of a kept gap, resync of a lost one —
in memory, and on a real Redis Stream shared by several buses as several processes share it."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence

import pytest
import redis

from kefu.domain import events as ev
from kefu.realtime.bus import RESYNC, EventBus, EventIds, Stored, event_id_key
from kefu.realtime.log import ORIGIN, MemoryLog, RedisLog

REDIS_URL = "redis://127.0.0.1:6379/15"


class Heard:
    def __init__(self, bus: EventBus) -> None:
        self.stored: list[Stored] = []
        self.batches = 0
        self.lock = threading.Lock()
        self.unsubscribe = bus.subscribe(self)

    def __call__(self, stored: Sequence[Stored]) -> None:
        with self.lock:
            self.stored.extend(stored)
            self.batches += 1

    @property
    def ids(self) -> list[str]:
        with self.lock:
            return [s.id for s in self.stored]

    @property
    def tickets(self) -> list[int | None]:
        with self.lock:
            return [s.event.ticket_id for s in self.stored]


def _wait_for(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def _changes(*ticket_ids: int) -> list[ev.Event]:
    return [ev.TicketChanged(t, fields=("status",)) for t in ticket_ids]


# --- in memory -------------------------------------------------------------------------------


def test_memory_ids_grow_in_publish_order_and_every_subscriber_gets_each_batch_once():
    bus = EventBus(MemoryLog(100))
    first, second = Heard(bus), Heard(bus)
    bus.publish(_changes(1, 2))
    bus.publish(_changes(3))
    bus.publish([])
    assert first.tickets == second.tickets == [1, 2, 3]
    assert first.batches == 2
    keys = [event_id_key(i) for i in first.ids]
    assert keys == sorted(keys) and len(set(keys)) == 3
    assert bus.head() == first.ids[-1]


def test_memory_replays_the_gap_after_a_kept_id():
    bus = EventBus(MemoryLog(100))
    heard = Heard(bus)
    start = bus.head()  # before any event: the log's floor
    bus.publish(_changes(1, 2, 3, 4))
    ids = heard.ids
    assert [s.event.ticket_id for s in bus.since(ids[1])] == [3, 4]
    assert bus.since(ids[-1]) == []
    assert [s.id for s in bus.since(start)] == ids  # a client connected before the first event


def test_memory_tells_to_resync_when_the_gap_is_no_longer_kept():
    bus = EventBus(MemoryLog(100))
    heard = Heard(bus)
    start = bus.head()
    bus.publish(_changes(*range(1, 151)))  # 50 more than the ring holds
    ids = heard.ids
    assert bus.since(start) is RESYNC
    assert bus.since(ids[10]) is RESYNC
    assert bus.since(ids[49]) == list(heard.stored[50:])  # the floor: just before the oldest kept
    assert [s.event.ticket_id for s in bus.since(ids[50])] == list(range(52, 151))


@pytest.mark.parametrize("last_id", ["", "abc", "12-x", "-3", "1-0", "99999999999999-0", "1" * 80])
def test_memory_tells_to_resync_for_an_id_it_never_gave(last_id):
    bus = EventBus(MemoryLog(100))
    Heard(bus)
    bus.publish(_changes(1, 2))
    assert bus.since(last_id) is RESYNC


def test_an_id_from_before_a_restart_means_resync_not_a_wrong_replay():
    before_restart = EventBus(MemoryLog(100, ids=EventIds(clock=lambda: 1000.0)))
    after_restart = EventBus(MemoryLog(100, ids=EventIds(clock=lambda: 1005.0)))
    heard = Heard(before_restart)
    before_restart.publish(_changes(1))
    after_restart.publish(_changes(2))
    assert after_restart.since(heard.ids[0]) is RESYNC


def test_a_failing_subscriber_does_not_stop_the_others():
    bus = EventBus(MemoryLog(100))

    def broken(stored: Sequence[Stored]) -> None:
        raise RuntimeError("a subscriber's bug")

    bus.subscribe(broken)
    heard = Heard(bus)
    bus.publish(_changes(1))
    assert heard.tickets == [1]


# --- on Redis --------------------------------------------------------------------------------


@pytest.fixture
def stream() -> Iterator[str]:
    key = f"kefu:test:events:{uuid.uuid4().hex}"
    yield key
    redis.Redis.from_url(REDIS_URL).delete(key)


@pytest.fixture
def buses(stream: str) -> Iterator[Callable[..., EventBus]]:
    made: list[EventBus] = []

    def make(retention: int = 1000) -> EventBus:
        bus = EventBus(RedisLog(REDIS_URL, key=stream, retention=retention))
        made.append(bus)
        return bus

    yield make
    for bus in made:
        bus.close()


def test_redis_hands_every_event_from_any_process_to_each_once_in_stream_order(buses):
    one, two = buses(), buses()
    heard_one, heard_two = Heard(one), Heard(two)
    writers = [
        threading.Thread(target=lambda b=bus, n=n: [b.publish(_changes(n * 1000 + i)) for i in range(100)])
        for n, bus in enumerate((one, two, one, two))
    ]  # fmt: skip
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    _wait_for(lambda: len(heard_one.ids) >= 400 and len(heard_two.ids) >= 400)
    assert heard_one.ids == heard_two.ids  # one order for every process
    assert len(set(heard_one.ids)) == 400
    keys = [event_id_key(i) for i in heard_one.ids]
    assert keys == sorted(keys)
    assert sorted(heard_one.tickets) == sorted(n * 1000 + i for n in range(4) for i in range(100))
    assert one.head() == two.head() == heard_one.ids[-1]


def test_redis_replays_a_kept_gap_from_any_process_and_resyncs_a_trimmed_one(buses):
    writer, other = buses(retention=100), buses(retention=100)
    heard = Heard(writer)
    assert other.head() == ORIGIN and other.since(ORIGIN) == []  # a stream never written
    writer.publish(_changes(1, 2, 3))
    _wait_for(lambda: len(heard.ids) == 3)
    assert [s.event for s in other.since(heard.ids[0])] == _changes(2, 3)
    assert [s.event for s in other.since(ORIGIN)] == _changes(1, 2, 3)  # never trimmed yet
    assert other.since(heard.ids[-1]) == []

    for start in range(0, 400, 50):
        writer.publish(_changes(*range(10 + start, 60 + start)))
        # A reader further behind than the stream keeps would miss entries: keep pace.
        _wait_for(lambda n=start: len(heard.ids) == n + 53)
    assert other.since(heard.ids[0]) is RESYNC  # trimmed away: the gap is lost
    assert other.since(ORIGIN) is RESYNC
    recent = heard.ids[-50]
    assert [s.id for s in other.since(recent)] == heard.ids[-49:]
    assert other.since("1-0") is RESYNC and other.since("garbage") is RESYNC


def test_redis_replays_gaps_longer_than_one_page(buses):
    bus = buses(retention=5000)
    heard = Heard(bus)
    bus.publish(_changes(*range(1, 2501)))
    _wait_for(lambda: len(heard.ids) == 2500)
    assert [s.id for s in bus.since(heard.ids[0])] == heard.ids[1:]
    assert [s.id for s in bus.since(ORIGIN)] == heard.ids


def test_the_redis_reader_resumes_after_the_last_event_it_handed_over(buses):
    bus, writer = buses(), buses()
    heard = Heard(bus)
    writer.publish(_changes(1))
    _wait_for(lambda: heard.tickets == [1])
    bus.close()  # as at the end of a server's lifespan
    writer.publish(_changes(2, 3))
    Heard(bus)  # listening again starts the reader again
    _wait_for(lambda: heard.tickets == [1, 2, 3])


def test_an_entry_this_process_cannot_read_is_skipped_not_fatal(buses, stream):
    bus = buses()
    heard = Heard(bus)
    raw = redis.Redis.from_url(REDIS_URL)
    raw.xadd(stream, {"e": '{"event": "from.a.newer.kefu", "ticket_id": 1}'})
    raw.xadd(stream, {"other": "field"})
    bus.publish(_changes(5))
    _wait_for(lambda: heard.tickets == [5])
    assert [s.event.ticket_id for s in bus.since(ORIGIN)] == [5]


def test_a_publish_while_redis_is_away_is_logged_and_dropped_not_raised(caplog):
    unreachable = EventBus(RedisLog("redis://127.0.0.1:1/0", key="kefu:test:nowhere"))
    unreachable.publish(_changes(1))  # after a commit: the request must not fail for it
    assert "Redis unreachable" in caplog.text


def test_events_lost_while_redis_was_away_leave_a_gap_that_every_reader_tells(buses, stream):
    """A process whose publish failed writes a gap entry with its next one: each process's
    subscribers are told (their sockets reload), and a replay across it is a resync."""
    writer, reader = buses(), buses()
    heard, gaps = Heard(reader), []
    reader.subscribe(lambda stored: None, gap=lambda: gaps.append(1))
    writer.publish(_changes(1))
    _wait_for(lambda: heard.tickets == [1])
    before = heard.ids[-1]
    good = writer.log._client  # type: ignore[attr-defined]
    writer.log._client = redis.Redis.from_url("redis://127.0.0.1:1/0")  # type: ignore[attr-defined]
    writer.publish(_changes(2))  # lost: Redis out of reach
    writer.log._client = good  # type: ignore[attr-defined]
    writer.publish(_changes(3))
    _wait_for(lambda: heard.tickets == [1, 3] and gaps == [1])
    assert reader.since(before) is RESYNC
    assert [s.event.ticket_id for s in reader.since(heard.ids[-1])] == []
