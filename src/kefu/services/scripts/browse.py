"""The composer's script browser (话术库浏览): the published library by type (咨询 / 投诉 / 建议 /
表扬) and scenario, narrowed by a search over titles, scenario names and texts.

Agents and supervisors alike browse what can be sent: published scripts only (drafts and
proposals are the supervisors' page's business).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from kefu.db.models import Script, ScriptScenario
from kefu.services.actors import Actor
from kefu.services.scripts.library import TYPES, tree

MAX_SHOWN = 60  # scripts in one answer: a search narrows the rest


@dataclass(frozen=True)
class Shelf:
    """One scenario with the scripts of it that match."""

    scenario: ScriptScenario
    scripts: list[Script]


@dataclass(frozen=True)
class Found:
    by_type: dict[str, list[Shelf]]  # every type of TYPES, in its order; empty ones too
    count: int
    more: bool  # scripts matched beyond MAX_SHOWN


def terms_of(query: str) -> list[str]:
    return [t.casefold() for t in query.split() if t]


def matches(terms: list[str], *texts: str) -> bool:
    """Every term is found in one of ``texts`` (case aside)."""
    haystack = "\n".join(texts).casefold()
    return all(term in haystack for term in terms)


def browse(session: Session, actor: Actor, *, query: str = "", script_type: str = "") -> Found:
    terms = terms_of(query)
    library = tree(session, actor)
    by_type: dict[str, list[Shelf]] = {t: [] for t in TYPES}
    count = 0
    more = False
    for scenario in library.scenarios:
        if script_type and scenario.type != script_type:
            continue
        fits = [
            s
            for s in library.scripts[scenario.id]
            if s.status == "published" and matches(terms, s.title, s.body, scenario.name)
        ]
        room = MAX_SHOWN - count
        if len(fits) > room:
            fits, more = fits[: max(room, 0)], True
        if fits:
            by_type[scenario.type].append(Shelf(scenario, fits))
            count += len(fits)
    return Found(by_type, count, more)
