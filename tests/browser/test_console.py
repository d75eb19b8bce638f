"""The agent console (issue 5) in Chromium: two agents race for a claim and converse with a
visitor's widget, the console rides out a server restart, an admin's new space chats through
its own embed snippet, markup in a visitor's name stays text, and screenshots.

The organization, its admin and a second agent are made through REST; every agent signs in
through the console's own form at `/console`.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import trio
from playwright.sync_api import Locator, Page, ViewportSize, expect

from tests.browser.agent import AgentDriver
from tests.browser.conftest import PageWatch, Servers, Service, register
from tests.browser.console import Console
from tests.browser.consoles import Consoles
from tests.browser.host import HostPage, HostSite, WidgetTag, host_page
from tests.browser.widget import Widget
from tests.helpers.chat import PASSWORD, Org
from tests.helpers.http import Reply, call

TABLET: ViewportSize = {"width": 768, "height": 1024}
# The console backs off between attempts; a restart takes a few seconds on top.
RECONNECT_TIMEOUT_MS = 40_000
# Far enough ahead for both pages to have scheduled their click (two Playwright round trips).
CLICK_LEAD_MS = 500
XSS = "<img src=x onerror=alert(1)>"

# Each page clicks at one shared wall-clock instant (both pages run on this machine's clock),
# so neither console can hear of the other's claim before making its own: a real race.
CLICK_AT = "(el, at) => { setTimeout(() => el.click(), Math.max(0, at - Date.now())); }"
# Two frames, so that a change made just now has started its transitions, then their end.
SETTLE = """async () => {
  for (let i = 0; i < 2; i++) await new Promise((done) => requestAnimationFrame(done));
  const finite = document.getAnimations().filter(
    (a) => Number.isFinite(a.effect?.getComputedTiming().endTime ?? Infinity));
  await Promise.all(finite.map((a) => a.finished.catch(() => null)));
}"""
OVERFLOW_X = "() => document.documentElement.scrollWidth - window.innerWidth"


def rest(org: Org, method: str, path: str, body: Any = None) -> Reply:
    """One REST call as the organization's admin."""
    return trio.run(lambda: call(method, f"{org.base}/api/v1{path}", body, token=org.token))


def add_agent(org: Org, name: str) -> tuple[dict[str, Any], str]:
    """A second agent (role agent) of the organization; returns it and its email."""
    email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
    body = {"email": email, "name": name, "password": PASSWORD, "role": "agent"}
    reply = rest(org, "POST", "/agents", body)
    assert reply.status == 201, reply.body
    agent: dict[str, Any] = reply.body
    return agent, email


def sign_in_admin(consoles: Consoles, service: Service) -> Console:
    return consoles.new(service.base).sign_in(service.org.agent["email"], PASSWORD)


def click_together(*buttons: Locator) -> None:
    at = time.time() * 1000 + CLICK_LEAD_MS
    for button in buttons:
        button.evaluate(CLICK_AT, at)


def updates_of(agent: AgentDriver, thread_id: str) -> list[dict[str, Any]]:
    return [
        f
        for f in list(agent.frames)
        if f.get("type") == "thread.updated" and f["thread"]["id"] == thread_id
    ]


def no_errors(*consoles: Console) -> None:
    for console in consoles:
        assert console.watch.page_errors == []
        assert console.watch.dialogs == []


