"""The inbox (收件箱): views with live counts, the filter bar, the list of cases and bulk changes.

``/inbox`` is the page; its parts reload themselves when the agent socket tells of a change
(``/inbox/list``, ``/inbox/counts``), the "more" button appends the next page (``/inbox/rows``),
and the bulk bar posts to ``/inbox/bulk``. Views, filters and the sort order are GET parameters,
so a filtered inbox is a link. What the views mean: services/cases/inbox.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from kefu.api.deps import DB, AppSettings
from kefu.db.base import utcnow
from kefu.domain.case_loop import Stage
from kefu.domain.tickets import Channel, Priority
from kefu.domain.triage_labels import Category, Emotion, Intent
from kefu.errors import KefuError
from kefu.services.actors import Actor
from kefu.services.cases import bulk, reads
from kefu.services.cases import inbox as service
from kefu.services.cases import loop as cases
from kefu.services.cases.inbox import Filters, Sort, View
from kefu.web import i18n
from kefu.web.guard import PageActor
from kefu.web.labels import N_, label
from kefu.web.render import page

router = APIRouter(include_in_schema=False)

VIEW_NAMES = {
    View.MINE: N_("我的工单"),
    View.GROUPS: N_("我的组"),
    View.UNASSIGNED: N_("未分配"),
    View.AT_RISK: N_("SLA 风险"),
    View.P1: N_("P1 危机"),
    View.WAITING: N_("等待中"),
    View.RESOLVED: N_("最近解决"),
    View.ALL: N_("全部未结"),
}
SORT_NAMES = {
    Sort.SLA: N_("SLA 剩余时间"),
    Sort.NEWEST: N_("最新消息"),
    Sort.PRIORITY: N_("优先级"),
}
# The filter bar: parameter, vocabulary (for the choices and to check what arrives).
CHOICES: dict[str, type[StrEnum]] = {
    "channel": Channel,
    "priority": Priority,
    "category": Category,
    "emotion": Emotion,
    "intent": Intent,
    "stage": Stage,
}
BULK_ACTIONS = ("assign_me", "assign", "tag", "close")


@dataclass(frozen=True)
class InboxQuery:
    """What the URL asks for: the view, the sort order and the filters."""

    view: View
    sort: Sort
    filters: Filters
    default_view: View

    def params(self, **changes: Any) -> dict[str, str]:
        """The non-default parameters, with ``changes`` applied (None drops one)."""
        values: dict[str, Any] = {
            "view": None if self.view is self.default_view else self.view.value,
            "sort": None if self.sort is service.default_sort(self.view) else self.sort.value,
            **{name: getattr(self.filters, name) for name in (*CHOICES, "tag")},
            "repeat": None
            if self.filters.repeat_complaint is None
            else ("1" if self.filters.repeat_complaint else "0"),
        }
        values.update(changes)
        return {k: str(v) for k, v in values.items() if v is not None and v != ""}

    def url(self, path: str = "/inbox", **changes: Any) -> str:
        query = urlencode(self.params(**changes))
        return f"{path}?{query}" if query else path


def _query(request: Request, actor: Actor) -> InboxQuery:
    """The view, sort and filters of the URL; an unknown value is 422 (never a silent "any")."""
    params = request.query_params
    default = service.default_view(actor)

    def pick(name: str, allowed: list[str]) -> str | None:
        value = params.get(name, "").strip()
        if not value:
            return None
        if value not in allowed:
            raise KefuError("validation_error", status_code=422, details={"field": name})
        return value

    view = View(pick("view", [v.value for v in service.views_for(actor)]) or default)
    sort = Sort(
        pick("sort", [s.value for s in service.sorts_for(view)]) or service.default_sort(view)
    )
    chosen = {
        name: pick(name, [c.value for c in vocabulary]) for name, vocabulary in CHOICES.items()
    }
    tag = params.get("tag", "").strip() or None
    if tag is not None and len(tag) > 50:
        raise KefuError("validation_error", status_code=422, details={"field": "tag"})
    repeat = pick("repeat", ["1", "0"])
    filters = Filters(**chosen, tag=tag, repeat_complaint=None if repeat is None else repeat == "1")
    return InboxQuery(view, sort, filters, default)


def _limit(request: Request) -> int:
    """Rows to show: a page, or as many as the list already shows when it reloads live."""
    raw = request.query_params.get("limit", "")
    if not raw:
        return service.PAGE_SIZE
    if not raw.isdigit():
        raise KefuError("validation_error", status_code=422, details={"field": "limit"})
    return max(1, min(int(raw), service.MAX_PAGE_SIZE))


def _list_context(
    db: DB, actor: Actor, query: InboxQuery, *, cursor: str | None, limit: int
) -> dict[str, Any]:
    now = utcnow()
    result = service.list_page(
        db, actor, query.view, query.filters, query.sort, now=now, cursor=cursor, limit=limit
    )
    assert actor.user_id is not None
    ids = [t.id for t in result.tickets]
    return {
        "query": query,
        "tickets": result.tickets,
        "due": {t.id: service.nearest_due(t) for t in result.tickets},
        "unread": reads.unread_among(db, actor.user_id, ids),
        "next_cursor": result.next_cursor,
        "more_url": query.url("/inbox/rows", cursor=result.next_cursor),
        "more_page_url": query.url(cursor=result.next_cursor),
        "view_names": VIEW_NAMES,
    }


def _counts_context(db: DB, actor: Actor, query: InboxQuery) -> dict[str, Any]:
    counts = service.count_views(db, actor, utcnow())
    views = [
        {
            "view": view,
            "name": VIEW_NAMES[view],
            "count": count,
            "url": query.url(view=None if view is query.default_view else view.value, sort=None),
            "current": view is query.view,
        }
        for view, count in counts.items()
    ]
    return {"views": views, "counts_url": query.url("/inbox/counts")}


def _inbox_page(
    request: Request, db: DB, actor: Actor, query: InboxQuery, **extra: Any
) -> Response:
    cursor = request.query_params.get("cursor") or None
    context = {
        **_list_context(db, actor, query, cursor=cursor, limit=service.PAGE_SIZE),
        **_counts_context(db, actor, query),
        "paged": cursor is not None,
        "choices": {name: [c.value for c in vocabulary] for name, vocabulary in CHOICES.items()},
        "sort_names": {s: SORT_NAMES[s] for s in service.sorts_for(query.view)},
        "members": service.assignable_members(db, actor),
        "known_tags": service.known_tags(db),
        "list_url": query.url("/inbox/list"),
        "clear_url": query.url("/inbox", **dict.fromkeys((*CHOICES, "tag", "repeat"))),
        "back": query.url(),
        **extra,
    }
    return page(request, "workspace/inbox/index.html", context)


@router.get("/inbox")
def inbox_page(request: Request, db: DB, actor: PageActor) -> Response:
    return _inbox_page(request, db, actor, _query(request, actor))


@router.get("/inbox/list")
def inbox_list(request: Request, db: DB, actor: PageActor) -> Response:
    """The list, first page (or as many rows as the page shows): reloaded live."""
    context = _list_context(db, actor, _query(request, actor), cursor=None, limit=_limit(request))
    return page(request, "workspace/inbox/_list.html", context)


@router.get("/inbox/rows")
def inbox_rows(request: Request, db: DB, actor: PageActor, cursor: str = "") -> Response:
    """The rows after ``cursor`` and the next "more" button (appended by the button)."""
    context = _list_context(
        db, actor, _query(request, actor), cursor=cursor or None, limit=service.PAGE_SIZE
    )
    return page(request, "workspace/inbox/_rows.html", context)


@router.get("/inbox/counts")
def inbox_counts(request: Request, db: DB, actor: PageActor) -> Response:
    query = _query(request, actor)
    return page(request, "workspace/inbox/_views.html", _counts_context(db, actor, query))


@router.post("/inbox/bulk")
def inbox_bulk(
    request: Request,
    db: DB,
    actor: PageActor,
    settings: AppSettings,
    action: Annotated[str, Form(max_length=20)] = "",
    ids: Annotated[list[int] | None, Form()] = None,
    assignee_id: Annotated[int | None, Form(ge=1, le=2**62)] = None,
    tag: Annotated[str, Form(max_length=100)] = "",
    back: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Assign, tag or close the checked cases; answers with the summary (htmx) or the page."""
    assert actor.user_id is not None
    chosen = sorted(set(ids or []))
    if action not in BULK_ACTIONS or not chosen:
        raise KefuError(
            "validation_error", status_code=422, details={"field": "action" if chosen else "ids"}
        )
    if action == "assign_me":
        result = bulk.do_bulk_assign(db, actor, chosen, assignee_id=actor.user_id)
    elif action == "assign":
        if assignee_id is None:
            raise KefuError("validation_error", status_code=422, details={"field": "assignee_id"})
        result = bulk.do_bulk_assign(db, actor, chosen, assignee_id=assignee_id)
    elif action == "tag":
        result = bulk.do_bulk_tag(db, actor, chosen, tag=tag)
    else:
        result = bulk.do_bulk_close(db, actor, chosen, policy=cases.policy_of(settings))
    summary = _summary(request, action, result)
    if request.headers.get("hx-request"):
        response = page(request, "workspace/inbox/_bulk_result.html", {"summary": summary})
        response.headers["HX-Trigger"] = "inbox-changed"
        return response
    return _inbox_page(
        request, db, actor, _query_of_back(request, actor, back), bulk_result=summary
    )


