"""Closing the loop (issue 17, item 2): business hours flip an open widget to away at closing
time under a fake clock (Playwright's page.clock), the console edits the hours, and a visitor's
rating after a close reaches the agent's conversation view and the space's summary, and the
transcript they ask for reaches a real SMTP sink. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import trio
from aiosmtpd.controller import Controller
from playwright.sync_api import Page, expect

from chat.config import Settings
from tests.browser.agent import AgentDriver
from tests.browser.conftest import Servers, Service
from tests.browser.consoles import Consoles
from tests.browser.test_console import rest, sign_in_admin
from tests.browser.test_lifecycle import wait_until_served
from tests.browser.widget import Widget
from tests.conftest import free_port
from tests.email.conftest import mail_settings
from tests.helpers.http import call
from tests.helpers.mail import Sink, _Collect


def _closed_now() -> tuple[dict[str, Any], str]:
    """Eight hours every day (UTC) that leave out the real time now, and how the widget says
    they start again ("2:00\\sPM" in en-US). The page's clock is faked but the server decides
    with its own: the lead it leaves though an agent is online needs the space closed for it
    too, whatever the hour the test runs at."""
    start = 14 if datetime.now(UTC).hour < 12 else 2  # 14:00-22:00 before noon, 02:00-10:00 after
    hours = {
        "timezone": "UTC",
        "weekly": {
            d: [{"open": f"{start:02d}:00", "close": f"{start + 8:02d}:00"}]
            for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        },
        "away_message": "We are out for the day.",
    }
    return hours, f"{start % 12 or 12}:00\\s{'AM' if start < 12 else 'PM'}"


@pytest.fixture
def sink() -> Iterator[Sink]:
    """A real SMTP server (aiosmtpd, on its own thread) the service mails through."""
    found = Sink("127.0.0.1", free_port())
    controller = Controller(_Collect(found), hostname=found.host, port=found.port)
    controller.start()
    try:
        yield found
    finally:
        controller.stop()


@pytest.fixture
def servers(
    settings: Settings, tmp_path: Path, widget_bundle: Path, sink: Sink
) -> Iterator[Servers]:
    """As conftest's, with mail going to `sink` (the transcript can be emailed)."""
    mail = mail_settings(settings, sink.port).model_copy(update={"visitor_linger_seconds": 0.0})
    made = Servers(mail, tmp_path)
    try:
        yield made
    finally:
        made.kill_all()


def _config(service: Service) -> dict[str, Any]:
    org = service.org
    url = f"{org.base}/api/v1/widget/{org.space['widget_key']}/config"
    origin = "http://" + service.site.origin("localhost")
    reply = trio.run(lambda: call("GET", url, origin=origin))
    assert reply.status == 200, reply.body
    return dict(reply.body)


def test_an_open_widget_flips_to_away_at_closing_time(
    page: Page, service: Service, agent: AgentDriver, artifacts: Path
) -> None:
    """An agent is online the whole time: inside hours the widget is as before (no away
    sentence, no form); at closing time it shows the away message and when the team is back
    above the message box, and once the visitor has written, above the leave-a-message form
    alone (one state at a time, as when nobody is online)."""
    space = service.org.space["id"]
    hours_setting, reopens = _closed_now()
    patched = rest(
        service.org,
        "PATCH",
        f"/spaces/{space}",
        {"settings": {"business_hours": hours_setting}},
    )
    assert patched.status == 200, patched.body
    wait_until_served(service, "business_hours", hours_setting)
    hours = _config(service)["hours"]
    closes = hours["intervals"][0][1]  # the server's clock decides the intervals
    page.clock.install(time=datetime.fromtimestamp((closes - 30_000) / 1000, UTC))

    page.goto(service.site.url(service.site.add_page("/hours.html", service.widget)))
    widget = Widget(page).open().connected()
    expect(widget.part("presence")).to_have_attribute("data-online", "true")
    expect(widget.part("away")).to_have_count(0)
    expect(widget.part("prechat")).to_have_count(0)

    page.clock.run_for(31_000)  # past closing time: the widget's own timer flips it
    away = widget.part("away")
    expect(away).to_be_visible()
    expect(away).to_have_count(1)  # the one sentence: the space's away message
    expect(away).to_contain_text("We are out for the day.")
    # Tomorrow's opening, in the browser's zone and language (this context: UTC, en-US).
    expect(widget.part("back-at")).to_have_text(re.compile(rf"^Back tomorrow at {reopens}$"))
    # The box first: what the visitor came for.
    expect(widget.input).to_be_visible()
    expect(widget.part("prechat")).to_have_count(0)

    # Written: the form alone asks where to reply, under the same away screen (no second
    # sentence: not "No one is online", since someone is).
    widget.send("Are you open on Saturday?")
    widget.expect_message("Are you open on Saturday?", "visitor", state="sent")
    form = widget.part("prechat")
    expect(form).to_be_visible()
    expect(form).not_to_contain_text("No one is online")
    expect(widget.input).to_have_count(0)
    expect(away).to_contain_text("We are out for the day.")
    page.screenshot(path=artifacts / "widget-away-hours.png")

    # The visitor leaves an email: a lead in the inbox, though an agent is online (hours win).
    form.locator("input[name=name]").fill("Grace")
    form.locator("input[name=email]").fill("grace@example.com")
    form.locator("button[type=submit]").click()
    lead = agent.wait_for("message", where=lambda f: "grace@example.com" in f.get("content", ""))
    assert lead["sender_type"] == "visitor", lead
    expect(form).to_have_count(0)
    expect(widget.input).to_be_visible()

    page.clock.run_for(16 * 3600 * 1000)  # the next morning: open again
    expect(widget.part("away")).to_have_count(0)


