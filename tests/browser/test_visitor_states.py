"""What a visitor sees, in plain words (issue 17 item 2): when nobody is online, either the
leave-a-message form or the message box with one sentence, never both; no socket state names in
the header; links in messages clickable, safely (only http(s) and mailto, no opener, no
referrer)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.agent import AgentDriver
from tests.browser.conftest import PageWatch, Servers, Service
from tests.browser.consoles import Consoles
from tests.browser.test_console import no_errors, sign_in_admin
from tests.browser.widget import Widget

# widget/src/ui/states.ts TEXT
AWAY = "We reply as soon as we can."
THANKS = "Thanks! We will get back to you."
RECONNECTING = "Back online in a moment"


def _header(widget: Widget) -> str:
    text: str = widget.window.locator(".head").inner_text()
    return text


def test_nobody_online_the_box_then_the_form_alone_then_the_box_with_one_sentence(
    page: Page, service: Service, watch: PageWatch
) -> None:
    page.goto(service.site.url(service.site.add_page("/away.html", service.widget)))
    widget = Widget(page).open().connected()
    # Nobody online: the box, with one sentence, and no form beside it.
    expect(widget.part("away")).to_have_text(AWAY)
    expect(widget.input).to_be_focused()
    expect(widget.part("prechat")).to_have_count(0)
    expect(widget.status).to_have_text("")
    assert "connected" not in _header(widget).lower()

    # Written: the form alone asks where to reply; no box, no second sentence beside it.
    widget.send("Do you ship to Norway?")
    widget.expect_message("Do you ship to Norway?", "visitor", state="sent")
    prechat = widget.part("prechat")
    expect(prechat).to_be_visible()
    expect(prechat).to_contain_text("No one is online right now.")
    expect(widget.input).to_have_count(0)
    expect(widget.part("send")).to_have_count(0)
    expect(widget.part("away")).to_have_count(0)
    expect(widget.part("queue")).to_have_count(0)

    prechat.locator("input[name=name]").fill("Grace Hopper")
    prechat.locator("input[name=email]").fill("grace@example.com")
    prechat.locator("button[type=submit]").click()
    # Then the box again, with the one sentence that says what happens next.
    expect(prechat).to_have_count(0)
    expect(widget.part("away")).to_have_text(THANKS)
    expect(widget.input).to_be_visible()

    agent = AgentDriver(service.base, service.org.token, service.org.space["id"])
    agent.start()
    try:
        # The question and the email are one conversation, in the inbox as an email one.
        subscribed = agent.wait_for("subscribed")
        threads = subscribed.get("threads", [])
        assert [t.get("channel") for t in threads] == ["email"], threads
        # Someone is there now: no sentence in the way, the box as usual.
        expect(widget.part("away")).to_have_count(0)
        expect(widget.part("presence")).to_have_attribute("data-online", "true")
        widget.send("Hello, Ada")
        heard = agent.wait_for("message", content="Hello, Ada")
        assert heard["thread_id"] == threads[0]["id"]
    finally:
        agent.stop()
    # Ada leaves: the visitor left an email, so the thanks stand, above the box.
    expect(widget.part("away")).to_have_text(THANKS)
    expect(widget.input).to_be_visible()
    expect(widget.part("prechat")).to_have_count(0)
    assert watch.page_errors == []


def test_the_agents_leaving_mid_conversation_asks_where_to_reply(
    page: Page, service: Service, agent: AgentDriver, watch: PageWatch
) -> None:
    page.goto(service.site.url(service.site.add_page("/leaving.html", service.widget)))
    widget = Widget(page).open().connected()
    widget.send("Are you there?")
    agent.wait_for("message", content="Are you there?")
    expect(widget.part("queue")).to_be_visible()
    expect(widget.part("away")).to_have_count(0)
    agent.stop()  # the only agent goes: nobody online now
    expect(widget.part("presence")).to_have_attribute("data-online", "false")
    # Not the queue's "an agent will be with you shortly" beside the box: the form alone.
    expect(widget.part("prechat")).to_be_visible()
    expect(widget.part("queue")).to_have_count(0)
    expect(widget.input).to_have_count(0)
    # A visitor the page knows keeps the box, with one sentence.
    page.evaluate("() => ChatWidget.identify({name: 'Grace', email: 'grace@example.com'})")
    expect(widget.part("prechat")).to_have_count(0)
    expect(widget.part("away")).to_have_text(AWAY)
    widget.send("I will wait")
    widget.expect_message("I will wait", "visitor", state="sent")
    assert watch.page_errors == []


def test_the_header_says_back_in_a_moment_while_the_service_is_away(
    page: Page, servers: Servers, service: Service, agent: AgentDriver, watch: PageWatch
) -> None:
    page.goto(service.site.url(service.site.add_page("/drop.html", service.widget)))
    widget = Widget(page).open().connected()
    expect(widget.status).to_have_text("")
    service.server.kill()
    expect(widget.status).to_have_text(RECONNECTING)
    expect(widget.status).not_to_have_attribute("data-status", "connected")
    header = _header(widget)
    assert RECONNECTING in header
    assert not re.search(r"connect|offline|waiting", header.replace(RECONNECTING, ""), re.I), header
    servers.restart(service.server)
    page.evaluate("() => dispatchEvent(new Event('online'))")  # skip the rest of the backoff
    widget.connected()
    expect(widget.status).to_have_text("")
    assert watch.page_errors == []


LINKS = (
    "Docs: https://example.com/docs?a=1&b=2. Mail mailto:help@example.com, "
    "not javascript:alert(1) nor data:text/html,<script>alert(2)</script> "
    'nor <a href="javascript:alert(3)">this</a>.'
)


def test_links_in_messages_are_clickable_and_safe(
    page: Page, service: Service, agent: AgentDriver, watch: PageWatch
) -> None:
    site = service.site
    target = site.url(site.add_page("/target.html", None, title="Linked page"))
    page.goto(site.url(site.add_page("/links.html", service.widget)))
    widget = Widget(page).open().connected()
    widget.send(f"My page: {target}")
    heard = agent.wait_for("message", content=f"My page: {target}")
    agent.say(heard["thread_id"], LINKS)

    answer = widget.expect_message(LINKS, "agent")  # the text as written, every character
    links = answer.locator("a")
    expect(links).to_have_count(2)
    expect(links.nth(0)).to_have_attribute("href", "https://example.com/docs?a=1&b=2")
    expect(links.nth(0)).to_have_text("https://example.com/docs?a=1&b=2")
    expect(links.nth(1)).to_have_attribute("href", "mailto:help@example.com")
    for index in range(2):
        expect(links.nth(index)).to_have_attribute("rel", "noopener noreferrer nofollow")
        expect(links.nth(index)).to_have_attribute("target", "_blank")
    expect(
        page.locator("#chat-widget a[href^=javascript], #chat-widget a[href^=data]")
    ).to_have_count(0)
    expect(page.locator("#chat-widget script")).to_have_count(0)

    # The visitor's own link opens the page in a new tab that cannot reach back to this one.
    own = widget.message(f"My page: {target}", "visitor").locator("a")
    expect(own).to_have_attribute("href", target)
    with page.context.expect_page() as opened:
        own.click()
    tab = opened.value
    tab.wait_for_load_state()
    expect(tab).to_have_title("Linked page")
    assert tab.evaluate("() => window.opener") is None
    assert tab.evaluate("() => document.referrer") == ""
    tab.close()
    assert watch.dialogs == []
    assert watch.page_errors == []


def test_the_console_shows_the_same_links_by_the_same_rule(
    page: Page, service: Service, consoles: Consoles, watch: PageWatch
) -> None:
    page.goto(service.site.url(service.site.add_page("/links-console.html", service.widget)))
    widget = Widget(page).open().connected()
    widget.send(LINKS)  # nobody online: the box first
    widget.expect_message(LINKS, "visitor", state="sent")

    ada = sign_in_admin(consoles, service).show("queue")
    ada.open_thread(ada.thread_id_of(ada.row_previewing("Docs:")))
    sent = ada.message(LINKS, "visitor")
    expect(sent).to_have_count(1)
    links = sent.locator("[data-part=content] a")
    expect(links).to_have_count(2)
    expect(links.nth(0)).to_have_attribute("href", "https://example.com/docs?a=1&b=2")
    expect(links.nth(1)).to_have_attribute("href", "mailto:help@example.com")
    for index in range(2):
        expect(links.nth(index)).to_have_attribute("rel", "noopener noreferrer nofollow")
        expect(links.nth(index)).to_have_attribute("target", "_blank")
    expect(ada.page.locator("a[href^=javascript], a[href^=data]")).to_have_count(0)
    no_errors(ada)
    assert watch.page_errors == []
