"""Domain events as JSON and back, by their ``name``: how events travel through Redis between
kefu processes and reach sockets.

``Event.to_json()`` writes ``{"event": name, field: value, ...}`` with datetimes in ISO 8601;
``event_from_json`` finds the kind by name and rebuilds it, turning the fields whose type says
so back into datetimes and tuples (of tuples). Every kind in ``domain/events.py`` is known here without
being listed: a kind added there travels as soon as it exists (tests/realtime/test_codec.py
builds one of each). A name this process does not know (a newer kefu sharing the Redis) is an
``UnknownEvent``, which the reader logs and skips.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from datetime import datetime
from functools import cache
from typing import Any

from kefu.domain import events as ev


class UnknownEvent(ValueError):
    """Not an event this process can rebuild: an unknown name or fields it does not have."""


def encode(event: ev.Event) -> str:
    """The event as compact JSON text (UTF-8 kept as is: Chinese stays readable and short)."""
    return json.dumps(event.to_json(), ensure_ascii=False, separators=(",", ":"))


def decode(text: str | bytes) -> ev.Event:
    try:
        data = json.loads(text)
    except ValueError as e:
        raise UnknownEvent("not JSON") from e
    if not isinstance(data, dict):
        raise UnknownEvent("not a JSON object")
    return event_from_json(data)


def event_from_json(data: dict[str, Any]) -> ev.Event:
    """The event ``Event.to_json()`` wrote."""
    name = data.get("event")
    kind = kinds().get(name) if isinstance(name, str) else None
    if kind is None:
        raise UnknownEvent(f"unknown event kind {name!r}")
    converters = _converters(kind)
    values = {k: v for k, v in data.items() if k != "event"}
    unknown = set(values) - set(converters)
    if unknown:
        raise UnknownEvent(f"{name}: unknown fields {sorted(unknown)}")
    try:
        return kind(**{k: converters[k](v) for k, v in values.items()})
    except (TypeError, ValueError) as e:
        raise UnknownEvent(f"{name}: {e}") from e


@cache
def kinds() -> dict[str, type[ev.Event]]:
    """Every event kind by name (the subclasses of ``Event``, however deep)."""
    found: dict[str, type[ev.Event]] = {}
    todo = list(ev.Event.__subclasses__())
    while todo:
        kind = todo.pop()
        if kind.name in found and found[kind.name] is not kind:
            raise RuntimeError(f"two event kinds named {kind.name!r}")
        found[kind.name] = kind
        todo.extend(kind.__subclasses__())
    return found


def _same(value: Any) -> Any:
    return value


def _datetime(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _tuple(value: Any) -> tuple[Any, ...]:
    """A JSON list as the tuple it was, lists inside it too (a tuple of tuples)."""
    if not isinstance(value, list | tuple):
        raise ValueError("a list was expected")
    return tuple(_tuple(v) if isinstance(v, list) else v for v in value)


_CONVERTERS: dict[str, dict[str, Any]] = {}


def _converters(kind: type[ev.Event]) -> dict[str, Any]:
    known = _CONVERTERS.get(kind.name)
    if known is None:
        known = _CONVERTERS[kind.name] = _converters_of(kind)
    return known


def _converters_of(kind: type[ev.Event]) -> dict[str, Any]:
    hints = typing.get_type_hints(kind)
    converters: dict[str, Any] = {}
    for field in dataclasses.fields(kind):
        hint = hints[field.name]
        arguments = typing.get_args(hint)
        if hint is datetime or datetime in arguments:
            converters[field.name] = _datetime
        elif typing.get_origin(hint) is tuple:
            converters[field.name] = _tuple
        else:
            converters[field.name] = _same
    return converters