def test_the_console_edits_the_hours(service: Service, consoles: Consoles) -> None:
    ada = sign_in_admin(consoles, service)
    ada.part("nav-spaces").click()
    space = service.org.space["id"]
    card = ada.page.locator(
        f"#console [data-part=space-row][data-space-id='{space}'] [data-part=space-hours]"
    )
    card.locator("[data-part=hours-on]").check()
    card.locator("[data-part=hours-timezone]").fill("Mars/Olympus")
    card.locator("[data-part=hours-mon]").fill("09:00-12:00, 13:00-17:30")
    card.locator("[data-part=hours-fri]").fill("22:00-02:00")
    card.locator("[data-part=hours-save]").click()
    expect(card.locator("[role=alert]")).to_contain_text("time zone")
    card.locator("[data-part=hours-timezone]").fill("Europe/Berlin")
    card.locator("[data-part=hours-save]").click()
    expect(card.locator(".hint")).to_have_text("Saved.")
    stored = rest(service.org, "GET", f"/spaces/{space}").body["settings"]["business_hours"]
    assert stored["timezone"] == "Europe/Berlin"
    assert stored["weekly"] == {
        "mon": [{"open": "09:00", "close": "12:00"}, {"open": "13:00", "close": "17:30"}],
        "fri": [{"open": "22:00", "close": "02:00"}],
    }
    card.locator("[data-part=hours-on]").uncheck()
    card.locator("[data-part=hours-save]").click()
    expect(card.locator("[data-part=hours-timezone]")).to_have_count(0)

    async def cleared() -> None:  # the form hides at once; the PATCH lands a moment later
        with trio.fail_after(10):
            while (
                await call("GET", f"{service.org.base}/api/v1/spaces/{space}", token=token)
            ).body["settings"].get("business_hours") is not None:
                await trio.sleep(0.05)

    token = service.org.token
    trio.run(cleared)


def test_a_rating_and_a_transcript_after_the_close(
    page: Page, service: Service, consoles: Consoles, sink: Sink, artifacts: Path
) -> None:
    page.goto(service.site.url(service.site.add_page("/rate.html", service.widget)))
    widget = Widget(page).open().connected()
    widget.send("Where is my parcel?")
    widget.expect_message("Where is my parcel?", "visitor", state="sent")

    ada = sign_in_admin(consoles, service)
    ada.show("queue")
    thread_id = ada.thread_id_of(ada.row_previewing("Where is my parcel?"))
    ada.open_thread(thread_id)
    ada.claim.click()
    expect(ada.thread).to_have_attribute("data-status", "active")
    ada.send("It arrives tomorrow")
    widget.expect_message("It arrives tomorrow", "agent")
    # While open, the transcript form is behind "Email transcript" under the conversation.
    expect(widget.part("transcript-form")).to_have_count(0)
    widget.part("transcript-mail").click()
    expect(widget.part("transcript-form")).to_be_visible()
    ada.close_thread()
    expect(ada.thread).to_have_attribute("data-status", "closed")
    expect(widget.part("transcript-form")).to_have_count(1)  # after the close, one form

    rating = widget.part("rating")
    expect(rating).to_be_visible()
    rating.locator("textarea[name=comment]").fill("Fast and friendly")
    widget.part("rate-good").click()
    expect(widget.part("rating-done")).to_have_text("Thanks for your feedback!")

    # The transcript by mail: the form shows after the close; the sink gets the conversation.
    form = widget.part("transcript-form")
    form.locator("input[name=email]").fill("grace@example.com")
    widget.part("transcript-send").click()
    expect(widget.part("transcript-state")).to_have_text("Sent! Check your inbox.")
    page.screenshot(path=artifacts / "widget-rating.png")
    mail = trio.run(lambda: sink.wait_for_mail("grace@example.com"))
    text = mail.message.get_content()
    assert "Where is my parcel?" in text and "It arrives tomorrow" in text, text

    line = ada.part("rating")
    expect(line).to_have_attribute("data-score", "good")
    expect(line).to_contain_text("Fast and friendly")
    ada.page.screenshot(path=artifacts / "console-rating.png")
    rated = rest(service.org, "GET", f"/threads/{thread_id}/rating")
    assert rated.status == 200 and rated.body["comment"] == "Fast and friendly", rated.body

    ada.part("nav-spaces").click()
    summary = ada.page.locator(
        f"#console [data-part=space-row][data-space-id='{service.org.space['id']}']"
        " [data-part=ratings-summary]"
    )
    expect(summary.locator("[data-part=ratings-share]")).to_have_text("100% good (1 of 1)")
    expect(summary.locator("[data-part=ratings-agent]")).to_have_text("Ada: 100% good (1 of 1)")
