"""The built-in bot in Chromium (README "Built-in bot"): an admin adds it and writes its rules in
the console; a visitor's conversation starts with the bot, gets a quick-reply answer, asks for a
person (the bot collects the name and email first) and lands with an agent, who sees the whole
history, the bot's buttons included, and answers."""

from __future__ import annotations

from pathlib import Path

import trio
from playwright.sync_api import Page, expect

from tests.bots.helpers import route_space_to_bot
from tests.browser.conftest import PageWatch, Service
from tests.browser.console import Console
from tests.browser.consoles import Consoles
from tests.browser.test_console import no_errors, sign_in_admin
from tests.browser.widget import Widget
from tests.helpers.http import call

GREETING = "Hi! I'm Shopbot. Pick a topic, or type your question."
PRICES = "Plans start at 10 EUR a month."


def _add_bot(admin: Console, service: Service) -> str:
    """A built-in bot added on the console's Built-in bot page, routed to first by the space
    (its setting, by REST); the bot's id."""
    admin.part("nav-bot").click()
    expect(admin.part("no-bots")).to_be_visible()
    admin.part("bot-add").locator("input[name=name]").fill("Shopbot")
    admin.part("bot-add").locator("button[type=submit]").click()
    form = admin.part("bot-rules")
    expect(form).to_have_count(1)
    bot_id = form.get_attribute("data-bot-id")
    assert bot_id
    trio.run(route_space_to_bot, service.org, bot_id)
    return bot_id


def _write_rules(admin: Console, bot_id: str) -> None:
    """The rules, typed into the bot's form and saved."""
    form = admin.page.locator(f"#console form[data-part=bot-rules][data-bot-id='{bot_id}']")
    form.locator("textarea[name=greeting]").fill(GREETING)
    form.locator("[data-part=add-button]").click()
    buttons = form.locator("[data-part=bot-button]")
    expect(buttons).to_have_count(2)  # "Talk to the team" (a handover) comes with a new bot
    buttons.nth(1).locator("input[name=label]").fill("Pricing")
    form.locator("[data-part=add-entry]").click()
    entry = form.locator("[data-part=bot-entry]")
    entry.locator("input[name=keywords]").fill("pricing, price, cost")
    entry.locator("textarea[name=answer]").fill(PRICES)
    form.locator("[data-part=bot-rules-save]").click()
    expect(form.locator("[data-part=bot-rules-status]")).to_have_text("Saved")


def _thread_id(service: Service) -> str:
    async def found() -> str:
        url = f"{service.base}/api/v1/spaces/{service.org.space['id']}/threads"
        reply = await call("GET", f"{url}?status=unassigned,active", token=service.org.token)
        (thread,) = reply.body["items"]
        return str(thread["id"])

    return trio.run(found)


def test_a_conversation_starts_with_the_bot_and_lands_with_an_agent(
    page: Page, service: Service, consoles: Consoles, watch: PageWatch, artifacts: Path
) -> None:
    admin = sign_in_admin(consoles, service)
    bot_id = _add_bot(admin, service)
    _write_rules(admin, bot_id)
    admin.page.screenshot(path=str(artifacts / "rules-bot-editor.png"), full_page=True)

    chunks: list[str] = []
    page.on("request", lambda r: chunks.append(r.url) if "/widget/chunks/" in r.url else None)
    page.goto(service.site.url(service.site.add_page("/shop.html", service.widget)))
    widget = Widget(page).loaded().open().connected()
    # The buttons' code is a chunk of its own, fetched only once a message has buttons.
    assert not [url for url in chunks if "/replies." in url], chunks
    widget.send("Hello")
    widget.expect_message(GREETING, "agent")
    replies = widget.part("quick-replies").locator("[data-part=quick-reply]")
    expect(replies).to_have_text(["Talk to the team", "Pricing"])
    assert len([url for url in chunks if "/replies." in url]) == 1, chunks
    page.screenshot(path=str(artifacts / "rules-bot-quick-replies.png"))

    replies.filter(has_text="Pricing").click()  # sends the label as the visitor's message
    widget.expect_message("Pricing", "visitor", state="sent")
    widget.expect_message(PRICES, "agent")
    # Only the last message's buttons show: the greeting's went once it was answered.
    expect(widget.part("quick-replies")).to_have_count(1)
    replies.filter(has_text="Talk to the team").click()
    widget.expect_message("Before I connect you: what is your name?", "agent")
    expect(widget.part("quick-replies")).to_have_count(0)
    widget.send("Grace Hopper")
    widget.expect_message("Thanks! And your email address, in case we get cut off?", "agent")
    widget.send("grace@example.com")
    widget.expect_message(
        "Thank you! I'm passing you to a person now, who can see this chat.", "agent"
    )

    # The agent: the conversation waits in the queue, with everything the bot and the visitor
    # said, the buttons the visitor was offered, and who the visitor is.
    thread_id = _thread_id(service)
    admin.part("nav-inbox").click()
    admin.show("queue")  # once handed over, it waits there
    view = admin.open_thread(thread_id)
    admin.expect_message("Hello", "visitor")
    greeting = admin.expect_message(GREETING, "agent")
    expect(greeting.locator("[data-part=quick-replies] .quick-reply")).to_have_text(
        ["Talk to the team", "Pricing"]
    )
    admin.expect_message(PRICES, "agent")
    admin.expect_message("grace@example.com", "visitor")
    expect(view).to_contain_text("Grace Hopper")
    admin.claim.click()
    admin.send("Hi Grace, Ada here. How can I help?")
    widget.expect_message("Hi Grace, Ada here. How can I help?", "agent")
    admin.page.screenshot(path=str(artifacts / "rules-bot-handed-over-console.png"))
    page.screenshot(path=str(artifacts / "rules-bot-handed-over-widget.png"))
    no_errors(admin)
    assert watch.page_errors == []