def test_two_agents_race_for_a_claim_then_converse_close_and_transfer(
    page: Page, service: Service, agent: AgentDriver, consoles: Consoles, watch: PageWatch
) -> None:
    """`agent` is a plain socket of the admin's watching the space: the server's word on who
    won, against which both consoles are checked."""
    org = service.org
    bea, bea_email = add_agent(org, "Bea")
    ada = sign_in_admin(consoles, service)
    bee = consoles.new(service.base).sign_in(bea_email, PASSWORD)
    by_id = {org.agent["id"]: ada, bea["id"]: bee}
    for console, other in ((ada, bea["id"]), (bee, org.agent["id"])):
        online = console.part("online-agents").locator(
            f"[data-part=online-agent][data-agent-id='{other}']"
        )
        expect(online).to_be_visible()

    page.goto(service.site.url(service.site.add_page("/shop.html", service.widget)))
    widget = Widget(page).open().connected()
    widget.send("I need help with my order")
    widget.expect_message("I need help with my order", "visitor", state="sent")
    thread_id = agent.wait_for("thread.new")["thread"]["id"]
    for console in (ada, bee):
        console.show("queue")
        row = console.row(thread_id)
        expect(row).to_have_attribute("data-status", "unassigned")
        expect(row.locator("[data-part=preview]")).to_contain_text("I need help with my order")
        expect(console.list_count("queue")).to_have_text("1")
        console.open_thread(thread_id)
        console.expect_message("I need help with my order", "visitor")
        expect(console.claim).to_be_enabled()

    click_together(ada.claim, bee.claim)
    update = agent.wait_for("thread.updated", where=lambda f: f["thread"]["id"] == thread_id)
    claimed = update["thread"]
    assert claimed["status"] == "active", claimed
    winner = by_id[claimed["assigned_agent_id"]]
    loser = bee if winner is ada else ada
    for console in (winner, loser):
        expect(console.thread).to_have_attribute("data-status", "active")
        expect(console.page.locator("#console [data-part=claim]:enabled:visible")).to_have_count(0)
    expect(winner.part("thread-error")).to_be_hidden()
    expect(loser.part("thread-error")).to_contain_text("Taken by another agent")
    # Both asked (else this was no race), and the server refused the loser.
    assert (winner.outbox.claims(thread_id), loser.outbox.claims(thread_id)) == (1, 1)
    loser.show("queue")
    expect(loser.row(thread_id)).to_have_count(0)
    expect(loser.list_count("queue")).to_have_text("0")
    winner.show("mine")
    expect(winner.row(thread_id)).to_have_attribute("data-status", "active")
    assert len(updates_of(agent, thread_id)) == 1, updates_of(agent, thread_id)

    # Both ways: each message shown once on each side, with the same id.
    winner.send("Happy to help! What is the order number?")
    sent = winner.expect_message("Happy to help! What is the order number?", "agent", state="sent")
    shown = widget.expect_message("Happy to help! What is the order number?", "agent")
    expect(shown).to_have_attribute("data-id", sent.get_attribute("data-id") or "<none>")
    widget.send("It is 4711")
    heard = widget.expect_message("It is 4711", "visitor", state="sent")
    winner.expect_message("It is 4711", "visitor")
    # A barrier (one order per thread): anything doubled would have arrived before this.
    winner.send("Found it, it ships today")
    widget.expect_message("Found it, it ships today", "agent")
    winner.expect_message("Found it, it ships today", "agent", state="sent")
    copy = winner.expect_message("It is 4711", "visitor")
    expect(copy).to_have_attribute("data-id", heard.get_attribute("data-id") or "<none>")
    winner.expect_message("Happy to help! What is the order number?", "agent")

    winner.close_thread()
    expect(winner.thread).to_have_attribute("data-status", "closed")
    restart = widget.part("new-conversation")
    expect(restart).to_be_visible()

    # A second thread: Ada claims it and hands it to Bea, who finds it under "mine".
    restart.click()
    widget.send("One more question")
    second = agent.wait_for("thread.new", where=lambda f: f["thread"]["id"] != thread_id)
    second_id = second["thread"]["id"]
    ada.show("queue")
    ada.open_thread(second_id)
    ada.claim.click()
    expect(ada.thread).to_have_attribute("data-status", "active")
    ada.transfer_to(bea["id"])
    agent.wait_for(
        "thread.updated",
        where=lambda f: (
            f["thread"]["id"] == second_id and f["thread"]["assigned_agent_id"] == bea["id"]
        ),
    )
    bee.show("mine")
    expect(bee.row(second_id)).to_have_attribute("data-status", "active")
    ada.show("mine")
    expect(ada.row(second_id)).to_have_count(0)
    bee.open_thread(second_id)
    bee.expect_message("One more question", "visitor")
    # The visitor panel lists the visitor's first, closed, conversation.
    earlier = bee.part("earlier-threads").locator("[data-thread-id]")
    expect(earlier).to_have_attribute("data-thread-id", thread_id)
    bee.send("Bea here, I will take it from here")
    widget.expect_message("Bea here, I will take it from here", "agent")
    no_errors(ada, bee)
    assert watch.page_errors == []


