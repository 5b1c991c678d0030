"""Browser tests: Playwright for Python driving Debian's Chromium, headless, against the live
test server (tests/conftest.py ``server``).

They exercise the widget and the pages, not the database, so they run once: in the SQLite pass
of ``make test``. With a PostgreSQL KEFU_TEST_DATABASE_URL they are deselected here (reported as
deselected, never skipped). The browser is /usr/bin/chromium (or KEFU_CHROMIUM), installed by
scripts/ensure-browser.sh; Playwright's own browser download is not used. Screenshots go to
test-artifacts/ (git-ignored) for people to look at.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from sqlalchemy.orm import Session

from kefu.demo.webchat import ensure_demo_channel
from tests import factories

BROWSER_DIR = Path(__file__).resolve().parent
CHROMIUM = Path(os.environ.get("KEFU_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = BROWSER_DIR.parents[1] / "test-artifacts"
DESKTOP = {"width": 1280, "height": 720}
PHONE = {"width": 390, "height": 844}


def on_postgresql() -> bool:
    url = os.environ.get("KEFU_TEST_DATABASE_URL", "")
    return bool(url) and not url.startswith("sqlite")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the browser tests in one pass only: they test the pages, not the database engine."""
    if not on_postgresql():
        return
    browser_items = [item for item in items if BROWSER_DIR in Path(item.path).parents]
    if browser_items:
        config.hook.pytest_deselected(items=browser_items)
        items[:] = [item for item in items if item not in browser_items]


@pytest.fixture(scope="module")
def playwright(server: str) -> Iterator[Playwright]:
    """Playwright's sync API runs an event loop in the test thread while it lives, so it lives
    for one module only (tests after it may run their own loops: asyncio.run refuses to inside
    another), and starts after the live server (a server first started inside that loop, with
    the outbox relay and web chat merged, left the tests' writes to SQLite waiting on a lock)."""
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run scripts/ensure-browser.sh (apt-get install chromium)"
        )
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
    yield browser
    browser.close()


@pytest.fixture
def shop(server: str, db: Session) -> str:
    """The demo shop's address (its web chat channel made, as ``kefu demo`` makes it)."""
    ensure_demo_channel(db, secret_key=factories.SECRET_KEY)
    db.commit()
    return f"{server}/demo/shop"


class PageErrors(list[str]):
    """Uncaught errors of the pages a test opened; a test ends with none."""


@pytest.fixture
def page_errors() -> Iterator[PageErrors]:
    errors = PageErrors()
    yield errors
    assert not errors, f"errors in the page: {errors}"


def new_context(
    browser: Browser, errors: PageErrors, *, phone: bool = False, **options: object
) -> BrowserContext:
    """A fresh browser profile (its own localStorage: a new visitor) in Beijing time."""
    context = browser.new_context(
        viewport=PHONE if phone else DESKTOP,
        is_mobile=phone,
        has_touch=phone,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        **options,  # type: ignore[arg-type]
    )
    context.set_default_timeout(15_000)
    context.on("weberror", lambda error: errors.append(str(error.error)))
    return context


@pytest.fixture
def desktop(browser: Browser, page_errors: PageErrors) -> Iterator[Page]:
    context = new_context(browser, page_errors)
    yield context.new_page()
    context.close()


def screenshot(page: Page, name: str) -> Path:
    """Keeps a screenshot under test-artifacts/ and returns its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), animations="disabled")  # as it looks once settled
    return path


def sign_in_page(page: Page, server: str, email: str, to: str, password: str = "") -> None:
    """Sign in through the form and land on ``to``."""
    from tests.factories import PASSWORD

    page.goto(f"{server}/login?next={to}")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password or PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}{to}")
