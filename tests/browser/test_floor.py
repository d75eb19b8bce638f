"""The console's Floor page (console/src/ui/FloorPage.tsx; README "The floor view") in Chromium:
a supervisor opens it, a visitor's conversation appears as waiting, and once an agent claims and
answers it shows as active with a first response, all without a reload (the service pushes
`floor` frames). A plain agent's console has no Floor page."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import Service
from tests.browser.consoles import Consoles
from tests.browser.test_console import add_agent, no_errors, rest
from tests.browser.widget import Widget
from tests.helpers.chat import PASSWORD


def test_a_supervisor_sees_a_conversation_wait_then_become_active(
    page: Page, service: Service, consoles: Consoles, artifacts: Path
) -> None:
    org = service.org
    _bea, bea_email = add_agent(org, "Bea")
    sue_email = f"sue-{uuid.uuid4().hex[:8]}@example.com"
    sue_body = {"email": sue_email, "name": "Sue", "password": PASSWORD, "role": "supervisor"}
    made = rest(org, "POST", "/agents", sue_body)
    assert made.status == 201, made.body

    sue = consoles.new(service.base).sign_in(sue_email, PASSWORD)
    sue.part("nav-floor").click()
    expect(sue.part("floor-page")).to_be_visible()
    space = sue.page.locator(f"#console [data-part=floor-space][data-id='{org.space['id']}']")
    expect(space.locator("[data-part=waiting]")).to_have_text("0")
    expect(space.locator("[data-part=active]")).to_have_text("0")
    expect(sue.part("floor-agent").filter(has_text="Sue")).to_have_attribute(
        "data-status", "online"
    )

    # A visitor writes: the conversation waits, and its wait counts up on the page.
    page.goto(service.site.url(service.site.add_page("/floor.html", service.widget)))
    widget = Widget(page).open().connected()
    widget.send("Is anyone there?")
    widget.expect_message("Is anyone there?", "visitor", state="sent")
    expect(space.locator("[data-part=waiting]")).to_have_text("1")
    expect(sue.part("floor-total-waiting")).to_have_text("1")
    expect(space.locator("[data-part=longest]")).to_have_text(re.compile(r"^\d+ s$"))

    # Bea claims and answers: active, nobody waits, one first response in the hour.
    bea = consoles.new(service.base).sign_in(bea_email, PASSWORD)
    expect(bea.part("nav-floor")).to_have_count(0)  # a plain agent has no Floor page
    bea.show("queue")
    thread_id = bea.thread_id_of(bea.row_previewing("Is anyone there?"))
    bea.open_thread(thread_id)
    bea.claim.click()
    expect(bea.thread).to_have_attribute("data-status", "active")
    expect(space.locator("[data-part=active]")).to_have_text("1")
    expect(space.locator("[data-part=waiting]")).to_have_text("0")
    expect(space.locator("[data-part=longest]")).to_have_text("–")
    bea.send("Yes, Bea here. How can I help?")
    widget.expect_message("Yes, Bea here. How can I help?", "agent")
    expect(space.locator("[data-part=frt]")).to_contain_text("(1)")
    expect(sue.part("floor-agent").filter(has_text="Bea").locator("[data-part=load]")).to_have_text(
        re.compile(r"^1/\d+$")
    )
    sue.page.screenshot(path=str(artifacts / "floor-page.png"), full_page=True)
    no_errors(sue, bea)