def test_the_console_reconnects_after_a_restart_and_shows_a_missed_message_once(
    page: Page, servers: Servers, site: HostSite, consoles: Consoles, watch: PageWatch
) -> None:
    """The console's server (A) is killed and started again on its port; meanwhile the visitor,
    whose widget talks to a second server (B) sharing Redis and PostgreSQL, writes."""
    server_a, server_b = servers.start(), servers.start()
    service = Service(server_a, register(server_a.base, site), site)
    ada = sign_in_admin(consoles, service)
    tag = WidgetTag(f"{server_b.base}/widget.js", service.org.space["widget_key"])
    page.goto(site.url(site.add_page("/shop.html", tag)))
    widget = Widget(page).open().connected()
    widget.send("Before the restart")
    widget.expect_message("Before the restart", "visitor", state="sent")
    ada.show("queue")
    thread_id = ada.thread_id_of(ada.row_previewing("Before the restart"))
    ada.open_thread(thread_id)
    ada.claim.click()
    expect(ada.thread).to_have_attribute("data-status", "active")

    server_a.kill()
    expect(ada.connection).to_have_attribute("data-status", "offline")
    widget.send("Sent while the console was cut off")
    widget.expect_message("Sent while the console was cut off", "visitor", state="sent")

    servers.restart(server_a)
    ada.connected(timeout_ms=RECONNECT_TIMEOUT_MS)
    expect(ada.thread).to_have_attribute("data-thread-id", thread_id)
    ada.expect_message("Sent while the console was cut off", "visitor")
    # A barrier (one order per thread): a doubled replay would arrive before this.
    widget.send("After the restart")
    ada.expect_message("After the restart", "visitor")
    contents = ada.messages("visitor").locator("[data-part=content]")
    expect(contents).to_have_text(
        ["Before the restart", "Sent while the console was cut off", "After the restart"]
    )
    ada.send("Still here")
    widget.expect_message("Still here", "agent")
    no_errors(ada)
    assert watch.page_errors == []


def test_an_admin_makes_a_space_whose_embed_snippet_chats_into_its_queue(
    page: Page, service: Service, consoles: Consoles, watch: PageWatch
) -> None:
    """The new space allows the host site as 127.0.0.1:<port>, which the first space does not:
    the chat works only through the new space's key."""
    ada = sign_in_admin(consoles, service)
    allowed = service.site.origin("127.0.0.1")
    row = ada.create_space(
        "Second shop", f"shop.example.org\n{allowed}", known=[service.org.space["id"]]
    )
    space_id = row.get_attribute("data-space-id")
    assert space_id
    key = Console.value_or_text(row.locator("[data-part=widget-key]"))
    snippet = Console.value_or_text(row.locator("[data-part=embed-snippet]"))
    assert snippet == (
        f'<script src="{service.base}/widget.js" data-widget-key="{key}" async></script>'
    )
    made = rest(service.org, "GET", f"/spaces/{space_id}")
    assert made.status == 200, made.body
    assert made.body["name"] == "Second shop"
    assert made.body["widget_key"] == key
    assert made.body["allowed_domains"] == ["shop.example.org", allowed]

    # Exactly the snippet the console showed, as a site owner pastes it.
    body = host_page(None, stylesheet=None, host_script=True, title="Second shop")
    service.site.pages["/second.html"] = HostPage(
        body.replace(b"</body>", snippet.encode() + b"\n</body>")
    )
    page.goto(service.site.url("/second.html", host="127.0.0.1"))
    widget = Widget(page).open().connected()
    widget.send("Hello, second shop")
    widget.expect_message("Hello, second shop", "visitor", state="sent")

    ada.part("nav-inbox").click()
    ada.choose_space(space_id)
    ada.show("queue")
    found = ada.row_previewing("Hello, second shop")
    expect(found).to_have_attribute("data-status", "unassigned")
    thread = rest(service.org, "GET", f"/threads/{ada.thread_id_of(found)}")
    assert thread.status == 200, thread.body
    assert thread.body["space_id"] == space_id
    ada.choose_space(service.org.space["id"])
    ada.show("queue")
    expect(ada.row_previewing("Hello, second shop")).to_have_count(0)
    no_errors(ada)
    assert watch.page_errors == []


