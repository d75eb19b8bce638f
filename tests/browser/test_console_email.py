"""An email conversation in the agent console (issue 11): the widget's offline form leaves a
lead, and the console marks it: an "Email" badge in the queue, the address replies go to, and
the lead's message labelled "via email"."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import PageWatch, Service
from tests.browser.consoles import Consoles
from tests.browser.test_console import no_errors, sign_in_admin
from tests.browser.widget import Widget


def test_an_email_conversation_is_marked_in_the_console(
    page: Page, service: Service, consoles: Consoles, watch: PageWatch
) -> None:
    page.goto(service.site.url(service.site.add_page("/email.html", service.widget)))
    widget = Widget(page).open().connected()
    widget.send("Where is my order?")  # nobody online: written first, then the form
    prechat = widget.part("prechat")
    expect(prechat).to_be_visible()
    prechat.locator("input[name=name]").fill("Grace Hopper")
    prechat.locator("input[name=email]").fill("grace@example.com")
    prechat.locator("button[type=submit]").click()
    expect(prechat).to_be_hidden()

    ada = sign_in_admin(consoles, service).show("queue")
    badge = ada.part("email-badge")
    expect(badge).to_have_count(1)
    expect(badge).to_have_text("Email")
    row = ada.rows.filter(has=ada.page.locator("[data-part=email-badge]"))
    thread = ada.open_thread(ada.thread_id_of(row))
    expect(ada.part("email-notice")).to_have_text("Replies are sent by email to grace@example.com")
    written = ada.messages("visitor")
    expect(written).to_have_count(2)  # the question, then the lead: one conversation
    expect(written.first.locator("[data-part=via-email]")).to_have_count(0)
    expect(written.last.locator("[data-part=via-email]")).to_have_text("via email")
    # An agent's answer is the agent's own, not labelled as mail that came in.
    ada.send("We will write to you")
    expect(ada.message("We will write to you", "agent")).to_have_count(1)
    expect(thread.locator("[data-part=via-email]")).to_have_count(1)
    no_errors(ada)
    assert watch.page_errors == []
