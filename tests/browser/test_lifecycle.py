"""Issue 13's lifecycle parts in the console, in Chromium: the typing preview's draft shown
greyed under the conversation, and an admin deleting a closed conversation, finding it on the
Deleted page and restoring it."""

from __future__ import annotations

import threading

import trio
from playwright.sync_api import expect

from chat.config import Settings
from tests.browser.conftest import Service
from tests.browser.consoles import Consoles
from tests.browser.test_colleagues import open_conversation
from tests.browser.test_console import no_errors, rest, sign_in_admin
from tests.helpers.chat import widget
from tests.helpers.db import wait_for_rows
from tests.helpers.http import call

DRAFT = "I would like to change my order number 4471"
STEP_SECONDS = 30


def wait_until_served(service: Service, setting: str, value: object) -> None:
    """Until the server's copy of the space (chat/actors/space_cache.py, dropped over the control
    stream a moment after a PATCH) has `setting` at `value`: a visitor connecting before that
    would get the old settings (the draft dropped, as when the preview is off)."""
    org = service.org
    url = f"{org.base}/api/v1/widget/{org.space['widget_key']}/config"
    origin = "http://" + service.site.origin("localhost")

    async def served() -> None:
        with trio.fail_after(STEP_SECONDS):
            while (await call("GET", url, origin=origin)).body["space"]["settings"].get(
                setting
            ) != value:
                await trio.sleep(0.05)

    trio.run(served)


class TypingVisitor:
    """A visitor on a socket of its own thread: says hello, then types DRAFT once the console
    is ready, and keeps typing until told to leave."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.thread_id = ""
        self.said = threading.Event()
        self.ready = threading.Event()
        self.leave = threading.Event()
        self.runner = threading.Thread(target=trio.run, args=(self._run,), daemon=True)

    async def _run(self) -> None:
        origin = "http://" + self.service.site.origin("localhost")
        with trio.fail_after(STEP_SECONDS * 3):
            async with widget(self.service.org, origin=origin) as (visitor, _):
                self.thread_id = (await visitor.say("Hello"))["thread_id"]
                self.said.set()
                await trio.to_thread.run_sync(self.ready.wait, STEP_SECONDS)
                # Still at the keyboard until told to leave: the draft again every second, as
                # the widget sends it while the text changes (a console forgets a draft a few
                # seconds after its last entry).
                with trio.move_on_after(STEP_SECONDS):
                    while not self.leave.is_set():
                        await visitor.send({"type": "typing", "active": True, "draft": DRAFT})
                        await trio.sleep(1)


def test_the_console_shows_the_visitors_draft_greyed(service: Service, consoles: Consoles) -> None:
    org = service.org
    changed = rest(
        org, "PATCH", f"/spaces/{org.space['id']}", {"settings": {"typing_preview": True}}
    )
    assert changed.status == 200, changed.body
    wait_until_served(service, "typing_preview", True)
    visitor = TypingVisitor(service)
    visitor.runner.start()
    try:
        assert visitor.said.wait(STEP_SECONDS)
        ada = sign_in_admin(consoles, service)
        ada.show("queue")
        ada.open_thread(visitor.thread_id)
        visitor.ready.set()
        draft = ada.part("typing-draft")
        expect(draft).to_have_text(DRAFT)
        expect(draft).to_have_css("font-style", "italic")
        no_errors(ada)
    finally:
        visitor.ready.set()
        visitor.leave.set()
        visitor.runner.join(STEP_SECONDS)


def test_an_admin_deletes_and_restores_a_conversation(
    service: Service, consoles: Consoles, settings: Settings
) -> None:
    org = service.org
    thread_id = open_conversation(service)
    assert rest(org, "POST", f"/threads/{thread_id}/close").status == 200
    # The closed list is PostgreSQL's: wait until the projector wrote the close.
    sql = "SELECT status FROM threads WHERE id = %s"
    trio.run(lambda: wait_for_rows(settings.database_url, sql, (thread_id,), "closed"))
    ada = sign_in_admin(consoles, service)
    ada.show("closed")
    ada.open_thread(thread_id)
    ada.part("delete-thread").click()
    expect(ada.row(thread_id)).to_have_count(0)

    ada.part("nav-deleted").click()
    row = ada.page.locator(f"[data-part=deleted-thread][data-thread-id='{thread_id}']")
    expect(row).to_be_visible()
    row.locator("[data-part=restore]").click()
    expect(row).to_have_count(0)
    # The closed list is PostgreSQL's: wait until the projector wrote the restore.
    sql = "SELECT deleted_at IS NULL FROM threads WHERE id = %s"
    trio.run(lambda: wait_for_rows(settings.database_url, sql, (thread_id,), True))
    listed = rest(org, "GET", f"/spaces/{org.space['id']}/threads?status=closed")
    assert thread_id in [t["id"] for t in listed.body["items"]]
    no_errors(ada)