def test_markup_in_a_visitor_name_is_shown_as_text(
    page: Page, service: Service, consoles: Consoles, watch: PageWatch
) -> None:
    ada = sign_in_admin(consoles, service)
    page.goto(service.site.url(service.site.add_page("/xss.html", service.widget)))
    widget = Widget(page).open().connected()
    page.evaluate("(name) => window.ChatWidget.identify({name})", XSS)
    widget.send("Hello from a strange name")
    widget.expect_message("Hello from a strange name", "visitor", state="sent")

    ada.show("queue")
    row = ada.row_previewing("Hello from a strange name")
    expect(row.locator("[data-part=visitor-name]")).to_have_text(XSS)
    ada.open_thread(ada.thread_id_of(row))
    expect(ada.part("visitor-panel-name")).to_have_text(XSS)
    expect(ada.part("visitor-panel-page")).to_contain_text("/xss.html")
    expect(ada.page.locator("img[src=x]")).to_have_count(0)
    expect(ada.page.locator("[onerror]")).to_have_count(0)
    no_errors(ada)
    assert watch.page_errors == []


def _settle(page: Page) -> None:
    page.evaluate(SETTLE)


def _fits(console: Console, *parts: Locator) -> None:
    """Each part is within the viewport, and the page does not scroll sideways."""
    for part in parts:
        expect(part).to_be_in_viewport()
    overflow = console.page.evaluate(OVERFLOW_X)
    assert overflow <= 0, f"the console is {overflow}px wider than its viewport"


def test_screenshots_of_the_inbox_and_a_thread_on_desktop_and_tablet(
    page: Page, service: Service, consoles: Consoles, artifacts: Path
) -> None:
    ada = sign_in_admin(consoles, service)
    page.goto(service.site.url(service.site.add_page("/shot.html", service.widget)))
    widget = Widget(page).open().connected()
    page.evaluate("() => window.ChatWidget.identify({name: 'Grace Hopper'})")
    widget.send("Hi! Does the blue kettle come in green?")
    widget.expect_message("Hi! Does the blue kettle come in green?", "visitor", state="sent")

    ada.show("queue")
    row = ada.row_previewing("Hi! Does the blue kettle come in green?")
    expect(row.locator("[data-part=visitor-name]")).to_have_text("Grace Hopper")
    expect(row.locator("[data-part=unread]")).to_have_text("1")
    _settle(ada.page)
    _fits(ada, row, ada.part("connection"))
    inbox = artifacts / "console-inbox.png"
    ada.page.screenshot(path=inbox)
    assert inbox.stat().st_size > 0

    ada.open_thread(ada.thread_id_of(row))
    expect(row.locator("[data-part=unread]")).to_be_hidden()  # read, now that it is open
    ada.claim.click()
    expect(ada.thread).to_have_attribute("data-status", "active")
    ada.send("It does! Shall I reserve one for you?")
    widget.expect_message("It does! Shall I reserve one for you?", "agent")
    widget.send("Yes please")
    last = ada.expect_message("Yes please", "visitor")
    # The panel has its answer (a just-made visitor may take a retry to be found).
    expect(ada.part("earlier-threads")).not_to_contain_text("Loading")
    _settle(ada.page)
    _fits(ada, last, ada.part("composer"), ada.part("send"), ada.part("visitor-panel"))
    thread = artifacts / "console-thread.png"
    ada.page.screenshot(path=thread)
    assert thread.stat().st_size > 0

    ada.page.set_viewport_size(TABLET)
    _settle(ada.page)
    _fits(ada, last, ada.part("composer"), ada.part("send"))
    tablet = artifacts / "console-tablet.png"
    ada.page.screenshot(path=tablet)
    assert tablet.stat().st_size > 0
    no_errors(ada)


