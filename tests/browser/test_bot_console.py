"""Bots in the console, in Chromium (README "Bots"): an admin routes a space to a bot from the
Spaces page; a visitor's first message then goes to the bot, which the console shows as a bot's
(the "Bot" badge by its messages and by the holder); the visitor asks for a person and the
conversation's timeline says the bot handed it over, and why; the Agents page lists the bot as
a bot."""

from __future__ import annotations

from pathlib import Path

import trio
from playwright.sync_api import Page, expect

from tests.bots.helpers import make_bot
from tests.browser.conftest import PageWatch, Service
from tests.browser.consoles import Consoles
from tests.browser.test_console import no_errors, sign_in_admin
from tests.browser.widget import Widget
from tests.helpers.http import call

GREETING = "Hi! I'm Shopbot. How can I help?"


def _built_in_bot(service: Service) -> str:
    """A bot with rules (the built-in rules bot answers as it), made by REST; its id. Saving the
    rules makes the bot's consumer group at the stream's end, so every later message is its."""

    async def made() -> str:
        account = await make_bot(service.org, "Shopbot")
        bot_id = str(account.bot["id"])
        reply = await call(
            "PUT",
            f"{service.base}/api/v1/bots/{bot_id}/rules",
            {"greeting": GREETING, "buttons": []},
            token=service.org.token,
        )
        assert reply.status == 200, reply.body
        return bot_id

    return trio.run(made)


def _space(service: Service) -> dict[str, object]:
    async def read() -> dict[str, object]:
        url = f"{service.base}/api/v1/spaces/{service.org.space['id']}"
        reply = await call("GET", url, token=service.org.token)
        assert reply.status == 200, reply.body
        return dict(reply.body)

    return trio.run(read)


def _group_bots(service: Service) -> dict[str, str | None]:
    """Each group's bot, by the group's name, as GET /groups answers."""

    async def read() -> dict[str, str | None]:
        reply = await call("GET", f"{service.base}/api/v1/groups", token=service.org.token)
        assert reply.status == 200, reply.body
        return {g["name"]: g["bot_agent_id"] for g in reply.body["items"]}

    return trio.run(read)


def _thread_id(service: Service) -> str:
    async def found() -> str:
        url = f"{service.base}/api/v1/spaces/{service.org.space['id']}/threads"
        reply = await call("GET", f"{url}?status=unassigned,active", token=service.org.token)
        (thread,) = reply.body["items"]
        return str(thread["id"])

    return trio.run(found)


def test_an_admin_routes_a_space_to_a_bot_and_its_conversations_show_as_the_bots(
    page: Page, service: Service, consoles: Consoles, watch: PageWatch, artifacts: Path
) -> None:
    bot_id = _built_in_bot(service)
    admin = sign_in_admin(consoles, service)

    # The Spaces page: "Answer new conversations first with" lists the organization's bots.
    admin.part("nav-spaces").click()
    row = admin.page.locator(
        f"#console [data-part=space-row][data-space-id='{service.org.space['id']}']"
    )
    choice = row.locator("[data-part=space-bot]")
    expect(choice.locator("option")).to_have_text(["Nobody: people first", "Shopbot"])
    expect(choice).to_have_value("")
    choice.select_option(bot_id)
    row.locator("[data-part=space-bot-save]").click()
    expect(row.locator("[data-part=space-bot-saved]")).to_have_text("Saved.")
    settings = _space(service)["settings"]
    assert isinstance(settings, dict)
    assert settings["bot_agent_id"] == bot_id
    admin.page.screenshot(path=str(artifacts / "bot-console-space.png"), full_page=True)

    # The visitor's first message opens a conversation the bot holds and answers.
    page.goto(service.site.url(service.site.add_page("/bot.html", service.widget)))
    widget = Widget(page).loaded().open().connected()
    widget.send("Hello")
    widget.expect_message(GREETING, "agent")

    thread_id = _thread_id(service)
    admin.part("nav-inbox").click()
    admin.show("active")
    view = admin.open_thread(thread_id)
    expect(view).to_have_attribute("data-status", "active")
    expect(admin.part("holder-bot")).to_have_text("Bot")
    greeting = admin.expect_message(GREETING, "agent")
    expect(greeting.locator("[data-part=bot-badge]")).to_have_text("Bot")
    hello = admin.expect_message("Hello", "visitor")
    expect(hello.locator("[data-part=bot-badge]")).to_have_count(0)
    admin.page.screenshot(path=str(artifacts / "bot-console-thread.png"))

    # The visitor asks for a person: the bot hands over, and the timeline says so, and why.
    widget.send("Can I talk to a human?")
    expect(view).to_have_attribute("data-status", "unassigned")
    line = admin.part("handover")
    expect(line).to_have_attribute("data-reason", "visitor_asked")
    expect(line).to_contain_text("Handed over by the bot Shopbot: the visitor asked for a person")
    expect(admin.part("holder-bot")).to_have_count(0)
    admin.expect_message("Can I talk to a human?", "visitor")
    # Where it happened: after the message that asked.
    items = admin.page.locator("#console [data-part=thread] .message-list > li")
    parts = items.evaluate_all("(els) => els.map((el) => el.dataset.part)")
    assert parts == ["message", "message", "message", "handover"], parts
    admin.page.screenshot(path=str(artifacts / "bot-console-handed-over.png"))

    # The Groups page: a group added with the bot answering first, then set back to nobody.
    admin.part("nav-groups").click()
    form = admin.page.locator("#console form[data-part=group-form]")
    expect(form.locator("[data-part=group-bot-new] option")).to_have_text(
        ["Nobody: people first", "Shopbot"]
    )
    form.locator("input[name=name]").fill("Sales")
    form.locator("[data-part=group-bot-new]").select_option(bot_id)
    form.locator("button[type=submit]").click()
    group = admin.part("group-row").filter(has_text="Sales")
    expect(group.locator("[data-part=group-bot]")).to_have_value(bot_id)
    assert _group_bots(service) == {"Sales": bot_id}
    group.locator("[data-part=group-bot]").select_option("")
    group.locator("form[data-part=group-edit] button[type=submit]").click()
    expect(group.locator("[role=status]")).to_have_text("Saved.")
    assert _group_bots(service) == {"Sales": None}

    # The Agents page: the bot is a bot, with no presence, role or capacity of a person's.
    admin.part("nav-agents").click()
    bot_row = admin.page.locator(f"#console [data-part=agent-row][data-agent-id='{bot_id}']")
    expect(bot_row.locator("[data-part=agent-bot]")).to_have_text("Bot")
    expect(bot_row.locator("[data-part=agent-role]")).to_have_count(0)
    no_errors(admin)
    assert watch.page_errors == []
