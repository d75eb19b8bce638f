"""Agents do not collide (issue 11), in Chromium: two agents' consoles open the same
conversation, each shows the other as viewing it and as typing, and the agent who does not hold
it is asked (inline) before its first reply goes out; once it confirmed, later replies go
straight. When a console closes, the other stops showing it.

Ada (the admin) claims the visitor's conversation; Bea, a second agent, opens it from "All
active". Both sign in through the console's form.
"""

from __future__ import annotations

import trio
from playwright.sync_api import expect

from tests.browser.conftest import Service
from tests.browser.console import Console
from tests.browser.consoles import Consoles
from tests.browser.test_console import add_agent, no_errors, sign_in_admin
from tests.helpers.chat import PASSWORD, widget


def open_conversation(service: Service) -> str:
    """A visitor's conversation (its socket then leaves; the thread stays open): its id."""
    origin = "http://" + service.site.origin("localhost")

    async def opened() -> str:
        with trio.fail_after(15):
            async with widget(service.org, origin=origin) as (visitor, _):
                ack = await visitor.say("Is anyone there?")
        return str(ack["thread_id"])

    return trio.run(opened)


def messages_sent(console: Console, thread_id: str) -> list[dict[str, object]]:
    return [
        f
        for f in console.outbox.frames
        if f.get("type") == "message" and f.get("thread_id") == thread_id
    ]


def test_two_agents_see_each_other_and_the_one_not_holding_it_confirms_its_first_reply(
    service: Service, consoles: Consoles
) -> None:
    org = service.org
    _, bea_email = add_agent(org, "Bea")
    thread_id = open_conversation(service)
    ada = sign_in_admin(consoles, service)
    bea = consoles.new(service.base).sign_in(bea_email, PASSWORD)

    ada.show("queue")
    ada.open_thread(thread_id)
    ada.claim.click()
    expect(ada.thread).to_have_attribute("data-status", "active")
    bea.show("active")
    expect(bea.row(thread_id)).to_have_attribute("data-status", "active")
    bea.open_thread(thread_id)

    # Each shows the other as viewing, in the header and on the row.
    expect(ada.part("also-here")).to_have_text("Also here: Bea")
    expect(bea.part("also-here")).to_have_text("Also here: Ada")
    marker = bea.row(thread_id).locator("[data-part=row-viewers]")
    expect(marker).to_have_attribute("title", "Viewing: Ada")
    # The holder is not asked and sees no notice.
    expect(ada.part("assigned-notice")).to_have_count(0)
    expect(bea.part("assigned-notice")).to_contain_text("Assigned to Ada")

    # Bea types: Ada sees it. Bea's first reply waits for her confirmation.
    composer = bea.part("composer")
    composer.fill("I can take this one")
    expect(ada.part("colleague-typing")).to_have_text("Bea is typing…")
    composer.press("Enter")
    expect(bea.part("reply-confirm")).to_be_visible()
    expect(bea.part("reply-confirm-send")).to_be_focused()
    assert messages_sent(bea, thread_id) == []
    expect(bea.message("I can take this one")).to_have_count(0)
    expect(composer).to_have_value("I can take this one")
    bea.part("reply-confirm-send").click()
    bea.expect_message("I can take this one", "agent", state="sent")
    ada.expect_message("I can take this one", "agent")
    expect(bea.part("reply-confirm")).to_have_count(0)
    # Confirmed once for this conversation: the next reply goes straight.
    bea.send("Ada, all yours again")
    bea.expect_message("Ada, all yours again", "agent", state="sent")
    expect(bea.part("reply-confirm")).to_have_count(0)
    assert len(messages_sent(bea, thread_id)) == 2
    # The holder replies without being asked.
    ada.send("Thanks Bea")
    ada.expect_message("Thanks Bea", "agent", state="sent")
    expect(ada.part("reply-confirm")).to_have_count(0)
    assert bea.watch.confirms == [] and ada.watch.confirms == []  # never window.confirm

    # Bea's console closes: Ada no longer shows her.
    no_errors(ada, bea)
    bea.page.close()
    expect(ada.part("also-here")).to_have_count(0)
    assert ada.watch.page_errors == []
