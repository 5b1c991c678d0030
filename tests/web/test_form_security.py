"""Every changing route of the workspace refuses a request without the session's CSRF token
and a request from a page of another origin, even one carrying the token.

The routes come from the app itself (every POST/PUT/PATCH/DELETE of the workspace's page
modules), so a form added later is covered without a new test.
"""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from kefu.app import WORKSPACE_PAGES
from tests import factories
from tests.web.conftest import SignIn

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Signing in has no session yet: its own token (a cookie the form repeats) is tested in
# test_auth_pages.py, as is its refusal of a foreign origin.
BEFORE_A_SESSION = {"/login"}


def _changing_routes(app: FastAPI) -> list[tuple[str, str]]:
    routers = [module.router for module in WORKSPACE_PAGES]
    paths = {
        (route.path, method)
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods & UNSAFE
        if route.path not in BEFORE_A_SESSION
    }
    return sorted(paths)


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_the_workspace_has_forms_to_check(live_app: FastAPI) -> None:
    routes = _changing_routes(live_app)
    assert ("/logout", "POST") in routes
    assert len(routes) >= 4


@pytest.mark.parametrize("case", ["no_token", "wrong_token", "foreign_origin", "null_origin"])
def test_every_form_refuses_a_forged_request(
    case: str, live_app: FastAPI, sign_in: SignIn, db: Session
) -> None:
    admin = factories.make_user(db, role="admin")
    browser = sign_in(admin)
    own = str(browser.client.base_url).rstrip("/")
    for path, method in _changing_routes(live_app):
        headers = {"Origin": own}
        data: dict[str, str] = {}
        if case == "wrong_token":
            data["csrf_token"] = "x" * 43
        elif case == "foreign_origin":
            headers = {"Origin": "https://evil.example", "X-CSRF-Token": browser.csrf}
        elif case == "null_origin":
            headers = {"Origin": "null", "X-CSRF-Token": browser.csrf}
        answer = browser.client.request(method, _concrete(path), data=data, headers=headers)
        assert answer.status_code == 403, (case, method, path, answer.status_code)
        expected = "csrf_failed" if case in ("no_token", "wrong_token") else "origin_refused"
        assert expected in answer.text, (case, method, path)
    # Nothing above signed the admin out.
    assert browser.client.get("/account").status_code == 200
