"""Visitor context and read state in the browser (issue 13, items 5 and 6): the host page calls
ChatWidget.identify with attributes, the console's visitor panel shows them (marked unverified)
with the browser, language, time zone and pages; an agent reading shows "Seen" in the widget,
the visitor reading the reply shows "Seen by the visitor" in the console, and a reload keeps the
unread count. Screenshots of the panel at laptop and tablet widths go to tests/artifacts/.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import PageWatch, Service
from tests.browser.consoles import Consoles
from tests.browser.test_canned import LAPTOP, TABLET, _shot
from tests.browser.test_console import no_errors, sign_in_admin
from tests.browser.widget import Widget

IDENTIFY = """() => window.ChatWidget.identify({
  name: 'Grace Hopper',
  attributes: {plan: 'Enterprise', seats: 40, customer_since: '2019-04-01', beta: true},
})"""


def test_the_visitor_panel_and_read_state(
    page: Page, service: Service, consoles: Consoles, artifacts: Path, watch: PageWatch
) -> None:
    page.goto(service.site.url(service.site.add_page("/pricing.html", service.widget)))
    widget = Widget(page).open().connected()
    page.evaluate(IDENTIFY)
    widget.send("Do you offer a discount for 40 seats?")
    widget.expect_message("Do you offer a discount for 40 seats?", "visitor", state="sent")

    ada = sign_in_admin(consoles, service)
    ada.page.set_viewport_size(LAPTOP)
    ada.show("queue")
    row = ada.row_previewing("Do you offer a discount")
    expect(row.locator("[data-part=unread]")).to_have_text("1")
    ada.page.reload()  # the count is the server's: it survives a reload
    ada.connected().show("queue")
    row = ada.row_previewing("Do you offer a discount")
    expect(row.locator("[data-part=unread]")).to_have_text("1")

    ada.open_thread(ada.thread_id_of(row))
    panel = ada.part("visitor-panel")
    attributes = panel.locator("[data-part=visitor-attributes]")
    expect(attributes).to_contain_text("Enterprise")
    expect(attributes).to_contain_text("40")
    expect(panel).to_contain_text("unverified")
    expect(panel.locator("[data-part=visitor-panel-browser]")).to_contain_text("Chrome")
    expect(panel.locator("[data-part=visitor-panel-locale]")).not_to_have_text("Unknown")
    expect(panel.locator("[data-part=visitor-pages] li")).to_have_count(1)
    # The agent has read it: the visitor sees "Seen" under their message.
    expect(widget.part("seen")).to_have_text("Seen")

    ada.claim.click()
    ada.send("Yes: 15% from 25 seats.")
    widget.expect_message("Yes: 15% from 25 seats.", "agent")
    # The widget is open and visible: the visitor has read the reply.
    expect(ada.part("seen-by-visitor")).to_have_count(1)

    no_errors(ada)
    assert watch.page_errors == []  # the host page with the widget
    _shot(ada, artifacts / "console-visitor-panel-laptop.png", panel)
    ada.page.set_viewport_size(TABLET)
    _shot(ada, artifacts / "console-visitor-panel-tablet.png", panel)
