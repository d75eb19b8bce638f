"""Attachments in the console and the widget (issue 13): an agent attaches an image with the
composer's button, the conversation shows it as a small thumbnail loaded through a signed link,
and the visitor's widget shows it too; a visitor on a host page (another origin than the
service's: CORS really applies) attaches a PNG with the widget's paperclip and the agent sees its
thumbnail; a file of a refused type gets a readable message. Screenshots go to tests/artifacts/
(console-attachment.png, widget-attachment.png)."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import Service
from tests.browser.consoles import Consoles
from tests.browser.test_console import sign_in_admin
from tests.browser.widget import Widget
from tests.files.images import HTML, PDF, png


def test_an_agent_attaches_an_image_and_both_sides_get_it(
    page: Page, service: Service, consoles: Consoles, artifacts: Path
) -> None:
    page.goto(service.site.url(service.site.add_page("/attach.html", service.widget)))
    widget = Widget(page).open().connected()
    widget.send("Can you show me?")
    widget.expect_message("Can you show me?", "visitor", state="sent")

    ada = sign_in_admin(consoles, service)
    ada.show("queue")
    row = ada.row_previewing("Can you show me?")
    ada.open_thread(ada.thread_id_of(row))
    ada.claim.click()
    expect(ada.thread).to_have_attribute("data-status", "active")

    ada.part("attach").set_input_files(
        files=[{"name": "diagram.png", "mimeType": "image/png", "buffer": png(64)}]
    )
    sent = ada.messages("agent").last
    expect(sent).to_have_attribute("data-state", "sent")
    image = sent.locator("[data-part=attachment] img")
    expect(image).to_have_attribute("alt", "diagram.png")
    # Loaded through the signed link: the browser decoded real pixels.
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("img => img.naturalWidth") == 64
    box = image.bounding_box()
    assert box is not None and box["width"] <= 160  # shown small
    shown = widget.messages("agent").last.locator("[data-part=thumbnail]")
    expect(shown).to_have_attribute("alt", "diagram.png")
    ada.page.screenshot(path=artifacts / "console-attachment.png")


def loaded_image(image: Locator, width: int) -> None:
    """Loaded through a signed link: the browser decoded real pixels."""
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("img => img.naturalWidth") == width


def test_a_visitor_attaches_an_image_from_the_widget_and_gets_the_agents_files(
    page: Page, service: Service, consoles: Consoles, artifacts: Path
) -> None:
    page.goto(service.site.url(service.site.add_page("/paperclip.html", service.widget)))
    widget = Widget(page).open().connected()
    widget.part("file").set_input_files(
        files=[{"name": "photo.png", "mimeType": "image/png", "buffer": png(48)}]
    )
    mine = widget.messages("visitor").last
    expect(mine).to_have_attribute("data-state", "sent")
    loaded_image(mine.locator("[data-part=thumbnail]"), 48)
    link = mine.locator("[data-part=attachment]")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer")

    ada = sign_in_admin(consoles, service)
    ada.show("queue")
    ada.open_thread(ada.thread_id_of(ada.row_previewing("photo.png")))
    ada.claim.click()
    expect(ada.thread).to_have_attribute("data-status", "active")
    theirs = ada.messages("visitor").last.locator("[data-part=attachment] img")
    expect(theirs).to_have_attribute("alt", "photo.png")
    loaded_image(theirs, 48)

    ada.part("attach").set_input_files(
        files=[{"name": "answer.png", "mimeType": "image/png", "buffer": png(32)}]
    )
    expect(ada.messages("agent").last).to_have_attribute("data-state", "sent")
    answer = widget.messages("agent").last.locator("[data-part=thumbnail]")
    expect(answer).to_have_attribute("alt", "answer.png")
    loaded_image(answer, 32)

    ada.part("attach").set_input_files(
        files=[{"name": "invoice.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    download = widget.messages("agent").last.locator("[data-part=attachment]")
    expect(download).to_have_text("invoice.pdf")
    expect(download).to_have_attribute("href", re.compile(r"/api/v1/files/.+&sig="))
    expect(download).to_have_attribute("rel", "noopener noreferrer")
    page.screenshot(path=artifacts / "widget-attachment.png")


def test_the_widget_refuses_an_html_file_with_a_readable_message(
    page: Page, service: Service
) -> None:
    page.goto(service.site.url(service.site.add_page("/refused.html", service.widget)))
    widget = Widget(page).open().connected()
    widget.part("file").set_input_files(
        files=[{"name": "page.png", "mimeType": "image/png", "buffer": HTML}]
    )
    expect(page.locator("#chat-widget [role=alert]")).to_have_text(
        "This type of file cannot be sent."
    )
    expect(widget.part("attach")).to_be_enabled()
    expect(widget.messages()).to_have_count(0)
