"""The widget's DOM contract, as Playwright locators (CSS locators pierce its open shadow root).

`<div id="chat-widget">` hosts the shadow root; its parts carry `data-part`. Every wait here is
Playwright's auto-waiting (`expect`, actions) with the context's timeout, never a sleep.
"""

from __future__ import annotations

import re
from typing import Literal

from playwright.sync_api import Locator, Page, expect

Sender = Literal["visitor", "agent", "system"]


class Widget:
    def __init__(self, page: Page) -> None:
        self.page = page

    def part(self, name: str) -> Locator:
        return self.page.locator(f"#chat-widget [data-part={name}]")

    @property
    def bubble(self) -> Locator:
        return self.part("bubble")

    @property
    def window(self) -> Locator:
        return self.part("window")

    @property
    def input(self) -> Locator:
        return self.part("input")

    @property
    def status(self) -> Locator:
        return self.part("status")

    def loaded(self) -> Widget:
        """Wait until the script ran: the bubble is shown and the JS API is there."""
        expect(self.bubble).to_be_visible()
        self.page.wait_for_function("() => typeof window.ChatWidget === 'object'")
        return self

    def open(self) -> Widget:
        """Open the window through the JS API (idempotent, unlike a click on the bubble)."""
        self.loaded()
        self.page.evaluate("() => window.ChatWidget.open()")
        expect(self.window).to_be_visible()
        return self

    def connected(self, timeout_ms: float | None = None) -> Widget:
        expect(self.status).to_have_attribute("data-status", "connected", timeout=timeout_ms)
        return self

    def send(self, text: str) -> None:
        """Type `text` into the input and press Enter (which sends)."""
        self.input.fill(text)
        self.input.press("Enter")

    def messages(self, sender: Sender | None = None) -> Locator:
        selector = "#chat-widget [data-part=message]"
        if sender:
            selector += f"[data-sender={sender}]"
        return self.page.locator(selector)

    def message(self, text: str, sender: Sender | None = None) -> Locator:
        """Message elements whose content is exactly `text` (so a count is meaningful)."""
        exact = re.compile(f"^{re.escape(text)}$")
        content = self.page.locator("[data-part=content]", has_text=exact)
        return self.messages(sender).filter(has=content)

    def expect_message(
        self, text: str, sender: Sender, *, state: str | None = None, count: int = 1
    ) -> Locator:
        """Exactly `count` messages from `sender` with this content (each in `state`, if given)."""
        found = self.message(text, sender)
        expect(found).to_have_count(count)
        if state:
            for index in range(count):
                expect(found.nth(index)).to_have_attribute("data-state", state)
        return found
