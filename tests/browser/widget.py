"""The web chat widget as a visitor sees it: a small page object for the browser tests.

Playwright's locators reach into the widget's open shadow root, so they find its parts by role
and label, as a screen reader would, and by the data attributes the widget keeps on each
message (``data-from``, ``data-seq``, ``data-client-id``, ``data-state``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Locator, Page, expect

OPEN = re.compile(r"^(打开在线客服|Open chat)")


class ChatWidget:
    def __init__(self, page: Page, *, input_label: str = "输入消息") -> None:
        self.page = page
        self.input = page.get_by_role("textbox", name=input_label, exact=True)
        self.log = page.get_by_role("log")

    @property
    def launcher(self) -> Locator:
        return self.page.locator(".kf-launcher")

    def open(self) -> None:
        """Opens the panel (after a reload it may be open already: the widget remembers)."""
        expect(self.launcher).to_be_visible()
        if self.launcher.get_attribute("aria-expanded") == "true":
            expect(self.input).to_be_visible()
            return
        self.launcher.click()
        expect(self.input).to_be_focused()

    def send(self, text: str) -> None:
        self.input.fill(text)
        self.input.press("Enter")

    def messages(self, sender: str) -> Locator:
        return self.page.locator(f".kf-msg[data-from='{sender}']")

    def sent(self) -> Locator:
        """The visitor's messages the server has accepted (they carry its seq)."""
        return self.page.locator(".kf-msg[data-from='visitor'][data-state='sent'][data-seq]")

    def pending(self) -> Locator:
        return self.page.locator(".kf-msg[data-from='visitor'][data-state='pending']")

    def texts(self, sender: str) -> list[str]:
        return [t.strip() for t in self.messages(sender).locator(".kf-text").all_inner_texts()]

    def seqs(self) -> list[int]:
        values = self.page.locator(".kf-msg[data-seq]").evaluate_all(
            "items => items.map(li => Number(li.dataset.seq))"
        )
        return [int(v) for v in values]


def wait_for(
    what: Callable[[], Any], *, timeout: float = 15.0, every: float = 0.1, page: Page | None = None
) -> Any:
    """Polls ``what`` until it returns something truthy (then returns it) or the time is up.

    For facts outside the page (rows behind the API) that a locator cannot wait on. With
    ``page`` it waits through Playwright, which meanwhile delivers the page's events (a plain
    sleep holds them back)."""
    deadline = time.monotonic() + timeout
    while True:
        value = what()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout} s: {what}")
        if page is not None:
            page.wait_for_timeout(every * 1000)
        else:
            time.sleep(every)


def visitor_writes(page: Page, shop: str, api: Any, text: str) -> tuple[ChatWidget, int]:
    """A visitor opens the shop's widget and writes ``text``; the widget and the id of the web
    chat ticket it made (the first one: a test's own database)."""
    page.goto(shop)
    widget = ChatWidget(page)
    widget.open()
    widget.send(text)
    expect(widget.sent().last).to_be_visible()
    tickets = wait_for(
        lambda: api.get("/api/v1/tickets", params={"channel": "webchat"}).json()["items"]
    )
    return widget, tickets[0]["id"]
