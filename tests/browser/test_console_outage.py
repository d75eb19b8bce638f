"""Issue 11, item 1, with PostgreSQL stopped: a visitor writes through the widget, the agent opens
the console (signed in before: its tokens are stored), sees the conversation, replies, and the
visitor's widget shows the reply; the agents page says the list is unavailable without breaking
the rest. Once PostgreSQL is back, both messages are projected, each once.

"Stopped" is the test database refusing every connection (tests/helpers/db.py
`refuse_connections`): to the service PostgreSQL is gone, other tests' databases are untouched.
"""

from __future__ import annotations

import trio
from playwright.sync_api import Browser, Page, expect

from chat.config import Settings
from chat.embedded.services import EmbeddedServices
from tests.browser.conftest import EXPECT_TIMEOUT_MS, PageWatch, Service
from tests.browser.console import Console
from tests.browser.widget import Widget
from tests.helpers.chat import PASSWORD
from tests.helpers.db import query, refuse_connections, wait_for_messages
from tests.helpers.http import call

QUESTION = "Is anyone there? Your site says my order is lost"
ANSWER = "I am here: let me look it up"


def warm_widget_key(service: Service) -> None:
    """The service sees the widget key once while PostgreSQL is up (each process keeps the
    spaces of keys it has seen: chat/actors/space_cache.py)."""
    key = service.org.space["widget_key"]
    origin = f"http://{service.site.origin('localhost')}"

    async def fetch() -> None:
        with trio.fail_after(15):
            reply = await call("GET", f"{service.base}/api/v1/widget/{key}/config", origin=origin)
        assert reply.status == 200, reply.body

    trio.run(fetch)


def test_the_console_opened_during_a_postgresql_outage_shows_the_conversation_and_replies(
    browser: Browser,
    service: Service,
    page: Page,
    watch: PageWatch,
    embedded: EmbeddedServices,
    settings: Settings,
) -> None:
    context = browser.new_context()
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    admin_url, database_url = embedded.database_url, settings.database_url
    try:
        ada = Console(context.new_page()).open(service.base)
        ada.sign_in(service.org.agent["email"], PASSWORD)  # the tokens are stored in the browser
        warm_widget_key(service)
        refuse_connections(admin_url, database_url, allow=False)
        try:
            page.goto(service.site.url(service.site.add_page("/help.html", service.widget)))
            widget = Widget(page).open().connected()
            widget.send(QUESTION)
            widget.expect_message(QUESTION, "visitor", state="sent")

            ada.open(service.base).connected()  # opened (reloaded) during the outage
            ada.choose_space(service.org.space["id"])
            ada.show("queue")
            thread_id = ada.thread_id_of(ada.row_previewing(QUESTION))
            ada.open_thread(thread_id)
            ada.expect_message(QUESTION, "visitor")
            ada.send(ANSWER)
            sent = ada.expect_message(ANSWER, "agent", state="sent")
            shown = widget.expect_message(ANSWER, "agent")
            expect(shown).to_have_attribute("data-id", sent.get_attribute("data-id") or "<none>")

            # The agents list needs PostgreSQL: the page says so, the inbox goes on.
            ada.part("nav-agents").click()
            expect(ada.part("agents-error")).to_contain_text("unavailable")
            ada.part("nav-inbox").click()
            ada.show("queue")
            expect(ada.row(thread_id)).to_have_attribute("data-status", "unassigned")
            ada.connected()
        finally:
            refuse_connections(admin_url, database_url, allow=True)

        trio.run(lambda: wait_for_messages(database_url, thread_id, 2, timeout=30))
        stored = query(
            database_url,
            "SELECT sender_type, content FROM messages WHERE thread_id = %s ORDER BY id_ms, id_seq",
            (thread_id,),
        )
        assert stored == [("visitor", QUESTION), ("agent", ANSWER)]
        assert ada.watch.page_errors == [] and watch.page_errors == []
    finally:
        context.close()
