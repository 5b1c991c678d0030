"""Domain events in the unit of work: published once after commit, never on rollback."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy import select

from kefu.db.engine import make_session_factory
from kefu.db.models import Notification
from kefu.domain import events as ev
from kefu.realtime.bus import EventBus, EventIds, Stored, event_id_key
from kefu.services.events import unit_of_work as events
from tests import factories


class Collected:
    def __init__(self, bus: EventBus) -> None:
        self.batches: list[list[ev.Event]] = []
        bus.subscribe(lambda published: self.batches.append([s.event for s in published]))

    @property
    def names(self) -> list[list[str]]:
        return [[e.name for e in batch] for batch in self.batches]


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


@pytest.fixture
def published(bus: EventBus) -> Collected:
    return Collected(bus)


@pytest.fixture
def sessions(engine, bus):
    return make_session_factory(engine, info={events.BUS: bus})


def test_events_are_published_once_after_commit_in_order(sessions, published):
    with sessions() as session:
        events.record(
            session, ev.TicketChanged(1, fields=("status",)), ev.MessageAdded(1, message_id=5)
        )
        session.flush()
        assert published.batches == []  # nothing before the commit
        session.commit()
        assert published.names == [["ticket.changed", "message.added"]]
        session.commit()  # a second commit has nothing new to tell
    assert len(published.batches) == 1


def test_a_rollback_or_a_close_without_commit_publishes_nothing(sessions, published):
    with sessions() as session:
        events.record(session, ev.TicketChanged(1))
        session.rollback()
        session.commit()
        events.record(session, ev.TicketChanged(2))
    with sessions() as session:  # closed above without a commit
        session.commit()
    assert published.batches == []


def test_a_failed_savepoint_drops_its_events_and_keeps_the_rest(sessions, published):
    with sessions() as session:
        events.record(session, ev.TicketChanged(1))
        with pytest.raises(RuntimeError):
            with events.savepoint(session):
                events.record(session, ev.TicketChanged(2))
                raise RuntimeError("this ticket fails")
        with events.savepoint(session):
            events.record(session, ev.TicketChanged(3))
        assert published.batches == []  # a released savepoint is not a commit
        session.commit()
    assert [[e.ticket_id for e in batch] for batch in published.batches] == [[1, 3]]


def test_an_event_that_makes_notices_writes_them_with_the_change(sessions, published, db):
    group = factories.make_group(db, "售后组")
    boss = factories.make_user(db, role="supervisor", groups=[group])
    factories.make_user(db, role="supervisor")  # another group's: not told
    ticket = factories.make_ticket(db, group=group)
    breach = ev.SlaBreached(ticket.id, target="resolution", priority="P2", group_id=group.id)
    with sessions() as session:
        events.record(session, breach)
        session.rollback()
    assert db.scalars(select(Notification)).all() == []  # rolled back with its change
    with sessions() as session:
        events.record(session, breach)
        session.commit()
    db.rollback()  # a fresh snapshot
    [notice] = db.scalars(select(Notification)).all()
    assert (notice.user_id, notice.ticket_id, notice.kind) == (boss.id, ticket.id, "sla.breach")
    [batch] = published.batches
    assert [e.name for e in batch] == ["sla.breach", "notice.created"]
    assert batch[1] == ev.NoticeCreated(
        ticket.id, notification_id=notice.id, user_id=boss.id, kind="sla.breach"
    )


def test_a_subscriber_that_fails_does_not_stop_the_others(bus, sessions):
    seen: list[Sequence[Stored]] = []

    def broken(_: Sequence[Stored]) -> None:
        raise RuntimeError("subscriber bug")

    bus.subscribe(broken)
    unsubscribe = bus.subscribe(seen.append)
    with sessions() as session:
        events.record(session, ev.TicketOpened(1))
        session.commit()
    unsubscribe()
    with sessions() as session:
        events.record(session, ev.TicketOpened(2))
        session.commit()
    assert [[s.event.ticket_id for s in batch] for batch in seen] == [[1]]


def test_every_published_event_gets_an_id_growing_in_publish_order(bus, sessions):
    seen: list[Stored] = []
    bus.subscribe(seen.extend)
    for ticket_id in range(1, 4):
        with sessions() as session:
            events.record(session, ev.TicketOpened(ticket_id), ev.TicketChanged(ticket_id))
            session.commit()
    keys = [event_id_key(s.id) for s in seen]
    assert [s.event.ticket_id for s in seen] == [1, 1, 2, 2, 3, 3]
    assert keys == sorted(keys) and len(set(keys)) == 6


def test_event_ids_never_go_back_when_the_clock_does():
    times = iter([10.0, 10.0, 9.0, 11.0])
    ids = EventIds(clock=lambda: next(times))
    assert [ids.next() for _ in range(4)] == ["10000-0", "10000-1", "10000-2", "11000-0"]
