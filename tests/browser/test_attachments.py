"""Attachments in the console (issue 13): an agent attaches an image with the composer's button,
the conversation shows it as a small thumbnail loaded through a signed link, and the visitor's
widget receives the message (the file's name stands for its text there). A screenshot goes to
tests/artifacts/console-attachment.png."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Service
from tests.browser.test_console import Consoles, sign_in_admin
from tests.browser.widget import Widget
from tests.files.images import png


@pytest.fixture
def consoles(browser: Browser) -> Iterator[Consoles]:
    made = Consoles(browser)
    try:
        yield made
    finally:
        made.close()


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
    widget.expect_message("diagram.png", "agent")
    ada.page.screenshot(path=artifacts / "console-attachment.png")
