"""A visitor and a real agent client converse through the widget in Chromium, across a reload and
a server restart."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.agent import AgentDriver
from tests.browser.conftest import PageWatch, Servers, Service, register
from tests.browser.host import HostSite
from tests.browser.widget import Widget

# The widget backs off between attempts; a restart takes a few seconds on top.
RECONNECT_TIMEOUT_MS = 40_000


def test_visitor_and_agent_converse_and_history_survives_a_reload(
    page: Page, service: Service, agent: AgentDriver, watch: PageWatch
) -> None:
    page.goto(service.site.url(service.site.add_page("/shop.html", service.widget)))
    widget = Widget(page).loaded()
    expect(widget.window).to_be_hidden()
    widget.bubble.click()
    expect(widget.window).to_be_visible()
    widget.connected()
    expect(widget.part("presence")).to_have_attribute("data-online", "true")

    widget.send("Hello, is anyone there?")
    sent = widget.expect_message("Hello, is anyone there?", "visitor", state="sent")

    opened = agent.wait_for("thread.new")
    thread_id = opened["thread"]["id"]
    heard = agent.wait_for("message", thread_id=thread_id, content="Hello, is anyone there?")
    assert heard["sender_type"] == "visitor"
    expect(sent).to_have_attribute("data-id", heard["id"])
    agent.claim(thread_id)
    reply = agent.say(thread_id, "Yes! How can I help?")
    answer = widget.expect_message("Yes! How can I help?", "agent")
    expect(answer).to_have_attribute("data-id", reply["id"])

    page.reload()
    widget.open().connected()
    widget.expect_message("Hello, is anyone there?", "visitor", state="sent")
    widget.expect_message("Yes! How can I help?", "agent")
    expect(widget.message("Yes! How can I help?", "agent")).to_have_attribute(
        "data-id", reply["id"]
    )
    # The same visitor (session kept in the host's localStorage): still one thread.
    assert agent.count("thread.new") == 1
    assert watch.page_errors == []


def test_widget_reconnects_after_a_restart_and_nothing_is_lost_or_doubled(
    page: Page, servers: Servers, site: HostSite, watch: PageWatch
) -> None:
    """The widget's server (A) stops and starts again on its port while the page stays open.
    Meanwhile the visitor types a message, and the agent, connected to a second server (B) that
    shares Redis and PostgreSQL, sends one. Each arrives exactly once, on both sides."""
    server_a, server_b = servers.start(), servers.start()
    service = Service(server_a, register(server_a.base, site), site)
    agent = AgentDriver(server_b.base, service.org.token, service.org.space["id"])
    agent.start()
    try:
        page.goto(site.url(site.add_page("/shop.html", service.widget)))
        widget = Widget(page).open().connected()
        widget.send("Before the restart")
        widget.expect_message("Before the restart", "visitor", state="sent")
        thread_id = agent.wait_for("message", content="Before the restart")["thread_id"]
        agent.claim(thread_id)
        agent.say(thread_id, "Hi there")
        widget.expect_message("Hi there", "agent")

        server_a.stop()
        expect(widget.status).not_to_have_attribute("data-status", "connected")
        widget.send("Typed while the server was down")
        typed = widget.message("Typed while the server was down", "visitor")
        expect(typed).to_have_count(1)
        expect(typed).not_to_have_attribute("data-state", "sent")
        agent.say(thread_id, "Sent while you were away")  # through B, while A is down

        servers.restart(server_a)
        widget.connected(timeout_ms=RECONNECT_TIMEOUT_MS)
        widget.expect_message("Typed while the server was down", "visitor", state="sent")
        widget.expect_message("Sent while you were away", "agent")
        agent.wait_for("message", thread_id=thread_id, content="Typed while the server was down")

        # A barrier: one order per thread, so anything doubled would arrive before these.
        widget.send("After the restart")
        agent.wait_for("message", thread_id=thread_id, content="After the restart")
        agent.say(thread_id, "Welcome back")
        widget.expect_message("Welcome back", "agent")
        for text in ("Before the restart", "Typed while the server was down", "After the restart"):
            widget.expect_message(text, "visitor", state="sent")
            assert agent.count("message", thread_id=thread_id, content=text) == 1, text
        for text in ("Hi there", "Sent while you were away", "Welcome back"):
            widget.expect_message(text, "agent")
        assert watch.page_errors == []
    finally:
        agent.stop()
