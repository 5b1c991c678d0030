"""Stored XSS (acceptance 3): hostile names, subjects, message bodies, HTML bodies, file names,
tags and notes are shown as text on every workspace page: no script of theirs runs.

Every payload would set ``window.__xss`` (or open a dialog) if the browser ran it; each page is
opened, left to load its live parts, and checked.
"""

from __future__ import annotations

import base64

import httpx
from playwright.sync_api import Browser, Dialog
from sqlalchemy.orm import Session

from kefu.services.actors import SYSTEM
from kefu.services.cases import tickets
from tests import factories
from tests.browser.conftest import PageErrors, new_context, screenshot, sign_in_page

RUNS = "window.__xss=1"
PAYLOADS = (
    f"<script>{RUNS}</script>",
    f'<img src=x onerror="{RUNS}">',
    f'"><svg onload="{RUNS}">',
    f"javascript:{RUNS}//",
    f'<a href="javascript:{RUNS}">点我</a>',
    f"{{{{constructor.constructor('{RUNS}')()}}}}",
    "\u202e<b>反转</b>",
)
HOSTILE = " ".join(PAYLOADS)


def test_hostile_content_is_inert_on_every_page(
    browser: Browser, page_errors: PageErrors, server: str, db: Session, integration: httpx.Client
) -> None:
    group = factories.make_group(db, name=f'组<img src=x onerror="{RUNS}">')
    factories.make_user(db, groups=[group], name=f'坏人<img src=x onerror="{RUNS}">')
    admin = factories.make_user(db, role="admin")
    answer = integration.post(
        "/api/v1/inbound",
        json={
            "channel": "email",
            "external_id": "xss-1",
            "sender": {
                "external_id": "xss@example.cn",
                "name": f'<img src=x onerror="{RUNS}">顾客',
                "email": "xss@example.cn",
            },
            "subject": f"退款 {HOSTILE}",
            "text": f"我要退款 {HOSTILE}",
            "html": f'<p>我要退款</p>{HOSTILE}<iframe src="javascript:{RUNS}"></iframe>',
            "attachments": [
                {
                    "filename": f'"><img src=x onerror="{RUNS}">.png',
                    "content_type": "image/png",
                    "content_base64": base64.b64encode(_PNG).decode(),
                }
            ],
        },
    )
    assert answer.status_code == 201, answer.text
    ticket_id, customer_id = answer.json()["ticket_id"], answer.json()["customer_id"]
    ticket = tickets.access_ticket(db, SYSTEM, ticket_id)
    tickets.do_update_ticket(db, SYSTEM, ticket, {"tags": [f"<b>{RUNS}</b>"]})
    db.commit()

    context = new_context(browser, page_errors)
    page = context.new_page()
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    sign_in_page(page, server, admin.email, "/inbox")
    pages = (
        "/inbox",
        f"/tickets/{ticket_id}",
        "/customers",
        f"/customers/{customer_id}",
        f"/customers/{customer_id}/timeline",
        "/search?q=退款",
        "/board",
        "/admin/users",
        "/admin/groups",
        "/notifications",
    )
    for path in pages:
        page.goto(f"{server}{path}")
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(300)
        assert page.evaluate("window.__xss") is None, path
        assert not page.locator("main script:not([type='application/json'])").count(), path
    # The ticket page shows the payloads as the text they are.
    page.goto(f"{server}/tickets/{ticket_id}")
    page.wait_for_load_state("networkidle")
    assert "<script>window.__xss=1</script>" in page.locator("main").inner_text()
    screenshot(page, "stored-xss-ticket")
    assert page.evaluate("window.__xss") is None
    assert dialogs == []
    context.close()


# A 1×1 PNG.
_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
