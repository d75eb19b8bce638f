"""Console pages for the browser tests, each in its own browser context (the `consoles` fixture
in conftest.py)."""

from __future__ import annotations

from playwright.sync_api import Browser, BrowserContext, ViewportSize

from tests.browser.conftest import EXPECT_TIMEOUT_MS
from tests.browser.console import Console

DESKTOP: ViewportSize = {"width": 1366, "height": 768}


class Consoles:
    """Console pages, each in its own browser context (its own storage: its own agent)."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.contexts: list[BrowserContext] = []

    def new(self, base: str, viewport: ViewportSize = DESKTOP) -> Console:
        context = self.browser.new_context(viewport=viewport)
        context.set_default_timeout(EXPECT_TIMEOUT_MS)
        self.contexts.append(context)
        return Console(context.new_page()).open(base)

    def close(self) -> None:
        for context in self.contexts:
            context.close()
