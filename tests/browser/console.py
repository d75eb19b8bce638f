"""The agent console's DOM contract, as Playwright locators.

The console is a page of the service itself (`/console`); its root is `<div id="console">` and
its parts carry `data-part`. Every wait here is Playwright's auto-waiting (`expect`, actions)
with the context's timeout, never a sleep.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Literal

from playwright.sync_api import Dialog, Locator, Page, Request, WebSocket, expect

from tests.browser.conftest import PageWatch

Sender = Literal["visitor", "agent", "system"]
ListName = Literal["queue", "mine", "active", "closed"]
ConnectionStatus = Literal["connecting", "connected", "offline"]

# The value of a form control, or the text of any other element (a snippet may sit in a
# <textarea>, an <input>, a <code> or a <pre>).
VALUE_OR_TEXT = "(el) => typeof el.value === 'string' ? el.value : el.textContent"


def exactly(text: str) -> re.Pattern[str]:
    """A pattern matching `text` and nothing more (Playwright's has_text matches substrings)."""
    return re.compile(f"^{re.escape(text)}$")


@dataclass
class ConsoleWatch(PageWatch):
    """A PageWatch for console pages: the console asks before it closes or deletes through
    `window.confirm`, which is accepted; any other dialog (an `alert` an injected payload would
    raise) is recorded in `dialogs` and dismissed, as PageWatch does."""

    confirms: list[str] = field(default_factory=list)

    def _dialog(self, dialog: Dialog) -> None:
        if dialog.type == "confirm":
            self.confirms.append(dialog.message)
            dialog.accept()
        else:
            super()._dialog(dialog)


@dataclass
class Outbox:
    """What a console page asked the service to do, by WebSocket frame or REST request: lets a
    test tell "the console sent a claim and was refused" from "the console never sent one"."""

    frames: list[dict[str, object]] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        page.on("websocket", self._socket)
        page.on("request", self._request)

    def _socket(self, socket: WebSocket) -> None:
        socket.on("framesent", self._frame)

    def _frame(self, payload: str | bytes) -> None:
        try:
            frame = json.loads(payload)
        except ValueError:
            return
        if isinstance(frame, dict):
            self.frames.append(frame)

    def _request(self, request: Request) -> None:
        self.requests.append((request.method, request.url))

    def claims(self, thread_id: str) -> int:
        """Claims of this thread sent so far, over the socket or as POST .../claim."""
        by_frame = sum(
            f.get("type") == "claim" and f.get("thread_id") == thread_id for f in self.frames
        )
        by_rest = sum(
            method == "POST" and url.split("?")[0].endswith(f"/threads/{thread_id}/claim")
            for method, url in self.requests
        )
        return by_frame + by_rest


class Console:
    """One agent's console page."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.watch = ConsoleWatch()
        self.watch.attach(page)
        self.outbox = Outbox()
        self.outbox.attach(page)

    def part(self, name: str) -> Locator:
        return self.page.locator(f"#console [data-part={name}]")

    # --- signing in and out -------------------------------------------------------------------

    def open(self, base: str) -> Console:
        self.page.goto(f"{base}/console")
        expect(self.page.locator("#console")).to_be_attached()
        return self

    @property
    def signin(self) -> Locator:
        return self.page.locator("#console form[data-part=signin]")

    def sign_in(self, email: str, password: str) -> Console:
        """Fill the sign-in form and submit it; returns once the console's socket is up."""
        self.signin.locator("input[name=email]").fill(email)
        self.signin.locator("input[name=password]").fill(password)
        self.signin.locator("button[type=submit], input[type=submit]").first.click()
        expect(self.signin).to_have_count(0)
        return self.connected()

    @property
    def connection(self) -> Locator:
        return self.part("connection")

    def connected(self, timeout_ms: float | None = None) -> Console:
        expect(self.connection).to_have_attribute("data-status", "connected", timeout=timeout_ms)
        return self

    # --- the inbox ----------------------------------------------------------------------------

    def tab(self, name: ListName) -> Locator:
        return self.page.locator(f"#console [data-part=list-tab][data-list={name}]")

    def list_count(self, name: ListName) -> Locator:
        return self.tab(name).locator("[data-part=list-count]")

    def show(self, name: ListName) -> Console:
        """Switch the thread list to the `name` tab."""
        self.tab(name).click()
        return self

    @property
    def rows(self) -> Locator:
        return self.part("thread-row")

    def row(self, thread_id: str) -> Locator:
        return self.page.locator(f"#console [data-part=thread-row][data-thread-id='{thread_id}']")

    def row_previewing(self, text: str) -> Locator:
        """Rows whose preview contains `text` (a new thread's preview is its first message)."""
        return self.rows.filter(has=self.page.locator("[data-part=preview]", has_text=text))

    def thread_id_of(self, row: Locator) -> str:
        expect(row).to_have_count(1)
        thread_id = row.get_attribute("data-thread-id")
        assert thread_id, "a thread row without data-thread-id"
        return thread_id

    def choose_space(self, space_id: str) -> Console:
        self.part("space-picker").select_option(space_id)
        return self

    # --- the open thread ----------------------------------------------------------------------

    @property
    def thread(self) -> Locator:
        return self.part("thread")

    def open_thread(self, thread_id: str) -> Locator:
        """Click the thread's row (in the list shown now); returns the opened thread view."""
        self.row(thread_id).click()
        expect(self.thread).to_have_attribute("data-thread-id", thread_id)
        return self.thread

    def messages(self, sender: Sender | None = None) -> Locator:
        selector = "#console [data-part=thread] [data-part=message]"
        if sender:
            selector += f"[data-sender={sender}]"
        return self.page.locator(selector)

    def message(self, text: str, sender: Sender | None = None) -> Locator:
        """Messages of the open thread whose content is exactly `text`."""
        content = self.page.locator("[data-part=content]", has_text=exactly(text))
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

    def send(self, text: str) -> None:
        """Type `text` into the composer and press Enter (which sends)."""
        composer = self.part("composer")
        composer.fill(text)
        composer.press("Enter")

    @property
    def claim(self) -> Locator:
        return self.part("claim")

    def close_thread(self) -> None:
        """Click close (its confirmation is accepted by ConsoleWatch)."""
        self.part("close").click()

    def transfer_to(self, agent_id: str) -> None:
        self.part("transfer").click()
        self.part("transfer-target").select_option(agent_id)
        self.part("transfer-confirm").click()

    # --- admin pages --------------------------------------------------------------------------

    def create_space(self, name: str, allowed_domains: str, known: list[str]) -> Locator:
        """Fill the spaces page's form and submit it; returns the new space's row, the one row
        whose id is none of `known` (the ids of the spaces there were before)."""
        self.part("nav-spaces").click()
        rows = self.part("space-row")
        expect(rows).to_have_count(len(known))
        form = self.page.locator("#console form[data-part=space-form]")
        form.locator("input[name=name]").fill(name)
        form.locator("textarea[name=allowed_domains]").fill(allowed_domains)
        form.locator("button[type=submit], input[type=submit]").first.click()
        others = "".join(f":not([data-space-id='{space_id}'])" for space_id in known)
        row = self.page.locator(f"#console [data-part=space-row]{others}")
        expect(row).to_have_count(1)
        return row

    @staticmethod
    def value_or_text(part: Locator) -> str:
        found: str = part.evaluate(VALUE_OR_TEXT)
        return found
