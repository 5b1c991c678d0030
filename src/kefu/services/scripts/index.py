"""The published library in memory, for suggestions in well under 20 ms at thousands of scripts.

One index per database, rebuilt when the library's stamp (library.renew_stamp) differs from the
one it was built at: any process sees another's change at its next suggestion. Bodies are
bucketed by category, so a suggestion scores only the scripts that can fit.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import Script, ScriptScenario
from kefu.domain.scripts.ranking import Conditions
from kefu.services.scripts.library import current_stamp

ANY = "*"


@dataclass(frozen=True)
class Entry:
    id: int
    version: int
    title: str
    body: str
    role: str
    conditions: Conditions
    scenario_id: int
    scenario: str
    type: str
    industry: str


@dataclass
class LibraryIndex:
    stamp: str
    openers: list[Entry] = field(default_factory=list)
    closings: list[Entry] = field(default_factory=list)
    bodies_by_category: dict[str, list[Entry]] = field(default_factory=lambda: defaultdict(list))

    def bodies_for(self, category: str | None) -> list[Entry]:
        found = self.bodies_by_category.get(category or "", []) if category else []
        return [*found, *self.bodies_by_category.get(ANY, [])]

    def add(self, entry: Entry) -> None:
        if entry.role == "opener":
            self.openers.append(entry)
        elif entry.role == "closing":
            self.closings.append(entry)
        else:
            for category in entry.conditions.categories or {ANY}:
                self.bodies_by_category[category].append(entry)


_lock = threading.Lock()
_indexes: dict[str, LibraryIndex] = {}


def build(session: Session, stamp: str) -> LibraryIndex:
    index = LibraryIndex(stamp)
    rows = session.execute(
        select(Script, ScriptScenario)
        .join(ScriptScenario, ScriptScenario.id == Script.scenario_id)
        .where(Script.status == "published")
        .order_by(Script.id)
    )
    for script, scenario in rows:
        index.add(
            Entry(
                script.id, script.current_version, script.title, script.body, script.role,
                Conditions.of(script.conditions), scenario.id, scenario.name, scenario.type,
                scenario.industry,
            )
        )  # fmt: skip
    return index


def library_index(session: Session) -> LibraryIndex:
    """The index of the session's database, rebuilt if the library changed since."""
    bind = session.get_bind()
    key = str(bind.engine.url) if hasattr(bind, "engine") else str(id(bind))
    stamp = current_stamp(session)
    index = _indexes.get(key)
    if index is not None and index.stamp == stamp:
        return index
    fresh = build(session, stamp)
    with _lock:
        _indexes[key] = fresh
    return fresh
