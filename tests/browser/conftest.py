"""Fixtures for real-browser tests: Chromium through Playwright's sync API, a `chat serve` child,
a host site on another origin, and a real agent WebSocket client.

The tests here are plain (sync) functions: Playwright's async API needs asyncio, and
pytest-trio's trio_mode only takes over async tests. Where a fixture needs trio (starting a
server, registering an organization) it calls `trio.run` itself.

Chromium is Debian's (`apt-get install chromium`), never a download: `CHAT_TEST_CHROMIUM` names
another executable. Without it the tests skip, except under CI (`CI=true`), where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import trio
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Dialog,
    Error,
    Page,
    ViewportSize,
    sync_playwright,
)

from chat.config import Settings
from chat.http.widget_assets import WIDGET_BUNDLE_PATH
from tests.browser.agent import AgentDriver
from tests.browser.host import HostSite, WidgetTag
from tests.conftest import ServerProcess, free_port
from tests.helpers.chat import PASSWORD, Org
from tests.helpers.http import call

if TYPE_CHECKING:
    from tests.browser.consoles import Consoles

CHROMIUM_ENV = "CHAT_TEST_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
MOBILE: ViewportSize = {"width": 390, "height": 844}
# Playwright's auto-waiting assertions and actions give up after this long (ms).
EXPECT_TIMEOUT_MS = 15_000


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _missing(reason: str) -> None:
    """CI must run these tests, so there a missing prerequisite is a failure, not a skip."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: the browser tests must run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = Path(os.environ.get(CHROMIUM_ENV) or DEFAULT_CHROMIUM)
    if not (executable.is_file() and os.access(executable, os.X_OK)):
        _missing(f"no Chromium at {executable}: apt-get install chromium, or set {CHROMIUM_ENV}")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def widget_bundle() -> Path:
    if not WIDGET_BUNDLE_PATH.is_file():
        _missing(f"the widget bundle {WIDGET_BUNDLE_PATH} is not built: run make widget")
    return WIDGET_BUNDLE_PATH


class Servers:
    """`chat serve` children sharing one database and key prefix, stopped at teardown."""

    def __init__(self, settings: Settings, tmp: Path) -> None:
        self.settings = settings
        self.tmp = tmp
        self.started: list[ServerProcess] = []

    def start(self, port: int | None = None) -> ServerProcess:
        server = ServerProcess(self.settings, port or free_port())
        self.started.append(server)
        self.restart(server)
        return server

    def restart(self, server: ServerProcess) -> None:
        """Start `server` (again) on its port; returns once /readyz answers."""
        trio.run(server.start, f"n{uuid.uuid4().hex[:6]}", self.tmp)

    def kill_all(self) -> None:
        """At teardown the page may still hold a socket, which a graceful stop waits 5 s for;
        nothing is left to check by then, so SIGKILL."""
        for server in self.started:
            if server.proc is not None and server.proc.poll() is None:
                server.kill()


@pytest.fixture
def servers(settings: Settings, tmp_path: Path, widget_bundle: Path) -> Iterator[Servers]:
    # Agents hear a page at once: these tests follow the widget's page reports, not the linger
    # before a visitor that only browses is stored (tests/http/test_visitor_budgets.py).
    made = Servers(settings.model_copy(update={"visitor_linger_seconds": 0.0}), tmp_path)
    try:
        yield made
    finally:
        made.kill_all()


@pytest.fixture
def site() -> Iterator[HostSite]:
    with HostSite() as running:
        yield running


@dataclass
class Service:
    """A running service with one organization whose space allows the host site's origin."""

    server: ServerProcess
    org: Org
    site: HostSite

    @property
    def base(self) -> str:
        return self.server.base

    @property
    def widget(self) -> WidgetTag:
        return WidgetTag(f"{self.base}/widget.js", self.org.space["widget_key"])


def register(base: str, site: HostSite, *, agent_name: str = "Ada") -> Org:
    """A fresh organization (its admin, `agent_name`, is the agent) with a space allowing
    `localhost:<site port>` only."""

    async def made() -> Org:
        reply = await call(
            "POST",
            f"{base}/api/v1/auth/register",
            {
                "organization_name": "Host shop",
                "name": agent_name,
                "email": f"admin-{uuid.uuid4().hex[:8]}@example.com",
                "password": PASSWORD,
            },
        )
        assert reply.status == 201, reply.body
        token = reply.body["access_token"]
        body = {"name": "Shop", "allowed_domains": [site.origin("localhost")]}
        space = await call("POST", f"{base}/api/v1/spaces", body, token=token)
        assert space.status == 201, space.body
        return Org(base, token, reply.body["agent"], space.body)

    return trio.run(made)


@pytest.fixture
def service(servers: Servers, site: HostSite) -> Service:
    server = servers.start()
    return Service(server, register(server.base, site), site)


@pytest.fixture
def consoles(browser: Browser) -> Iterator[Consoles]:
    """Console pages, closed at teardown. Imported here, not at the top: tests/browser/console.py
    imports this module."""
    from tests.browser.consoles import Consoles

    made = Consoles(browser)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def agent(service: Service) -> Iterator[AgentDriver]:
    """The org's admin, connected to /ws/agent and online (heartbeat sent) before any page."""
    driver = AgentDriver(service.base, service.org.token, service.org.space["id"])
    driver.start()
    try:
        yield driver
    finally:
        driver.stop()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    made = browser.new_context(viewport=DESKTOP)
    made.set_default_timeout(EXPECT_TIMEOUT_MS)
    try:
        yield made
    finally:
        made.close()


@dataclass
class PageWatch:
    """What a page said that a test may want to forbid: uncaught errors, console errors,
    dialogs (an XSS payload's `alert`)."""

    page_errors: list[Error] = field(default_factory=list)
    console_errors: list[ConsoleMessage] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        page.on("pageerror", self._page_error)
        page.on("console", self._console)
        page.on("dialog", self._dialog)

    def _page_error(self, error: Error) -> None:
        self.page_errors.append(error)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(message)

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def console_texts(self) -> list[str]:
        return [f"{m.text} ({m.location})" for m in self.console_errors]


# Installed before any page script (Playwright's init scripts are not subject to the page's CSP).
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
window.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push({
    directive: event.effectiveDirective,
    blocked: event.blockedURI,
    source: event.sourceFile,
    sample: event.sample,
  });
}, true);
"""


def record_csp_violations(page: Page) -> None:
    """From the next navigation on, keep the page's `securitypolicyviolation` events."""
    page.add_init_script(RECORD_CSP_VIOLATIONS)


def csp_violations(page: Page) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = page.evaluate("() => window.__cspViolations")
    return found


@pytest.fixture
def watch() -> PageWatch:
    return PageWatch()


@pytest.fixture
def page(context: BrowserContext, watch: PageWatch) -> Page:
    made = context.new_page()
    watch.attach(made)
    return made


@pytest.fixture(scope="session", autouse=True)
def _expect_timeout() -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
