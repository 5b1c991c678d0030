"""What helps the agent write beside the ticket page's composer: the suggested replies for the
case (话术推荐, reloaded when the customer writes again) and the script browser's results (话术库,
by type and scenario, searchable). Both are htmx fragments; a script is inserted filled for the
case (``POST /api/v1/scripts/{id}/fill``), a macro run through ``ticket_actions.py``.

Another group's ticket is a 404, as everywhere (``access_ticket``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from kefu.api.deps import DB
from kefu.api.schemas import Id
from kefu.db.models import User
from kefu.errors import KefuError
from kefu.norms.model import REWRITE_USES, RULES, WHOLE_REPLY
from kefu.services.cases.tickets import access_ticket
from kefu.services.scripts import browse
from kefu.services.scripts.library import TYPES
from kefu.services.scripts.suggest import suggest
from kefu.web import i18n
from kefu.web.guard import PageActor
from kefu.web.labels import label
from kefu.web.pages.scripts import NAMES, segments
from kefu.web.render import page

router = APIRouter(include_in_schema=False)

SUGGESTED = 3  # the "best three"


def composer_rules(language: str) -> dict[str, dict[str, str | bool]]:
    """For the composer's script: each norms rule's name, how its rewrite applies, and whether
    its findings are underlined in the draft."""
    return {
        rule: {
            "name": i18n.gettext(language, label("norm_rule", rule)),
            "use": REWRITE_USES.get(rule, "replace"),
            "mark": rule not in WHOLE_REPLY,
        }
        for rule in RULES
    }


@router.get("/tickets/{ticket_id}/suggestions")
def suggestions(request: Request, ticket_id: Id, db: DB, actor: PageActor) -> Response:
    """The best replies for the case's latest customer message, composed and filled; what is
    left unfilled is marked."""
    ticket = access_ticket(db, actor, ticket_id)
    agent = db.get(User, actor.user_id) if actor.user_id else None
    found = suggest(db, ticket, SUGGESTED, agent=agent)
    context = {
        "ticket": ticket,
        "suggestions": [(s, [(p.start, p.end) for p in s.unfilled]) for s in found],
    }
    return page(request, "workspace/tickets/_suggestions.html", context)


@router.get("/tickets/{ticket_id}/scripts")
def script_results(
    request: Request,
    ticket_id: Id,
    db: DB,
    actor: PageActor,
    q: Annotated[str, Query(max_length=100)] = "",
    type: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """The published scripts of ``type`` (all types when empty) that match ``q``."""
    if type and type not in TYPES:
        raise KefuError("validation_error", status_code=422, details={"field": "type"})
    ticket = access_ticket(db, actor, ticket_id)
    found = browse.browse(db, actor, query=q.strip(), script_type=type)
    context = {"ticket": ticket, "found": found, "query": q.strip(), "names": NAMES,
               "segments": segments}  # fmt: skip
    return page(request, "workspace/tickets/_script_results.html", context)
