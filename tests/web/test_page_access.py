"""Object-level access on the workspace pages (the routes /openapi.json leaves out): every page
kefu serves is read as the outsiders of tests/api/test_object_access.py — an agent and a
specialist of group A, signed in with a browser session, and someone not signed in (the public
help centre and survey links) — with group B's objects in its path
(and, for a path naming a case and something of it, the outsider's own case with B's thing) and
in its query. A page naming B's object is refused; no page ever shows B's canary. A path
parameter missing from ``PAGE_OBJECTS`` fails the test, so a new page is classified."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any

from fastapi.routing import APIRoute
from sqlalchemy import func, or_, select

from kefu.db.models import (
    Customer,
    CustomerJoin,
    Identity,
    Message,
    Notification,
    OutboxEntry,
    QaDispute,
    QaReview,
    Ticket,
    TicketLink,
    TrainingSession,
)
from tests.api.test_object_access import CANARY, PATH_OBJECTS, WORD, World, world  # noqa: F401 - the fixture
from tests.web.conftest import SignIn

# Page parameters beyond those of the API (tests/api/test_object_access.py PATH_OBJECTS).
PAGE_OBJECTS = PATH_OBJECTS | {
    "message_id": "the customer's first message on B's case",
    "mailbox_id": "a mailbox (admins only)",
    "account_id": "a WeChat account (admins only)",
    "feed_id": "a social feed (admins only)",
    "part": "a part of the supervisors' board",
    "name": "a dashboard export (supervisors and admins only)",
    "token": "a survey link's signed token (an unknown one)",
    "training_id": "the training session of B's agent",
    "step": "a step of the case loop",
    "raw_id": "a stored raw mail (admins only)",
}
PAGE_VALUES = {"mailbox_id": 1, "account_id": 1, "feed_id": 1, "part": "agents", "name": "kpis"}
PAGE_VALUES |= {"token": "x", "key": "none", "step": "record_facts", "raw_id": 1}

# Pages with an object id every staff member may read whatever its group.
SHARED_PAGES = {
    "/cases/library/{entry_id}": "anonymised lessons for every agent",
    "/help/a/{key}": "the public help centre",
    "/kb/a/{key}": "the knowledge base",
    "/scripts/{script_id}": "the script library",
}
OUTSIDERS = {"agent_a": "a@side.cn", "specialist_a": "s@side.cn"}


# Forms posted by the outsiders: every field that can name an object names B's (the form of a
# case's page posted for the outsider's own case then tries to reach B's through it).
FORM = {
    "ids": "{ticket_id}", "action": "assign_me", "ticket": "{ticket_id}", "ticket_id": "{ticket_id}",
    "into_ticket_id": "{ticket_id}", "other_ticket_id": "{ticket_id}", "customer_id": "{customer_id}",
    "source_id": "{customer_id}", "group_id": "{group_a}", "assignee_id": "{agent_a}",
    "text": "您好", "facts": "事实", "kind": "phone", "value": "13800000000", "status": "resolved",
    "tag": "外人", "tags": "外人", "name": "外人改名", "note": "外人备注", "comment": "外人",
    "online": "false",
}  # fmt: skip
# Fields whose meaning differs by form.
FORMS = {
    "/customers/joins/{join_id}/confirm": {"back": "{customer_id}"},
    "/customers/joins/{join_id}/dismiss": {"back": "{customer_id}"},
    "/tickets/{ticket_id}/messages": {"kind": "note"},
    "/tickets/{ticket_id}/fields": {"priority": "P1", "tags": ""},
}
# Forms not posted: the caller's own session and account, and the public pages of customers.
NOT_POSTED = ("/login", "/logout", "/language", "/account", "/demo", "/s/", "/help/", "/chat/")


def _pages(routes: Any, prefix: str = "", method: str = "GET") -> Iterator[str]:
    """The paths of every ``method`` route /openapi.json leaves out (included routers walked)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            context = route.include_context
            more = context.get("prefix", "") if isinstance(context, dict) else context.prefix
            yield from _pages(included.routes, prefix + (more or ""), method)
        elif method in (getattr(route, "methods", None) or set()):
            if not (isinstance(route, APIRoute) and route.include_in_schema):
                yield prefix + route.path


def _urls(path: str, ids: dict[str, Any]) -> list[str]:
    """``path`` with B's objects; naming a case and a thing of it: also the outsider's case."""
    names = re.findall(r"\{(\w+)(?::\w+)?\}", path)
    values = {n: PAGE_VALUES.get(n, ids.get(n)) for n in names}
    choices = [values]
    if "ticket_id" in names and len(names) > 1:
        choices.append(values | {"ticket_id": ids["ticket_a"]})
    return [_filled(path, choice) for choice in choices]


def _filled(path: str, values: dict[str, Any]) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(values[m.group(1)]), path)


def test_every_page_parameter_is_classified(live_app):
    paths = [*_pages(live_app.routes), *_pages(live_app.routes, method="POST")]
    names = {n for p in paths for n in re.findall(r"\{(\w+)", p)}
    assert sorted(names - set(PAGE_OBJECTS) - {"relative"}) == []  # relative: static files


