"""The console's Webhooks page (issue 16): an admin registers an endpoint (the secret shown
once), a visitor's message reaches a real receiver signed, the delivery log shows it delivered,
and a replay from before it sends it again under the same id. A screenshot goes to
tests/artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from chat.config import Settings
from tests.browser.conftest import Servers, Service
from tests.browser.consoles import Consoles
from tests.browser.test_console import sign_in_admin
from tests.browser.widget import Widget
from tests.helpers.webhook_receiver import Receiver, run_receiver


@pytest.fixture
def servers(settings: Settings, tmp_path: Path, widget_bundle: Path) -> Iterator[Servers]:
    """As tests/browser/conftest.py's, with webhooks allowed to reach the receiver on loopback."""
    changed = {
        "visitor_linger_seconds": 0.0,
        "webhook_allow_private": True,
        "webhook_poll_seconds": 0.1,
    }
    made = Servers(settings.model_copy(update=changed), tmp_path)
    try:
        yield made
    finally:
        made.kill_all()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with run_receiver() as found:
        yield found


def test_an_admin_registers_a_webhook_reads_its_log_and_replays(
    page: Page, service: Service, consoles: Consoles, receiver: Receiver, artifacts: Path
) -> None:
    ada = sign_in_admin(consoles, service)
    ada.part("nav-webhooks").click()
    form = ada.part("webhook-form")
    form.locator("input[name=url]").fill(receiver.url("/console"))
    form.locator("input[name=description]").fill("CRM sync")
    form.locator("input[value='thread.closed']").check()
    form.locator("button[type=submit]").click()
    secret_text = ada.part("webhook-secret").locator("code")
    expect(secret_text).to_contain_text("whsec_")
    receiver.secrets["/console"] = secret_text.inner_text().rsplit(": ", 1)[1]
    row = ada.part("webhook-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("message.created, thread.closed")

    page.goto(service.site.url(service.site.add_page("/hooks.html", service.widget)))
    widget = Widget(page).open().connected()
    widget.send("Where is my parcel?")
    receiver.wait_for_sync(lambda: len(receiver.accepted_at("/console")) == 1)
    (got,) = receiver.accepted_at("/console")
    assert got.event["data"]["content"] == "Where is my parcel?"
    assert receiver.bad_signatures == 0

    row.locator("[data-part=webhook-log]").click()
    log = row.locator("[data-part=webhook-deliveries] tbody tr")
    expect(log).to_have_count(1)
    expect(log.first).to_contain_text(got.event["id"])
    expect(log.first).to_have_attribute("data-status", "delivered")

    before = got.event["created_at"]
    row.locator("[data-part=webhook-replay] input[name=from]").fill(before)
    row.locator("[data-part=webhook-replay] button[type=submit]").click()
    expect(row).to_contain_text("1 events will be sent again.")
    receiver.wait_for_sync(lambda: len(receiver.accepted_at("/console")) == 2)
    assert receiver.accepted_at("/console")[1].event["id"] == got.event["id"]
    ada.page.screenshot(path=str(artifacts / "console-webhooks.png"), full_page=True)

    row.locator("[data-part=webhook-toggle]").click()
    expect(ada.part("webhook-row").locator("[data-part=webhook-toggle]")).to_have_text("Enable")
