"""Password fields mask what is typed and let password managers and paste do their work."""

from __future__ import annotations

from html.parser import HTMLParser

import httpx
from sqlalchemy.orm import Session

from tests import factories
from tests.web.conftest import SignIn


class PasswordFields(HTMLParser):
    """Each password input with its attributes and those of the form around it."""

    def __init__(self) -> None:
        super().__init__()
        self.form: dict[str, str | None] = {}
        self.fields: list[tuple[dict[str, str | None], dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "form":
            self.form = named
        elif tag == "input" and "password" in (named.get("name") or ""):
            self.fields.append((named, self.form))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.form = {}


def fields_of(page: httpx.Response) -> list[tuple[dict[str, str | None], dict[str, str | None]]]:
    assert page.status_code == 200
    parser = PasswordFields()
    parser.feed(page.text)
    assert parser.fields, "the page has password fields"
    return parser.fields


def test_password_fields_are_masked_long_enough_and_open_to_managers_and_paste(
    anon: httpx.Client, sign_in: SignIn, db: Session
) -> None:
    admin = sign_in(factories.make_user(db, role="admin"))
    pages = [
        anon.get("/login"),
        admin.client.get("/account"),
        admin.client.get("/admin/users/new"),
    ]
    for page in pages:
        for field, form in fields_of(page):
            where = f"{page.url.path} {field.get('name')}"
            assert field.get("type") == "password", where
            assert field.get("autocomplete") in ("current-password", "new-password"), where
            assert form.get("autocomplete") != "off", where
            assert int(field.get("maxlength") or 1000) >= 64, where
            blocking = {"onpaste", "oncopy", "ondrop"} & (set(field) | set(form))
            assert not blocking, where
