"""Browser tests: Playwright driving Debian's chromium against a live badger.

One live server (demo data, its own SQLite database) and one headless
chromium for the whole session; every test gets a fresh browser context
(cookies, storage) so tests stay independent.  Tests skip with the reason when
``/usr/bin/chromium`` or the playwright package is missing; ``.ci/run``
installs chromium.  ``playwright install`` is never needed: the browser is the
system's.

Every page a test opens is watched: console errors, uncaught exceptions and
Content-Security-Policy violations fail the test (see ``page``).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import live

HAVE_PLAYWRIGHT = importlib.util.find_spec("playwright") is not None
HAVE_AXE = importlib.util.find_spec("axe_playwright_python") is not None
HAVE_CHROMIUM = live.CHROMIUM.is_file()


def _missing() -> str | None:
    if not HAVE_CHROMIUM:
        return f"browser tests need Debian's chromium at {live.CHROMIUM} (apt-get install chromium)"
    if not HAVE_PLAYWRIGHT:
        return "browser tests need the playwright package (pip install -e '.[test]')"
    if not HAVE_AXE:
        return "browser tests need axe-playwright-python (pip install -e '.[test]')"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


def pytest_runtest_setup(item: pytest.Item) -> None:
    reason = _missing()
    if item.get_closest_marker("browser") and reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[live.LiveServer]:
    server = live.start_live_server(tmp_path_factory.mktemp("live"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(live.CHROMIUM), headless=True, args=live.CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


class PageProblems:
    """What a page complained about: console errors, page errors, CSP violations."""

    def __init__(self) -> None:
        self.console: list[str] = []
        self.errors: list[str] = []
        self.allowed: list[str] = []

    def watch(self, page: Any) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def _on_console(self, message: Any) -> None:
        if message.type == "error":
            self.console.append(f"{message.text} ({message.location.get('url', '')})")

    @property
    def csp_violations(self) -> list[str]:
        return [m for m in self.console if "Content Security Policy" in m]

    def expected(self, fragment: str) -> None:
        """Ignore console errors a test provokes on purpose (e.g. a 404 it asked for).

        Also those still on their way: chromium may report the message after
        the response the test waited for.
        """
        self.allowed.append(fragment)

    def all(self) -> list[str]:
        console = [m for m in self.console if not any(f in m for f in self.allowed)]
        return console + [f"uncaught: {e}" for e in self.errors]


@pytest.fixture
def problems() -> PageProblems:
    return PageProblems()


VIEWPORT = {"width": 1280, "height": 900}


def _new_context(browser: Any, live_server: live.LiveServer, **kw: Any) -> Any:
    ctx = browser.new_context(base_url=live_server.url, viewport=VIEWPORT, **kw)
    ctx.set_default_timeout(15_000)
    return ctx


def _watched(ctx: Any, problems: PageProblems) -> Iterator[Any]:
    page = ctx.new_page()
    problems.watch(page)
    yield page
    found = problems.all()
    ctx.close()
    assert not found, "the page reported problems:\n" + "\n".join(found)


@pytest.fixture
def context(browser: Any, live_server: live.LiveServer) -> Iterator[Any]:
    ctx = _new_context(browser, live_server)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: Any, problems: PageProblems) -> Iterator[Any]:
    """A page whose console errors and CSP violations fail the test."""
    yield from _watched(context, problems)


def sign_in(page: Any, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert "/login" not in page.url, f"sign-in as {email} failed: {page.url}"


@pytest.fixture(scope="session")
def signed_in(browser: Any, live_server: live.LiveServer) -> dict[str, Any]:
    """Cookies of one sign-in per role, reused by every test's fresh context."""
    states = {}
    for role, email, password in [
        ("admin", live.ADMIN_EMAIL, live.ADMIN_PASSWORD),
        ("learner", live.LEARNER_EMAIL, live.LEARNER_PASSWORD),
        ("grace", live.OTHER_LEARNER_EMAIL, live.LEARNER_PASSWORD),
    ]:
        ctx = _new_context(browser, live_server)
        sign_in(ctx.new_page(), email, password)
        states[role] = ctx.storage_state()
        ctx.close()
    return states


@pytest.fixture
def as_admin(
    browser: Any, live_server: live.LiveServer, signed_in: dict[str, Any], problems: PageProblems
) -> Iterator[Any]:
    ctx = _new_context(browser, live_server, storage_state=signed_in["admin"])
    yield from _watched(ctx, problems)


@pytest.fixture
def as_learner(
    browser: Any, live_server: live.LiveServer, signed_in: dict[str, Any], problems: PageProblems
) -> Iterator[Any]:
    ctx = _new_context(browser, live_server, storage_state=signed_in["learner"])
    yield from _watched(ctx, problems)


@pytest.fixture
def browse(
    browser: Any, live_server: live.LiveServer, signed_in: dict[str, Any], problems: PageProblems
) -> Iterator[Any]:
    """Factory for journeys with several people: ``browse("admin")``, ``browse(None)``.

    Each call is a separate browser context (its own cookies), signed in as
    ``admin``, ``learner`` (Ada), ``grace``, or nobody; every page is watched.
    """
    contexts: list[Any] = []

    def open_as(who: str | None) -> Any:
        state = {"storage_state": signed_in[who]} if who else {}
        ctx = _new_context(browser, live_server, **state)
        contexts.append(ctx)
        page = ctx.new_page()
        problems.watch(page)
        return page

    yield open_as
    found = problems.all()
    for ctx in contexts:
        ctx.close()
    assert not found, "the pages reported problems:\n" + "\n".join(found)
