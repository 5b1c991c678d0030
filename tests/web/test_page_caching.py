"""Workspace pages are never kept in the browser's or a proxy's cache (ASVS V14.3.2)."""

from __future__ import annotations

import httpx
from sqlalchemy.orm import Session

from tests import factories
from tests.web.conftest import SignIn


def test_signed_in_pages_and_the_sign_in_page_say_no_store(
    anon: httpx.Client, sign_in: SignIn, db: Session
) -> None:
    customer = factories.make_customer(db, name="缓存测试客户")
    ticket = factories.make_ticket(db, customer=customer)
    admin = sign_in(factories.make_user(db, role="admin"))
    pages = [anon.get("/login")] + [
        admin.client.get(path)
        for path in ("/inbox", "/account", f"/tickets/{ticket.id}", f"/customers/{customer.id}")
    ]
    for page in pages:
        assert page.status_code == 200, page.url
        assert page.headers["content-type"].startswith("text/html"), page.url
        assert page.headers.get("cache-control") == "no-store", page.url
