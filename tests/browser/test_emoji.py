"""Emoji: a picker in the composer, a lazy chunk fetched only when first opened, keyboard
accessible, inserting at the caret; emoji in messages render with an emoji font."""

from __future__ import annotations

import re

from playwright.sync_api import Page, Request, expect

from tests.browser.agent import AgentDriver
from tests.browser.conftest import PageWatch, Service
from tests.browser.widget import Widget

CHUNK = re.compile(r"/widget/chunks/(?P<name>[a-z-]+)\.[0-9a-f]{12}\.js$")


def test_the_picker_loads_when_opened_and_inserts_at_the_caret(
    page: Page, service: Service, agent: AgentDriver, watch: PageWatch
) -> None:
    asked: list[str] = []

    def record(request: Request) -> None:
        found = CHUNK.search(request.url)
        if found:
            asked.append(found["name"])

    page.on("request", record)
    page.goto(service.site.url(service.site.add_page("/emoji.html", service.widget)))
    widget = Widget(page).open().connected()
    button = widget.part("emoji")
    expect(button).to_have_attribute("aria-expanded", "false")
    assert "emoji" not in asked  # the window is here, the picker not yet

    widget.input.fill("Thanks for the help")
    # The caret after "Thanks": the emoji goes there, not at the end.
    widget.input.evaluate("(el) => el.setSelectionRange(6, 6)")
    button.click()
    picker = widget.part("emoji-picker")
    expect(picker).to_be_visible()
    assert asked.count("emoji") == 1
    expect(button).to_have_attribute("aria-expanded", "true")
    options = widget.part("emoji-option")
    assert options.count() >= 100
    # Keyboard: focus starts on the first emoji; arrows move; Enter picks.
    expect(options.first).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(options.nth(1)).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(options.nth(9)).to_be_focused()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowUp")
    expect(options.first).to_be_focused()
    picked = options.nth(1).inner_text()
    assert picked == "😃"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    expect(picker).to_have_count(0)
    expect(widget.input).to_be_focused()
    expect(widget.input).to_have_value("Thanks😃 for the help")

    # Escape closes the picker only (not the chat), focus back in the input; a mouse pick.
    button.click()
    expect(picker).to_be_visible()
    page.keyboard.press("Escape")
    expect(picker).to_have_count(0)
    expect(widget.window).to_be_visible()
    expect(widget.input).to_be_focused()
    page.keyboard.press("Control+End")  # End alone: the end of a wrapped line
    button.click()
    widget.part("emoji-option").filter(has_text="👍").click()
    expect(widget.input).to_have_value("Thanks😃 for the help👍")
    assert asked.count("emoji") == 1  # loaded once

    widget.input.press("Enter")
    sent = widget.expect_message("Thanks😃 for the help👍", "visitor", state="sent")
    heard = agent.wait_for("message", content="Thanks😃 for the help👍")
    agent.say(heard["thread_id"], "Glad to help 🎉")
    answer = widget.expect_message("Glad to help 🎉", "agent")
    # Rendered with an emoji font in the stack (the message text inherits the widget's font).
    font = answer.locator("[data-part=content]").evaluate("(el) => getComputedStyle(el).fontFamily")
    assert "Noto Color Emoji" in font, font
    expect(sent).to_be_visible()
    assert watch.page_errors == []
