"""/api/v1/scripts: the reply-script library (话术库) — the tree of types → scenarios → scripts,
editing (every edit a new version), proposals from agents and their review, filling a script for
a case, and YAML import and export."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import Field, StringConstraints

from kefu.api.access import MANAGERS, STAFF, allow
from kefu.api.deps import DB, CurrentActor
from kefu.api.schemas import ERRORS, Id, In, Out, Patch
from kefu.db.models import User
from kefu.services.cases.tickets import access_ticket
from kefu.services.scripts import library, yaml_io
from kefu.services.scripts.library import INDUSTRIES, ROLES, STATUSES, TYPES
from kefu.services.scripts.suggest import fill_for_ticket
from kefu.services.scripts.yaml_io import WhenIn

router = APIRouter(prefix="/scripts", tags=["scripts"], responses=ERRORS)

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
ScenarioName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
]
ScriptType = Literal[TYPES]  # type: ignore[valid-type]
Industry = Literal[INDUSTRIES]  # type: ignore[valid-type]
Role = Literal[ROLES]  # type: ignore[valid-type]
Status = Literal[STATUSES]  # type: ignore[valid-type]


class PlaceholderPublic(Out):
    name: str
    raw: str = Field(description="as written in the text, brackets included")
    start: int = Field(description="offset in the text (characters)")
    end: int


class ScriptPublic(Out):
    id: int
    scenario_id: int
    key: str | None
    title: str
    body: str
    role: str = Field(description="opener | body | closing")
    conditions: dict[str, Any]
    status: str = Field(description="draft | proposed | published | retired")
    current_version: int
    review_note: str
    created_by_id: int | None
    created_at: datetime
    updated_at: datetime


class ScenarioPublic(Out):
    id: int
    type: str
    name: str
    industry: str
    position: int


class ScenarioNode(ScenarioPublic):
    scripts: list[ScriptPublic]


class TypeNode(Out):
    type: str = Field(description="inquiry 咨询 | complaint 投诉 | suggestion 建议 | praise 表扬")
    scenarios: list[ScenarioNode]


class VersionPublic(Out):
    number: int
    title: str
    body: str
    author_id: int | None
    note: str
    created_at: datetime


class ScenarioCreate(In):
    type: ScriptType
    name: ScenarioName
    industry: Industry = "general"
    position: Annotated[int, Field(ge=0, le=10_000)] = 0


class ScriptCreate(In):
    scenario_id: Id
    title: Title
    body: Body
    role: Role = "body"
    conditions: WhenIn = Field(default_factory=WhenIn)
    status: Literal["draft", "published"] = "published"
    note: Note = ""


class ScriptUpdate(Patch):
    not_null = frozenset({"scenario_id", "title", "body", "role", "conditions", "status"})

    scenario_id: Id | None = None
    title: Title | None = None
    body: Body | None = None
    role: Role | None = None
    conditions: WhenIn | None = None
    status: Status | None = None
    note: Note = Field(default="", description="why: kept with the new version")


class ProposalCreate(In):
    message_id: Id = Field(description="one of your own sent replies")
    scenario_id: Id
    title: Title
    body: Body | None = Field(
        default=None,
        description="the reply edited for reuse (names → placeholders); default: as sent",
    )
    role: Role = "body"
    conditions: WhenIn = Field(default_factory=WhenIn)
    note: Note = ""


class Review(In):
    decision: Literal["publish", "reject"]
    note: Note = ""


class Filled(Out):
    script_id: int
    version: int
    text: str
    unfilled: list[PlaceholderPublic] = Field(
        description="placeholders left without a value: highlighted, and sending is blocked"
    )


class ImportBody(In):
    yaml: Annotated[str, StringConstraints(min_length=1, max_length=5_000_000)]


class ImportReportPublic(Out):
    scenarios_created: int
    created: int
    updated: int
    unchanged: int
    kept: int


def _public(script: Any) -> ScriptPublic:
    return ScriptPublic.model_validate(script)


@router.get(
    "/tree", response_model=list[TypeNode], summary="Types → scenarios → scripts", **allow(*STAFF)
)
def script_tree(
    db: DB, actor: CurrentActor, industry: Annotated[Industry | None, Query()] = None
) -> list[TypeNode]:
    found = library.tree(db, actor, industry=industry)
    nodes = {t: TypeNode(type=t, scenarios=[]) for t in TYPES}
    for scenario in found.scenarios:
        node = ScenarioNode(**ScenarioPublic.model_validate(scenario).model_dump(),
                            scripts=[_public(s) for s in found.scripts[scenario.id]])  # fmt: skip
        nodes[scenario.type].scenarios.append(node)
    return list(nodes.values())


@router.get("/export", summary="The whole library as YAML", **allow(*MANAGERS))
def export_library(db: DB, actor: CurrentActor) -> Response:
    return Response(yaml_io.export(db), media_type="application/yaml; charset=utf-8")


@router.post(
    "/import", response_model=ImportReportPublic, summary="Import a YAML library (all or nothing)",
    **allow(*MANAGERS),
)  # fmt: skip
def import_library(body: ImportBody, db: DB, actor: CurrentActor) -> ImportReportPublic:
    report = yaml_io.do_import(db, actor, body.yaml)
    return ImportReportPublic.model_validate(report)


@router.post(
    "/scenarios", response_model=ScenarioPublic, status_code=201, summary="Add a scenario",
    **allow(*MANAGERS),
)  # fmt: skip
def create_scenario(body: ScenarioCreate, db: DB, actor: CurrentActor) -> ScenarioPublic:
    scenario = library.do_create_scenario(db, actor, **body.model_dump())
    return ScenarioPublic.model_validate(scenario)


@router.post(
    "/proposals", response_model=ScriptPublic, status_code=201,
    summary="Propose one of your sent replies as a script", **allow(*STAFF),
)  # fmt: skip
def propose_script(body: ProposalCreate, db: DB, actor: CurrentActor) -> ScriptPublic:
    fields = body.model_dump(exclude={"conditions"}) | {
        "conditions": body.conditions.model_dump(mode="json")
    }
    return _public(library.do_propose_from_reply(db, actor, **fields))


@router.post(
    "", response_model=ScriptPublic, status_code=201, summary="Add a script", **allow(*MANAGERS)
)
def create_script(body: ScriptCreate, db: DB, actor: CurrentActor) -> ScriptPublic:
    fields = body.model_dump(exclude={"conditions"})
    fields["conditions"] = body.conditions.model_dump(mode="json")
    return _public(library.do_create_script(db, actor, **fields))


@router.get("/{script_id}", response_model=ScriptPublic, summary="One script", **allow(*STAFF))
def get_script(script_id: Id, db: DB, actor: CurrentActor) -> ScriptPublic:
    return _public(library.access_script(db, actor, script_id))


@router.patch(
    "/{script_id}", response_model=ScriptPublic, summary="Edit a script (a new version)",
    **allow(*MANAGERS),
)  # fmt: skip
def update_script(script_id: Id, body: ScriptUpdate, db: DB, actor: CurrentActor) -> ScriptPublic:
    script = library.access_script(db, actor, script_id)
    changes = body.model_dump(exclude_unset=True, exclude={"note"}, mode="json")
    return _public(library.do_update_script(db, actor, script, changes, note=body.note))


@router.get(
    "/{script_id}/versions", response_model=list[VersionPublic], summary="A script's versions",
    **allow(*STAFF),
)  # fmt: skip
def script_versions(script_id: Id, db: DB, actor: CurrentActor) -> list[VersionPublic]:
    script = library.access_script(db, actor, script_id)
    return [VersionPublic.model_validate(v) for v in library.versions(db, script)]


@router.post(
    "/{script_id}/review", response_model=ScriptPublic, summary="Publish or reject a proposal",
    **allow(*MANAGERS),
)  # fmt: skip
def review_script(script_id: Id, body: Review, db: DB, actor: CurrentActor) -> ScriptPublic:
    script = library.access_script(db, actor, script_id)
    reviewed = library.do_review(
        db, actor, script, publish=body.decision == "publish", note=body.note
    )
    return _public(reviewed)


@router.post(
    "/{script_id}/fill", response_model=Filled, summary="The script as a reply on a case",
    **allow(*STAFF),
)  # fmt: skip
def fill_script(
    script_id: Id, db: DB, actor: CurrentActor, ticket_id: Annotated[int, Query(ge=1, le=2**62)]
) -> Filled:
    ticket = access_ticket(db, actor, ticket_id)
    script = library.access_script(db, actor, script_id)
    agent = db.get(User, actor.user_id) if actor.user_id else None
    text, unfilled = fill_for_ticket(db, script, ticket, agent=agent)
    return Filled(script_id=script.id, version=script.current_version, text=text,
                  unfilled=[PlaceholderPublic.model_validate(p) for p in unfilled])  # fmt: skip
