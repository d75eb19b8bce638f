"""Canned responses in the console (issue 13): an admin adds org-wide ones on the Canned
responses page, an agent types "/he" in the composer, picks one with the keyboard, the composer
holds it with its placeholders filled in, and the visitor's widget receives it. Screenshots of
the open list at laptop and tablet widths go to tests/artifacts/.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Locator, Page, ViewportSize, expect

from tests.browser.conftest import Service
from tests.browser.console import Console
from tests.browser.consoles import Consoles
from tests.browser.test_console import (
    OVERFLOW_X,
    SETTLE,
    add_agent,
    no_errors,
    rest,
    sign_in_admin,
)
from tests.browser.widget import Widget
from tests.helpers.chat import PASSWORD

LAPTOP: ViewportSize = {"width": 1280, "height": 800}
TABLET: ViewportSize = {"width": 820, "height": 1180}
HELLO = (
    "Hi {{visitor.first_name|there}}, this is {{agent.name}} from {{space.name}}. How can I help?"
)
HELLO_EXPANDED = "Hi Grace, this is Bea from Shop. How can I help?"


def _add(console: Console, shortcut: str, title: str, content: str, scope: str) -> Locator:
    """Fill the Canned responses page's form; returns the new row once listed."""
    form = console.page.locator("#console form[data-part=canned-form]")
    if scope == "organization":
        form.locator("select[name=scope]").select_option("organization")
    form.locator("input[name=shortcut]").fill(shortcut)
    form.locator("input[name=title]").fill(title)
    form.locator("textarea[name=content]").fill(content)
    form.locator("button[type=submit]").click()
    row = console.part(f"canned-{scope}").locator(
        f"[data-part=canned-row][data-shortcut='{shortcut.lstrip('/').lower()}']"
    )
    expect(row).to_have_count(1)
    return row


def _shot(console: Console, path: Path, *visible: Locator) -> None:
    console.page.evaluate(SETTLE)
    for part in visible:
        expect(part).to_be_in_viewport()
    assert console.page.evaluate(OVERFLOW_X) <= 0, "the console scrolls sideways"
    console.page.screenshot(path=path)
    assert path.stat().st_size > 0


def test_an_agent_inserts_an_org_wide_response_by_keyboard_and_the_visitor_gets_it(
    page: Page, service: Service, consoles: Consoles, artifacts: Path
) -> None:
    org = service.org
    _bea, bea_email = add_agent(org, "Bea")
    ada = sign_in_admin(consoles, service)
    ada.part("nav-canned").click()
    _add(ada, "/Hello", "Greeting", HELLO, "organization")
    _add(ada, "help", "What I can help with", "Orders, returns and refunds.", "organization")
    stored = rest(org, "GET", "/canned-responses?q=hello").body["items"]
    assert [(r["scope"], r["content"]) for r in stored] == [("organization", HELLO)]  # as written

    page.goto(service.site.url(service.site.add_page("/canned.html", service.widget)))
    widget = Widget(page).open().connected()
    page.evaluate("() => window.ChatWidget.identify({name: 'Grace Hopper'})")
    widget.send("Hello? Is anyone there?")
    widget.expect_message("Hello? Is anyone there?", "visitor", state="sent")

    bee = consoles.new(service.base, LAPTOP).sign_in(bea_email, PASSWORD)
    bee.show("queue")
    row = bee.row_previewing("Hello? Is anyone there?")
    expect(row.locator("[data-part=visitor-name]")).to_have_text("Grace Hopper")
    bee.open_thread(bee.thread_id_of(row))
    bee.claim.click()
    expect(bee.thread).to_have_attribute("data-status", "active")

    composer = bee.part("composer")
    composer.click()
    composer.press_sequentially("/he")
    listbox = bee.page.get_by_role("listbox", name="Canned responses")
    options = listbox.get_by_role("option")
    expect(options).to_have_count(2)
    expect(options.nth(0)).to_have_attribute("data-shortcut", "hello")
    expect(options.nth(1)).to_have_attribute("data-shortcut", "help")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    # The preview is what would be inserted here.
    expect(options.nth(0).locator(".canned-preview")).to_have_text(HELLO_EXPANDED)
    expect(composer).to_have_attribute(
        "aria-activedescendant", options.nth(0).get_attribute("id") or ""
    )

    composer.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(composer).to_have_attribute(
        "aria-activedescendant", options.nth(1).get_attribute("id") or ""
    )
    _shot(bee, artifacts / "console-canned-laptop.png", listbox, composer)
    bee.page.set_viewport_size(TABLET)
    _shot(bee, artifacts / "console-canned-tablet.png", listbox, composer)
    bee.page.set_viewport_size(LAPTOP)

    composer.press("ArrowUp")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    composer.press("Enter")  # inserts, does not send
    expect(listbox).to_have_count(0)
    expect(composer).to_have_value(HELLO_EXPANDED)
    expect(bee.messages("agent")).to_have_count(0)
    composer.press("Enter")
    bee.expect_message(HELLO_EXPANDED, "agent", state="sent")
    widget.expect_message(HELLO_EXPANDED, "agent")

    # Escape closes the list and leaves the text; the next "/" after a space opens it again.
    composer.press_sequentially("Also /hel")
    expect(options).to_have_count(2)
    composer.press("Escape")
    expect(listbox).to_have_count(0)
    expect(composer).to_have_value("Also /hel")
    composer.press_sequentially(" /help")
    expect(options).to_have_count(1)
    options.first.click()  # the mouse works too
    expect(composer).to_have_value("Also /hel Orders, returns and refunds.")
    no_errors(ada, bee)


def test_an_agent_manages_personal_responses_and_only_reads_org_wide_ones(
    service: Service, consoles: Consoles, artifacts: Path
) -> None:
    org = service.org
    created = rest(
        org,
        "POST",
        "/canned-responses",
        {"scope": "organization", "shortcut": "hello", "title": "Greeting", "content": "Hi!"},
    )
    assert created.status == 201, created.body
    _bea, bea_email = add_agent(org, "Bea")
    bee = consoles.new(service.base).sign_in(bea_email, PASSWORD)
    bee.part("nav-canned").click()
    shared = bee.part("canned-organization").locator("[data-part=canned-row]")
    expect(shared).to_have_count(1)
    expect(shared.locator("[data-part=canned-edit]")).to_have_count(0)  # read only for agents
    expect(bee.page.locator("#console select[name=scope]")).to_have_count(0)

    mine = _add(bee, "thx", "Thanks", "Thank you, {{visitor.name|friend}}!", "personal")
    mine.locator("input[name=title]").fill("Thank you")
    mine.locator("button[type=submit]").click()
    expect(mine.locator("input[name=title]")).to_have_value("Thank you")
    _shot(bee, artifacts / "console-canned-page.png", mine)
    listed = rest(org, "GET", "/canned-responses").body["items"]
    assert [r["shortcut"] for r in listed] == ["hello"]  # the admin does not see Bea's own

    taken = bee.page.locator("#console form[data-part=canned-form]")
    taken.locator("input[name=shortcut]").fill("THX")
    taken.locator("input[name=title]").fill("Again")
    taken.locator("textarea[name=content]").fill("Again")
    taken.locator("button[type=submit]").click()
    expect(bee.part("canned-form-error")).to_contain_text("shortcut")

    mine.locator("[data-part=canned-delete]").click()  # confirmed by ConsoleWatch
    expect(bee.part("canned-personal").locator("[data-part=canned-row]")).to_have_count(0)
    assert bee.watch.confirms == ["Delete the canned response /thx?"]
    no_errors(bee)