def _query_of_back(request: Request, actor: Actor, back: str) -> InboxQuery:
    """The inbox the bulk form was sent from (its query string), for a browser without htmx."""
    query_string = back.partition("?")[2]
    scope = {**request.scope, "query_string": query_string.encode()}
    return _query(Request(scope), actor)


def _summary(request: Request, action: str, result: bulk.BulkResult) -> dict[str, Any]:
    """ "3 closed, 1 refused:" and why each refused, in the reader's language."""
    language = i18n.language_of(request)
    done = {
        "assign_me": N_("已分配给我 {n} 个"),
        "assign": N_("已分配 {n} 个"),
        "tag": N_("已加标签 {n} 个"),
        "close": N_("已关闭 {n} 个"),
    }[action]
    text = i18n.gettext(language, done).format(n=len(result.done))
    if result.refused:
        text += i18n.gettext(language, "，{n} 个未执行：").format(n=len(result.refused))
    refused = [
        {"id": r.ticket_id, "subject": r.subject, "reason": _reason(r.error, language)}
        for r in result.refused
    ]
    return {"text": text, "refused": refused}


def _reason(error: KefuError, language: str) -> str:
    """Why a case refused, for a person in the inbox: a complaint that must go through its
    steps says at which stage it stands and what that stage still needs."""
    if error.code != "steps_required":
        return error.message(language)
    stage = i18n.gettext(language, label("stage", error.params.get("stage_en")))
    missing = error.params.get("missing_en" if language == "en" else "missing", "")
    reason = i18n.gettext(
        language, "投诉须在工单页按闭环步骤处理，不能直接关闭（当前阶段「{stage}」）"
    )
    if missing:
        reason += i18n.gettext(language, "，还缺少：{missing}")
    return reason.format(stage=stage, missing=missing)
