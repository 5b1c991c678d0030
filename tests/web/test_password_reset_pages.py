"""The "forgot password" pages: the link on the sign-in page, the request (one answer for every
address), the link's page that sets a new password, and what a used or bad link shows."""

from __future__ import annotations

import re
import time

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import OutboxEntry
from tests import factories
from tests.web.conftest import sign_in_with

NEW_PASSWORD = "lantern-orchard-quiet"  # noqa: S105 - a test's password


def _form_token(page: httpx.Response) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', page.text).group(1)


def _reset_mails(db: Session, count: int) -> list[OutboxEntry]:
    """The reset mails, once ``count`` are queued (they are queued after the answer)."""
    deadline = time.monotonic() + 10
    while True:
        db.rollback()
        mails = list(db.scalars(select(OutboxEntry).where(OutboxEntry.kind == "notice")))
        if len(mails) >= count or time.monotonic() > deadline:
            return mails
        time.sleep(0.05)


def _ask(client: httpx.Client, server: str, email: str) -> httpx.Response:
    page = client.get("/password-reset")
    return client.post("/password-reset", data={"email": email, "form_token": _form_token(page)},
                       headers={"Origin": server})  # fmt: skip


def test_the_sign_in_page_links_to_the_request_page(anon: httpx.Client) -> None:
    assert 'href="/password-reset"' in anon.get("/login").text
    page = anon.get("/password-reset")
    assert page.status_code == 200 and 'name="email"' in page.text


def test_asking_answers_the_same_page_for_any_address(
    server: str, db: Session, held_outbox
) -> None:
    factories.make_user(db, email="agent@example.cn")
    with httpx.Client(base_url=server) as client:
        known = _ask(client, server, "agent@example.cn")
        unknown = _ask(client, server, "nobody@example.cn")
        assert known.status_code == unknown.status_code == 200
        assert "重置链接已经发出" in known.text
        strip = lambda text: re.sub(r'value="[^"]+"', "", text)  # noqa: E731 - the form token differs
        assert strip(known.text) == strip(unknown.text)
        refused = client.post("/password-reset", data={"email": "agent@example.cn", "form_token": "x"},
                              headers={"Origin": server})  # fmt: skip
        assert refused.status_code == 403
    assert len(_reset_mails(db, 1)) == 1


def test_the_link_sets_a_new_password_once(server: str, db: Session, held_outbox) -> None:
    agent = factories.make_user(db, email="agent@example.cn")
    with httpx.Client(base_url=server, follow_redirects=False) as client:
        _ask(client, server, agent.email)
        [mail] = _reset_mails(db, 1)
        link = re.search(
            r"http://127\.0\.0\.1:8000(/password-reset/\S+)", mail.target["text"]
        ).group(1)
        page = client.get(link)
        assert page.status_code == 200 and 'name="new_password"' in page.text
        token = _form_token(page)
        origin = {"Origin": server}
        mismatch = client.post(link, data={"new_password": NEW_PASSWORD, "repeat_password": "other-one-x",
                                           "form_token": token}, headers=origin)  # fmt: skip
        assert mismatch.status_code == 422 and "两次输入的新密码不一致" in mismatch.text
        breached = client.post(link, data={"new_password": "1qaz2wsx", "repeat_password": "1qaz2wsx",
                                           "form_token": token}, headers=origin)  # fmt: skip
        assert breached.status_code == 422 and "泄露过的常用密码" in breached.text
        done = client.post(link, data={"new_password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD,
                                       "form_token": token}, headers=origin)  # fmt: skip
        assert done.status_code == 303 and done.headers["location"] == "/login?reset=1"
        assert "密码已重置" in client.get("/login?reset=1").text
        used = client.get(link)
        assert used.status_code == 400 and "重置链接无效、已使用或已过期" in used.text
        assert sign_in_with(client, agent.email, NEW_PASSWORD).status_code == 303
    assert client.is_closed
    with httpx.Client(base_url=server) as client:
        assert client.get("/password-reset/not-a-token-at-all-but-long").status_code == 400
        assert client.get("/password-reset/short").status_code == 422