def test_an_admin_makes_a_group_adds_a_member_names_it_for_a_space_and_deletes_it(
    service: Service, consoles: Consoles
) -> None:
    """The Groups page (issue 12): create with a strategy, tick a member, rename, choose it as
    a space's default group on the Spaces page, delete it (confirmed); each step read back
    through REST."""
    bob, _email = add_agent(service.org, "Bob")
    ada = sign_in_admin(consoles, service)
    ada.part("nav-groups").click()
    form = ada.page.locator("#console form[data-part=group-form]")
    form.locator("input[name=name]").fill("Billing")
    form.locator("select[name=strategy]").select_option("round_robin")
    form.locator("input[name=sticky]").check()
    form.locator("button[type=submit]").click()
    row = ada.part("group-row").filter(
        has=ada.page.locator("[data-part=group-name]", has_text="Billing")
    )
    expect(row).to_have_count(1)
    expect(row.locator("[data-part=group-count]")).to_have_text("0 members")

    row.locator(f"input[data-part=group-member][value='{bob['id']}']").check()
    row.locator("[data-part=group-members-save]").click()
    expect(row.locator("[data-part=group-count]")).to_have_text("1 member")
    [group] = rest(service.org, "GET", "/groups").body["items"]
    assert (group["name"], group["strategy"], group["sticky"]) == ("Billing", "round_robin", True)
    assert group["agent_ids"] == [bob["id"]]
    assert rest(service.org, "GET", f"/agents/{bob['id']}").body["group_ids"] == [group["id"]]

    edit = row.locator("form[data-part=group-edit]")
    edit.locator("input[name=name]").fill("Billing EU")
    edit.locator("select[name=strategy]").select_option("least_loaded")
    edit.locator("[data-part=group-auto-transfer]").fill("45")
    edit.locator("button[type=submit]").click()
    expect(row.locator("[data-part=group-name]")).to_have_text("Billing EU")
    changed = rest(service.org, "GET", f"/groups/{group['id']}").body
    assert (changed["name"], changed["strategy"]) == ("Billing EU", "least_loaded")
    assert changed["auto_transfer_seconds"] == 45
    assert group["auto_transfer_seconds"] is None  # the add form left it empty: off

    # The space's own form for its group settings.
    ada.part("nav-spaces").click()
    groups_form = ada.page.locator(
        f"#console [data-part=space-row][data-space-id='{service.org.space['id']}']"
        " form[data-part=space-groups]"
    )
    groups_form.locator("[data-part=space-default-group]").select_option(group["id"])
    groups_form.locator("[data-part=space-visitor-picks-group]").check()
    groups_form.locator("button[type=submit]").click()
    expect(groups_form.locator(".hint")).to_have_text("Saved.")
    space = rest(service.org, "GET", f"/spaces/{service.org.space['id']}").body
    assert space["settings"]["default_group_id"] == group["id"]
    assert space["settings"]["visitor_picks_group"] is True

    ada.part("nav-groups").click()
    row.locator("[data-part=group-delete]").click()
    expect(ada.part("group-row")).to_have_count(0)
    assert ada.watch.confirms and "Billing EU" in ada.watch.confirms[-1]
    assert rest(service.org, "GET", "/groups").body["items"] == []
    space = rest(service.org, "GET", f"/spaces/{service.org.space['id']}").body
    assert space["settings"]["default_group_id"] is None
    no_errors(ada)
