"""Browser tests: Playwright (sync API) drives Debian's headless Chromium against pytest-django's
live server. Each step saves a screenshot under artifacts/screenshots/ (git-ignored)."""

import os
import re
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from credits.services import pool_grant
from customers.models import Member
from tests.factories import CustomerFactory, MemberFactory, ResellerFactory

# Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run beside one
# unless told that this thread is not serving async code (it is not: the live server is a thread).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(settings.BASE_DIR) / "artifacts" / "screenshots"


@pytest.fixture(scope="session")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"needs Chromium at {CHROMIUM} (apt-get install chromium)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def console(transactional_db):
    """A reseller with a funded pool, an operator, a viewer and a few customers."""
    reseller = ResellerFactory(name="Demo Cloud Reseller")
    pool_grant(reseller=reseller, amount="5000.00")
    operator = MemberFactory(reseller=reseller, role=Member.Role.OPERATOR, user__username="operator")
    viewer = MemberFactory(reseller=reseller, role=Member.Role.VIEWER, user__username="viewer")
    names = ["Acme Games", "Blue Media", "Coral Labs", "Delta Retail", "Ember Studio"]
    customers = [CustomerFactory(reseller=reseller, name=name, uin=200000000001 + i) for i, name in enumerate(names)]
    return {"reseller": reseller, "operator": operator, "viewer": viewer, "customers": customers}


class Browser:
    """One page of the console in a fresh browser context, with its console errors collected."""

    def __init__(self, browser, base_url: str, name: str):
        self.base_url = base_url
        self.context = browser.new_context(base_url=base_url, viewport={"width": 1600, "height": 1000})
        self.page = self.context.new_page()
        self.page.set_default_timeout(10_000)
        self.errors: list[str] = []
        self.page.on("console", lambda message: message.type == "error" and self.errors.append(
            f"{message.text} at {message.location.get('url')}:{message.location.get('lineNumber')}"))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.name = name
        self.step = 0

    def sign_in_as(self, user) -> None:
        """Skip the form: a session made by Django's test client, handed to the browser as a cookie."""
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        self.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value,
                                   "url": self.base_url}])

    def settle(self) -> None:
        """Let the page's last requests (an htmx refresh a test did not wait for) come back."""
        try:
            self.page.wait_for_load_state("networkidle", timeout=5_000)
        except Exception:  # noqa: BLE001 - a page still busy after 5 s is left to the wait below
            pass

    def shot(self, label: str) -> None:
        self.step += 1
        slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
        # caret="initial": hiding the caret injects a <style> that htmx would keep in its history snapshot.
        self.page.screenshot(path=str(SCREENSHOTS / f"{self.name}-{self.step:02d}-{slug}.png"), caret="initial")


def live_server_requests_finished(timeout: float = 15.0) -> None:
    """Wait until no other connection to the test database is running a statement or holds a
    transaction open. The database is emptied after a browser test with TRUNCATE, which once failed
    in CI after a test that had not waited for its last click's refresh, and the next test began
    among that one's rows: most likely a deadlock between TRUNCATE's locks and those of the request
    the live server was still serving."""
    if connection.vendor != "postgresql":
        return
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND state IS DISTINCT FROM 'idle'"
                " AND backend_type = 'client backend'")
            if cursor.fetchone()[0] == 0 or time.monotonic() > deadline:
                return
            time.sleep(0.05)


@pytest.fixture
def open_browser(browser, live_server, request):
    opened = []

    def factory(name: str | None = None) -> Browser:
        session = Browser(browser, live_server.url, name or request.node.name.removeprefix("test_"))
        opened.append(session)
        return session

    yield factory
    for session in opened:
        session.settle()
        session.context.close()
    live_server_requests_finished()
    # CSP violations and script errors show up here: a console page must have none.
    errors = [e for session in opened for e in session.errors if "favicon" not in e]
    assert errors == [], errors
