"""Search (搜索): tickets, messages and customers the user may see, ranked, the matches marked.

The same service as ``GET /api/v1/search`` (services/search): Chinese words and character
pairs, traditional folded to simplified, order and phone numbers found exactly.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from kefu.api.deps import DB
from kefu.errors import KefuError
from kefu.services.search import service
from kefu.services.search.index import CUSTOMER, MESSAGE, TICKET
from kefu.web.guard import PageActor
from kefu.web.render import page

router = APIRouter(include_in_schema=False)

SCOPES = {
    "all": (TICKET, CUSTOMER),
    "tickets": (TICKET,),
    "messages": (MESSAGE,),
    "customers": (CUSTOMER,),
}


@router.get("/search")
def search_page(
    request: Request,
    db: DB,
    actor: PageActor,
    q: str = "",
    scope: str = "all",
    cursor: str | None = None,
) -> Response:
    query = q.strip()
    kinds = SCOPES.get(scope, SCOPES["all"])
    context: dict[str, object] = {"q": query, "scope": scope if scope in SCOPES else "all"}
    if query:
        try:
            found = service.search(db, actor, query, kinds=kinds, limit=20, cursor=cursor)
            context.update(hits=found.hits, next_cursor=found.next_cursor)
        except KefuError as e:
            if e.status_code != 422:
                raise
            context["refused"] = e.code
    return page(request, "workspace/search/search.html", context)
