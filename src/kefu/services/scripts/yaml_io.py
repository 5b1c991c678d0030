"""The library as YAML (话术导入导出): a team brings its own scripts or takes them elsewhere.

``parse`` validates a whole file and reports every error with its line; ``do_import`` writes
only a file without errors, in the caller's transaction (never half an import). A script with a
``key`` that is already in the library is updated (a new version when its text changed), or kept
as it is with ``keep_existing`` (the starter library never writes over a team's edits). The
format::

    version: 1
    scenarios:
      - type: complaint            # inquiry | complaint | suggestion | praise
        name: 物流延迟致歉
        industry: retail           # general | retail | food_delivery | telecom | finance | …
        scripts:
          - key: retail.logistics-delay.1      # optional, stable across loads
            title: 物流延迟，先致歉再给进展
            role: body             # opener | body | closing
            when: {intents: [complaint], categories: [logistics]}
            body: 由于[原因]，您的订单[单号]配送比预计晚了……
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import Script, ScriptScenario
from kefu.domain.case_loop import Stage
from kefu.domain.scripts.ranking import PROFILES, Conditions
from kefu.domain.triage_labels import Category, Emotion, Intent
from kefu.errors import KefuError
from kefu.services.actors import Actor
from kefu.services.scripts import library
from kefu.services.scripts.library import INDUSTRIES, ROLES, STATUSES, TYPES

Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
Key = Annotated[str, StringConstraints(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9_.:-]+$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WhenIn(_Strict):
    intents: list[Intent] = Field(default_factory=list)
    categories: list[Category] = Field(default_factory=list)
    emotions: list[Emotion] = Field(default_factory=list)
    stages: list[Stage] = Field(default_factory=list)
    profiles: list[Literal[PROFILES]] = Field(default_factory=list)  # type: ignore[valid-type]
    first_reply: bool | None = None


class ScriptIn(_Strict):
    key: Key | None = None
    title: Text200
    role: Literal[ROLES] = "body"  # type: ignore[valid-type]
    status: Literal[STATUSES] = "published"  # type: ignore[valid-type]
    when: WhenIn = Field(default_factory=WhenIn)
    body: Body


class ScenarioIn(_Strict):
    type: Literal[TYPES]  # type: ignore[valid-type]
    name: Name
    industry: Literal[INDUSTRIES] = "general"  # type: ignore[valid-type]
    position: int = Field(default=0, ge=0, le=10_000)
    scripts: list[ScriptIn] = Field(default_factory=list, max_length=5000)


class LibraryIn(_Strict):
    version: Literal[1] = 1
    scenarios: list[ScenarioIn] = Field(max_length=2000)


@dataclass(frozen=True)
class LineError:
    line: int  # 1-based
    path: str
    message: str


MAX_NODES = 200_000  # aliases may repeat a node: a file may not expand beyond this
MAX_DEPTH = 20


def _plain(
    node: yaml.Node, lines: dict[tuple[Any, ...], int], path: tuple[Any, ...], budget: list[int]
) -> Any:
    """The data of a composed YAML node; ``lines`` gets the line of every path."""
    budget[0] -= 1
    if budget[0] < 0 or len(path) > MAX_DEPTH:
        line = node.start_mark.line + 1
        raise _Invalid(LineError(line, _dotted(path), "the file nests or repeats too much"))
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in out:
                line = key_node.start_mark.line + 1
                raise _Invalid(LineError(line, _dotted(path), f"duplicate key {key!r}"))
            out[key] = _plain(value_node, lines, (*path, key), budget)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_plain(item, lines, (*path, i), budget) for i, item in enumerate(node.value)]
    return yaml.SafeLoader("").construct_object(node)


class _Invalid(Exception):
    def __init__(self, error: LineError) -> None:
        self.error = error


def _dotted(path: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in path) or "(file)"


def _line_of(lines: dict[tuple[Any, ...], int], path: tuple[Any, ...]) -> int:
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path, 1)


def parse(text: str) -> LibraryIn:
    """A library file, validated; ``invalid_library`` (422) lists every error with its line."""
    lines: dict[tuple[Any, ...], int] = {}
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = _plain(node, lines, (), [MAX_NODES]) if node is not None else None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        raise _invalid(
            [LineError(mark.line + 1 if mark else 1, "(file)", str(e.problem or e))]
        ) from e
    except yaml.YAMLError as e:  # not text YAML reads at all (control characters …)
        raise _invalid([LineError(1, "(file)", str(e))]) from e
    except _Invalid as e:
        raise _invalid([e.error]) from e
    if not isinstance(data, dict):
        raise _invalid([LineError(1, "(file)", "the file must be a mapping with 'scenarios'")])
    try:
        parsed = LibraryIn.model_validate(data)
    except ValidationError as e:
        errors = [
            LineError(_line_of(lines, tuple(err["loc"])), _dotted(tuple(err["loc"])), err["msg"])
            for err in e.errors()
        ]
        raise _invalid(errors) from e
    _check_unique_keys(parsed, lines)
    return parsed


def _check_unique_keys(parsed: LibraryIn, lines: dict[tuple[Any, ...], int]) -> None:
    seen: dict[str, str] = {}
    errors = []
    for i, scenario in enumerate(parsed.scenarios):
        for j, script in enumerate(scenario.scripts):
            path = ("scenarios", i, "scripts", j, "key")
            if script.key and script.key in seen:
                errors.append(LineError(_line_of(lines, path), _dotted(path),
                                        f"key {script.key!r} also at {seen[script.key]}"))  # fmt: skip
            elif script.key:
                seen[script.key] = _dotted(path[:-1])
    if errors:
        raise _invalid(errors)


def _invalid(errors: list[LineError]) -> KefuError:
    details = {"errors": [{"line": e.line, "path": e.path, "message": e.message} for e in errors]}
    return KefuError("invalid_library", status_code=422, details=details)


@dataclass
class ImportReport:
    scenarios_created: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept: int = 0  # already there and left as the team has it (keep_existing)


def _scenario(
    session: Session, actor: Actor, item: ScenarioIn, report: ImportReport
) -> ScriptScenario:
    found = session.scalar(
        select(ScriptScenario).where(
            ScriptScenario.type == item.type,
            ScriptScenario.industry == item.industry,
            ScriptScenario.name == item.name,
        )
    )
    if found is not None:
        return found
    report.scenarios_created += 1
    return library.do_create_scenario(session, actor, type=item.type, name=item.name,
                                      industry=item.industry, position=item.position)  # fmt: skip


def do_import(
    session: Session, actor: Actor, text: str, *, keep_existing: bool = False, note: str = "导入"
) -> ImportReport:
    """Import a library file (managers, the CLI and first start); nothing is written if any line
    of the file is wrong."""
    library.require_manager(actor)
    parsed = parse(text)
    report = ImportReport()
    for item in parsed.scenarios:
        scenario = _scenario(session, actor, item, report)
        for s in item.scripts:
            conditions = Conditions.of(s.when.model_dump(mode="json")).as_dict()
            existing = session.scalar(select(Script).where(Script.key == s.key)) if s.key else None
            if existing is None:
                library.create_script(session, actor, scenario=scenario, title=s.title, body=s.body,
                                      role=s.role, conditions=conditions, status=s.status,
                                      key=s.key, note=note)  # fmt: skip
                report.created += 1
                continue
            if keep_existing:
                report.kept += 1
                continue
            wanted = {"scenario_id": scenario.id, "title": s.title, "body": s.body, "role": s.role,
                      "conditions": conditions, "status": s.status}  # fmt: skip
            changes = {k: v for k, v in wanted.items() if getattr(existing, k) != v}
            if changes:
                library.do_update_script(session, actor, existing, changes, note=note)
                report.updated += 1
            else:
                report.unchanged += 1
    return report


def export(session: Session) -> str:
    """The whole library (every status) as a YAML file ``do_import`` reads back."""
    scenarios = []
    full = library.tree(session, library.SYSTEM_READER)
    for scenario in full.scenarios:
        scripts = []
        for script in full.scripts[scenario.id]:
            item: dict[str, Any] = {"key": script.key} if script.key else {}
            item |= {"title": script.title, "role": script.role, "status": script.status}
            if script.conditions:
                item["when"] = script.conditions
            item["body"] = script.body
            scripts.append(item)
        scenarios.append({"type": scenario.type, "name": scenario.name,
                          "industry": scenario.industry, "position": scenario.position,
                          "scripts": scripts})  # fmt: skip
    dumped: str = yaml.safe_dump(
        {"version": 1, "scenarios": scenarios}, allow_unicode=True, sort_keys=False, width=100
    )
    return dumped
