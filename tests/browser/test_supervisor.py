"""A supervisor runs the floor from the console (issue 20, item 1; README "Roles"): an admin
adds her with the Supervisor role on the Agents page; she watches a conversation another agent
holds and sees the visitor's new message arrive live; she whispers, and the holding agent sees
the whisper live while the visitor's widget never receives it (neither a frame nor its page);
she takes the conversation over, and the visitor then talks with her."""

from __future__ import annotations

import json
import uuid

from playwright.sync_api import Page, WebSocket, expect

from tests.browser.conftest import Service
from tests.browser.console import Console
from tests.browser.consoles import Consoles
from tests.browser.test_console import add_agent, no_errors, rest, sign_in_admin
from tests.browser.widget import Widget
from tests.helpers.chat import PASSWORD, Org

WHISPER = "Offer the refund, I approve it (whisper 7f3a)"


class WidgetFrames:
    """Every frame the widget's socket received, as text."""

    def __init__(self, page: Page) -> None:
        self.texts: list[str] = []
        page.on("websocket", self._socket)

    def _socket(self, socket: WebSocket) -> None:
        socket.on("framereceived", lambda payload: self.texts.append(str(payload)))

    def holders(self) -> list[str | None]:
        """The agent_name of every `thread` frame, in order."""
        frames = [json.loads(text) for text in self.texts]
        return [f["thread"].get("agent_name") for f in frames if f.get("type") == "thread"]


def _add_supervisor(ada: Console, name: str) -> str:
    """Fill the Agents page's form with the Supervisor role; returns the email."""
    email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
    ada.part("nav-agents").click()
    form = ada.page.locator("#console form[data-part=agent-form]")
    form.locator("input[name=name]").fill(name)
    form.locator("input[name=email]").fill(email)
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("select[name=role]").select_option("supervisor")
    form.locator("button[type=submit]").click()
    role = ada.page.get_by_label(f"Role of {name}")
    expect(role).to_have_value("supervisor")
    return email


def test_a_supervisor_watches_whispers_and_takes_over(
    page: Page, service: Service, consoles: Consoles
) -> None:
    org = service.org
    _bea, bea_email = add_agent(org, "Bea")
    ada = sign_in_admin(consoles, service)
    sue_email = _add_supervisor(ada, "Sue")
    listed = {a["name"]: a["role"] for a in rest(org, "GET", "/agents").body["items"]}
    assert listed["Sue"] == "supervisor"

    frames = WidgetFrames(page)
    page.goto(service.site.url(service.site.add_page("/supervised.html", service.widget)))
    widget = Widget(page).open().connected()
    widget.send("My order never arrived")
    widget.expect_message("My order never arrived", "visitor", state="sent")

    # Bea claims the conversation and answers.
    bea = consoles.new(service.base).sign_in(bea_email, PASSWORD)
    bea.show("queue")
    thread_id = bea.thread_id_of(bea.row_previewing("My order never arrived"))
    bea.open_thread(thread_id)
    bea.claim.click()
    expect(bea.thread).to_have_attribute("data-status", "active")
    bea.send("Let me check that for you")
    widget.expect_message("Let me check that for you", "agent")

    # Sue watches it: the visitor's next message arrives in her view live.
    sue = consoles.new(service.base).sign_in(sue_email, PASSWORD)
    sue.show("active")
    sue.open_thread(thread_id)
    expect(sue.part("reply-confirm")).to_have_count(0)
    sue.part("watch").click()
    expect(sue.part("watching")).to_be_visible()
    expect(sue.part("mode-whisper")).to_have_attribute("aria-pressed", "true")
    widget.send("It was order 4711")
    sue.expect_message("It was order 4711", "visitor")

    # She whispers: Bea sees it live, addressed to her; the visitor gets nothing of it.
    sue.send(WHISPER)
    expect(sue.part("whisper").filter(has_text=WHISPER)).to_have_count(1)
    whisper = bea.part("whisper").filter(has_text=WHISPER)
    expect(whisper).to_have_count(1)
    expect(whisper).to_contain_text("Whisper to You")
    bea.send("Good news: a refund is on its way")
    widget.expect_message("Good news: a refund is on its way", "agent")
    assert not [text for text in frames.texts if "7f3a" in text]
    expect(page.locator("body")).not_to_contain_text("7f3a")
    expect(widget.part("window")).not_to_contain_text("7f3a")

    # She takes it over: the thread is hers, Bea's view says so, the visitor talks with her.
    sue.part("take-over").click()
    expect(sue.thread.locator(".status")).to_contain_text("with you")
    expect(sue.part("take-over")).to_have_count(0)
    expect(bea.part("assigned-notice")).to_contain_text("Sue")
    held = rest(org, "GET", f"/threads/{thread_id}").body
    assert held["assigned_agent_id"] == listed_id(org, "Sue")
    expect(sue.part("mode-reply")).to_have_attribute("aria-pressed", "true")
    sue.send("Hi, I am Sue, I will finish this with you")
    widget.expect_message("Hi, I am Sue, I will finish this with you", "agent")
    widget.send("Thanks Sue!")
    sue.expect_message("Thanks Sue!", "visitor")
    assert frames.holders()[-1] == "Sue"  # the widget was told who it talks with now
    assert not [text for text in frames.texts if "7f3a" in text or '"note"' in text]
    no_errors(ada, bea, sue)


def listed_id(org: Org, name: str) -> str:
    found = [a["id"] for a in rest(org, "GET", "/agents").body["items"] if a["name"] == name]
    assert len(found) == 1
    return str(found[0])