def test_no_page_shows_an_outsider_group_bs_data(world: World, live_app, sign_in: SignIn, anon):  # noqa: F811
    ids = world.ids
    clients = {who: sign_in(type("U", (), {"email": e})).client for who, e in OUTSIDERS.items()}
    clients["anonymous"] = anon  # the public pages: the help centre, survey links
    queries = ({}, {"q": WORD, "customer_id": ids["customer_id"], "ticket_id": ids["ticket_id"]})
    wrong: list[str] = []
    for path in _pages(live_app.routes):
        if path.startswith("/static"):
            continue
        for url, (who, client), query in itertools.product(
            _urls(path, ids), clients.items(), queries
        ):
            answer = client.get(url, params=query)
            names_b = "{" in path and path not in SHARED_PAGES
            if CANARY in answer.text or answer.status_code >= 500:
                wrong.append(f"{url} as {who}: {answer.status_code} shows B's data")
            elif names_b and answer.status_code == 200:
                wrong.append(f"{url} as {who}: 200 for B's object")
    assert wrong == []


def test_the_pages_of_a_customer_an_outsider_may_see_show_none_of_their_cases_of_group_b(
    world: World,  # noqa: F811
    live_app,
    sign_in: SignIn,
):
    """… and every page of the queued case, which is linked to the case of group B."""
    ids = world.ids | {
        "customer_id": world.ids["shared_customer_id"],
        "ticket_id": world.ids["shared_ticket_id"],
    }
    browser = sign_in(type("U", (), {"email": OUTSIDERS["agent_a"]}))
    paths = [
        p
        for p in _pages(live_app.routes)
        if re.fullmatch(r"[^{]*\{(customer_id|ticket_id)\}[^{]*", p)
    ]
    assert paths
    for path in paths:
        answer = browser.client.get(_filled(path, ids))
        assert answer.status_code < 500 and CANARY not in answer.text, path
    page = browser.client.get(f"/customers/{ids['customer_id']}")
    assert page.status_code == 200 and "还在排队的问题" in page.text  # not vacuous
    case = browser.client.get(f"/tickets/{ids['ticket_id']}")
    assert case.status_code == 200 and "还在排队的问题" in case.text


def _state_of_b(db, ids: dict[str, Any]) -> dict[str, Any]:
    """Everything of group B's an outsider's post could change, as the database has it now."""
    db.rollback()  # a fresh read: the server committed

    def row(model: Any, key: int) -> dict[str, Any]:
        found = db.get(model, key)
        db.refresh(found)
        return {c.name: getattr(found, c.key) for c in model.__mapper__.columns}

    ticket_id, customer_id = ids["ticket_id"], ids["customer_id"]
    return {
        "ticket": row(Ticket, ticket_id),
        "tags": sorted(t.name for t in db.get(Ticket, ticket_id).tags),
        "customer": row(Customer, customer_id),
        "join": row(CustomerJoin, ids["join_id"]),
        "notice": row(Notification, ids["notification_id"]),
        "review": row(QaReview, ids["review_id"]),
        "outbox": row(OutboxEntry, ids["outbox_id"]),
        "training": row(TrainingSession, ids["training_id"]),
        "disputes": db.scalar(select(func.count()).where(QaDispute.review_id == ids["review_id"])),
        "messages": db.scalar(select(func.count()).where(Message.ticket_id == ticket_id)),
        "identities": db.scalar(select(func.count()).where(Identity.customer_id == customer_id)),
        "links": db.scalar(
            select(func.count()).where(
                or_(TicketLink.ticket_id == ticket_id, TicketLink.linked_ticket_id == ticket_id)
            )
        ),
    }


def test_no_form_lets_an_outsider_change_or_see_group_bs_data(
    world: World,  # noqa: F811
    live_app,
    sign_in: SignIn,
    db,
):
    ids = world.ids
    before = _state_of_b(db, ids)
    wrong: list[str] = []
    for who, email in OUTSIDERS.items():
        browser = sign_in(type("U", (), {"email": email}))
        for path in _pages(live_app.routes, method="POST"):
            if path.startswith(NOT_POSTED):
                continue
            fields = FORM | FORMS.get(path, {})
            form = {k: _filled(v, ids) if "{" in v else v for k, v in fields.items()}
            for url in _urls(path, ids):
                answer = browser.form(url, form)
                if CANARY in answer.text or answer.status_code >= 500:
                    wrong.append(f"POST {url} as {who}: {answer.status_code} {answer.text[:120]}")
    assert wrong == []
    assert _state_of_b(db, ids) == before


# Pages for people who are not signed in, and the API's documentation: no sign-out to show.
SIGNED_OUT_PAGES = (
    "/login",
    "/password-reset",
    "/help",
    "/s/",
    "/chat/",
    "/demo",
    "/docs",
    "/redoc",
)


def test_every_workspace_page_has_the_sign_out_form(world: World, live_app, sign_in: SignIn, db):  # noqa: F811
    """ASVS V7.4.4: every full page an admin can open (every GET route of the app, with real
    objects in its path) shows the top bar's sign-out, a form posting to /logout with the
    session's CSRF token; fragments htmx swaps in are not pages."""
    from tests import factories

    browser = sign_in(factories.make_user(db, role="admin", email="walker@side.cn"))
    form = re.compile(
        r'<form method="post" action="/logout">\s*'
        rf'<input type="hidden" name="csrf_token" value="{re.escape(browser.csrf)}">'
    )
    checked, missing = [], []
    for path in _pages(live_app.routes):
        if path.startswith(("/static", *SIGNED_OUT_PAGES)) or path == "/":
            continue
        for url in _urls(path, world.ids):
            answer = browser.client.get(url, headers={"Accept": "text/html"})
            is_page = "text/html" in answer.headers.get("content-type", "")
            if answer.status_code != 200 or not is_page or "<html" not in answer.text:
                continue
            checked.append(url)
            if not form.search(answer.text):
                missing.append(url)
    assert missing == []
    assert len(checked) > 50, (
        checked
    )  # the walk reached the workspace (62 pages now)  # the walk reached the workspace, not just a few pages
