"""Private notes and tags in the console (issue 13, items 2 and 3): an agent writes a note with
the composer's Note toggle (shown yellow, "Only agents see this", never in the visitor's widget),
tags the conversation from its header, sees the tag on the list row and filters the list by it.
Screenshots at laptop and tablet widths go to tests/artifacts/."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import Service
from tests.browser.consoles import Consoles
from tests.browser.test_canned import LAPTOP, TABLET, _shot
from tests.browser.test_console import rest, sign_in_admin
from tests.browser.widget import Widget

NOTE = "Asked twice already: escalate to billing"


def test_an_agent_notes_and_tags_a_conversation_the_visitor_never_sees_the_note(
    page: Page, service: Service, consoles: Consoles, artifacts: Path
) -> None:
    org = service.org
    assert rest(org, "POST", "/tags", {"name": "Billing", "colour": "#d97706"}).status == 201
    assert rest(org, "POST", "/tags", {"name": "VIP", "colour": "#2563eb"}).status == 201

    page.goto(service.site.url(service.site.add_page("/notes.html", service.widget)))
    widget = Widget(page).open().connected()
    widget.send("My invoice is wrong")
    widget.expect_message("My invoice is wrong", "visitor", state="sent")

    ada = sign_in_admin(consoles, service)
    ada.page.set_viewport_size(LAPTOP)
    ada.show("queue")
    row = ada.row_previewing("My invoice is wrong")
    thread_id = ada.thread_id_of(row)
    ada.open_thread(thread_id)
    ada.claim.click()
    expect(ada.thread).to_have_attribute("data-status", "active")

    ada.part("mode-note").click()
    composer = ada.part("composer")
    composer.fill(NOTE)
    composer.press("Enter")
    note = ada.page.locator("[data-part=note]")
    expect(note).to_have_count(1)
    expect(note).to_contain_text(NOTE)
    expect(note).to_contain_text("Only agents see this")
    ada.part("mode-reply").click()
    ada.send("Sorry about that, looking into it")
    widget.expect_message("Sorry about that, looking into it", "agent")
    # The note sits between the messages in log order, not after all of them.
    items = ada.page.locator(".message-list > li")
    expect(items).to_contain_text(
        ["My invoice is wrong", NOTE, "Sorry about that, looking into it"]
    )

    tags = rest(org, "GET", "/tags").body["items"]
    billing = next(t for t in tags if t["name"] == "Billing")
    ada.part("add-tag").select_option(billing["id"])
    expect(ada.part("thread-tags").locator("[data-part=tag]")).to_have_text(["Billing×"])
    listed = rest(org, "GET", f"/threads/{thread_id}/tags").body
    assert listed["thread_id"] == thread_id

    _shot(ada, artifacts / "console-notes-tags-laptop.png", note, ada.part("thread-tags"))
    ada.page.set_viewport_size(TABLET)
    _shot(ada, artifacts / "console-notes-tags-tablet.png", note)
    ada.page.set_viewport_size(LAPTOP)

    # The note never reached the widget.
    expect(page.get_by_text(NOTE)).to_have_count(0)


def test_an_admin_manages_the_tag_list_in_the_console(service: Service, consoles: Consoles) -> None:
    """The Tags page: add, rename and recolour, delete; each change is the organization's list
    (REST agrees), and a taken name is refused with the contract's message."""
    org = service.org
    ada = sign_in_admin(consoles, service)
    ada.part("nav-tags").click()
    form = ada.part("tag-form")
    form.locator("input[name=name]").fill("Refunds")
    form.locator("input[name=colour]").fill("#16a34a")
    form.locator("button[type=submit]").click()
    row = ada.part("tag-row")
    expect(row).to_have_count(1)
    expect(row.locator("input[name=name]")).to_have_value("Refunds")
    assert [(t["name"], t["colour"]) for t in rest(org, "GET", "/tags").body["items"]] == [
        ("Refunds", "#16a34a")
    ]

    form.locator("input[name=name]").fill("refunds")  # the same name in another case
    form.locator("button[type=submit]").click()
    expect(ada.part("tag-form-error")).to_be_visible()
    expect(row).to_have_count(1)

    row.locator("input[name=name]").fill("Refund requests")
    # The field shows the new name as soon as it is typed: wait for the PATCH's answer instead.
    with ada.page.expect_response(
        lambda r: r.request.method == "PATCH" and "/tags/" in r.url
    ) as renamed:
        row.locator("button[type=submit]").click()
    assert renamed.value.status == 200
    expect(ada.part("tag-row").locator("input[name=name]")).to_have_value("Refund requests")
    assert [t["name"] for t in rest(org, "GET", "/tags").body["items"]] == ["Refund requests"]

    ada.part("tag-delete").click()  # the confirm is accepted
    expect(ada.part("tag-row")).to_have_count(0)
    assert rest(org, "GET", "/tags").body["items"] == []
    assert ada.watch.page_errors == []
