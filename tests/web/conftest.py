"""Workspace pages over HTTP: ``sign_in(user)`` gives a client holding a browser session (the
sign-in form's cookies), with the CSRF token to send back on forms."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.factories import PASSWORD


@dataclass
class Browser:
    client: httpx.Client
    csrf: str

    def form(
        self, path: str, data: dict[str, str] | None = None, **kwargs: object
    ) -> httpx.Response:
        """A form post as a page of kefu sends it: same origin, the token in a field."""
        return self.client.post(
            path,
            data={"csrf_token": self.csrf, **(data or {})},
            headers={"Origin": str(self.client.base_url).rstrip("/")},
            **kwargs,  # type: ignore[arg-type]
        )


def sign_in_token(client: httpx.Client) -> str:
    page = client.get("/login")
    match = re.search(r'name="sign_in_token" value="([^"]+)"', page.text)
    assert match, page.text[:500]
    return match.group(1)


def sign_in_with(client: httpx.Client, email: str, password: str = PASSWORD) -> httpx.Response:
    token = sign_in_token(client)
    return client.post(
        "/login",
        data={"email": email, "password": password, "sign_in_token": token, "next": "/account"},
        headers={"Origin": str(client.base_url).rstrip("/")},
    )


SignIn = Callable[..., Browser]


@pytest.fixture
def sign_in(server: str) -> Iterator[SignIn]:
    opened: list[httpx.Client] = []

    def make(user: object, password: str = PASSWORD) -> Browser:
        client = httpx.Client(base_url=server, timeout=30, follow_redirects=False)
        opened.append(client)
        answer = sign_in_with(client, user.email, password)  # type: ignore[attr-defined]
        assert answer.status_code == 303, answer.text[:500]
        return Browser(client, client.cookies["kefu_csrf"])

    yield make
    for client in opened:
        client.close()
