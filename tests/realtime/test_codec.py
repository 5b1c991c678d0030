"""Every event kind travels as JSON (Redis, sockets) and comes back equal."""

from __future__ import annotations

import dataclasses
import typing
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.domain import events as ev
from kefu.realtime import codec

KINDS = sorted(codec.kinds().values(), key=lambda kind: kind.name)


def test_every_kind_of_domain_events_is_known_by_its_name():
    declared = {
        value.name
        for value in vars(ev).values()
        if isinstance(value, type) and issubclass(value, ev.Event) and value is not ev.Event
    }
    assert set(codec.kinds()) == declared
    assert {"typing", "presence", "delivery.changed", "chat.outbound", "staff.access"} <= declared


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
@settings(deadline=None, max_examples=50)
@given(data=st.data())
def test_an_event_comes_back_equal_from_its_json(kind, data):
    hints = typing.get_type_hints(kind)
    fields = {f.name: st.from_type(hints[f.name]) for f in dataclasses.fields(kind)}
    event = data.draw(st.builds(kind, **fields))
    text = codec.encode(event)
    assert codec.decode(text) == event
    assert codec.decode(text.encode()) == event  # as Redis hands it back


def test_datetimes_and_tuples_are_rebuilt_with_their_types():
    due = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    warned = codec.decode(codec.encode(ev.SlaWarned(7, target="resolution", due_at=due)))
    assert warned.due_at == due and warned.due_at.tzinfo is not None
    changed = codec.decode(codec.encode(ev.TicketChanged(7, fields=("status", "priority"))))
    assert changed.fields == ("status", "priority")


def test_chinese_text_stays_readable_in_the_json():
    text = codec.encode(ev.CrisisRouted(3, reason="规则「危机升级」→ 投诉处理组"))
    assert "危机升级" in text


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[1, 2]",
        '{"event": "no.such.kind", "ticket_id": 1}',
        '{"ticket_id": 1}',
        '{"event": "typing", "ticket_id": 1, "secret": "x"}',
        '{"event": "ticket.changed", "ticket_id": 1, "fields": "status"}',
        '{"event": "sla.warn", "ticket_id": 1, "due_at": "yesterday"}',
    ],
)
def test_what_is_not_a_known_event_is_refused_by_name(text):
    with pytest.raises(codec.UnknownEvent):
        codec.decode(text)
