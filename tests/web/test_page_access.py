"""Object-level access on the workspace pages (the routes /openapi.json leaves out): every page
kefu serves is read as the outsiders of tests/api/test_object_access.py — an agent and a
specialist of group A, signed in with a browser session — with group B's objects in its path
(and, for a path naming a case and something of it, the outsider's own case with B's thing) and
in its query. A page naming B's object is refused; no page ever shows B's canary. A path
parameter missing from ``PAGE_OBJECTS`` fails the test, so a new page is classified."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any

from fastapi.routing import APIRoute

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
    "training_id": "a training session (of nobody here)",
}
PAGE_VALUES = {"mailbox_id": 1, "account_id": 1, "feed_id": 1, "part": "agents", "name": "kpis"}
PAGE_VALUES |= {"token": "x", "training_id": 1, "key": "none"}

# Pages with an object id every staff member may read whatever its group.
SHARED_PAGES = {
    "/cases/library/{entry_id}": "anonymised lessons for every agent",
    "/help/a/{key}": "the public help centre",
    "/kb/a/{key}": "the knowledge base",
    "/scripts/{script_id}": "the script library",
}
OUTSIDERS = {"agent_a": "a@side.cn", "specialist_a": "s@side.cn"}


def _pages(routes: Any, prefix: str = "") -> Iterator[str]:
    """The paths of every GET route /openapi.json leaves out (included routers walked)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            context = route.include_context
            more = context.get("prefix", "") if isinstance(context, dict) else context.prefix
            yield from _pages(included.routes, prefix + (more or ""))
        elif "GET" in (getattr(route, "methods", None) or set()):
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
    names = {n for p in _pages(live_app.routes) for n in re.findall(r"\{(\w+)", p)}
    assert sorted(names - set(PAGE_OBJECTS) - {"relative"}) == []  # relative: static files


def test_no_page_shows_an_outsider_group_bs_data(world: World, live_app, sign_in: SignIn):  # noqa: F811
    ids = world.ids
    browsers = {who: sign_in(type("U", (), {"email": e})) for who, e in OUTSIDERS.items()}
    queries = ({}, {"q": WORD, "customer_id": ids["customer_id"], "ticket_id": ids["ticket_id"]})
    wrong: list[str] = []
    for path in _pages(live_app.routes):
        if path.startswith("/static"):
            continue
        for url, (who, browser), query in itertools.product(
            _urls(path, ids), browsers.items(), queries
        ):
            answer = browser.client.get(url, params=query)
            names_b = "{" in path and path not in SHARED_PAGES
            if CANARY in answer.text or answer.status_code >= 500:
                wrong.append(f"{url} as {who}: {answer.status_code} shows B's data")
            elif names_b and answer.status_code == 200:
                wrong.append(f"{url} as {who}: 200 for B's object")
    assert wrong == []
