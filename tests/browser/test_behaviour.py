"""The widget's behaviour around the conversation, in Chromium against a real service and agent:
two tabs of one visitor, a single-page app's navigation, the JS API and the visitor's attention
(unread badge, tab title), the keyboard and accessibility, the pre-chat form while no agent is
online, and a new conversation after the agent closed the thread."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.agent import AgentDriver
from tests.browser.conftest import PageWatch, Service
from tests.browser.widget import Widget

# The page reporter sends at most one `page` frame a second (trailing), so a burst of
# navigations within a second may give one frame at once and one at the end, never more.
MAX_UPDATES_PER_BURST = 2
FLASH_TEXT = "New message"


def _entry_id(cursor: str) -> tuple[int, int]:
    ms, _, seq = cursor.partition("-")
    return int(ms), int(seq)


def _newer_than(cursor: str | None) -> Callable[[dict[str, Any]], bool]:
    """A `where` for AgentDriver.wait_for: frames logged after the entry `cursor`."""
    if cursor is None:
        return lambda frame: True
    floor = _entry_id(cursor)
    return lambda frame: _entry_id(frame["cursor"]) > floor


def _url_updates(agent: AgentDriver, after: str | None) -> list[str]:
    """The current_url of every visitor.updated frame logged after `after`, in order."""
    newer = _newer_than(after)
    updates = agent.matching("visitor.updated", where=lambda f: "current_url" in f["visitor"])
    return [f["visitor"]["current_url"] for f in updates if newer(f)]


def _open_page(service: Service, context: BrowserContext, watch: PageWatch, path: str) -> Page:
    """Another tab of the same browser context (same localStorage) on the host page `path`."""
    tab = context.new_page()
    watch.attach(tab)
    tab.goto(service.site.url(path))
    return tab


def test_two_tabs_of_one_visitor_see_each_message_once(
    page: Page, context: BrowserContext, service: Service, agent: AgentDriver, watch: PageWatch
) -> None:
    path = service.site.add_page("/shop.html", service.widget)
    page.goto(service.site.url(path))
    tab_a = Widget(page).open().connected()
    # The second tab must start with the first one's session (shared localStorage).
    page.wait_for_function(
        "key => localStorage.getItem(key) !== null",
        arg=f"chat-widget:session:{service.org.space['widget_key']}",
    )
    tab_b = Widget(_open_page(service, context, watch, path)).open().connected()

    tab_a.send("Written in tab A")
    tab_a.expect_message("Written in tab A", "visitor", state="sent")
    heard = agent.wait_for("message", content="Written in tab A")
    thread_id = heard["thread_id"]
    echoed = tab_b.expect_message("Written in tab A", "visitor", state="sent")
    expect(echoed).to_have_attribute("data-id", heard["id"])

    tab_b.send("Written in tab B")
    agent.wait_for("message", thread_id=thread_id, content="Written in tab B")
    tab_a.expect_message("Written in tab B", "visitor", state="sent")

    agent.claim(thread_id)
    reply = agent.say(thread_id, "One reply for both tabs")
    for tab in (tab_a, tab_b):
        found = tab.expect_message("One reply for both tabs", "agent")
        expect(found).to_have_attribute("data-id", reply["id"])

    # A barrier: one order per thread, so anything doubled would have arrived before this.
    agent.say(thread_id, "Barrier")
    for tab in (tab_a, tab_b):
        tab.expect_message("Barrier", "agent")
        tab.expect_message("Written in tab A", "visitor", state="sent")
        tab.expect_message("Written in tab B", "visitor", state="sent")
        tab.expect_message("One reply for both tabs", "agent")
        expect(tab.messages()).to_have_count(4)
    assert agent.count("thread.new") == 1
    for text in ("Written in tab A", "Written in tab B"):
        assert agent.count("message", thread_id=thread_id, content=text) == 1, text
    assert watch.page_errors == []


def test_spa_navigation_keeps_the_host_history_working_and_reports_the_url(
    page: Page, service: Service, agent: AgentDriver, watch: PageWatch
) -> None:
    start = service.site.url(service.site.add_page("/spa", service.widget))
    page.goto(start)
    # Pointing at the bubble loads the window (a lazy chunk), whose header shows the status.
    widget = Widget(page).loaded()
    widget.bubble.hover()
    widget.connected()
    page.evaluate(
        """() => {
        window.__pops = [];
        addEventListener("popstate", (e) => window.__pops.push([location.pathname, e.state]));
    }"""
    )
    first = agent.wait_for("visitor.updated", where=lambda f: f["visitor"].get("current_url"))
    assert first["visitor"]["current_url"] == start
    length = page.evaluate("() => history.length")

    # pushState: the host's own call behaves as without the widget, and the agent hears of it.
    returned = page.evaluate(
        """() => [history.pushState({step: 1}, "", "/spa/products"), history.state,
                  location.pathname, history.length]"""
    )
    assert returned == [None, {"step": 1}, "/spa/products", length + 1]
    pushed = agent.wait_for(
        "visitor.updated",
        where=lambda f: f["visitor"].get("current_url") == service.site.url("/spa/products"),
    )

    replaced = page.evaluate(
        """() => [history.replaceState({step: 2}, "", "/spa/products?sort=price"),
                  history.state, location.pathname + location.search, history.length]"""
    )
    assert replaced == [None, {"step": 2}, "/spa/products?sort=price", length + 1]
    swapped = agent.wait_for(
        "visitor.updated",
        where=lambda f: (
            f["visitor"].get("current_url") == service.site.url("/spa/products?sort=price")
        ),
    )
    assert _entry_id(swapped["cursor"]) > _entry_id(pushed["cursor"])

    # An error of the original still reaches the host's code.
    error = page.evaluate(
        """() => { try { history.pushState(null, "", "http://example.com/elsewhere"); }
                   catch (e) { return e.name; } return null; }"""
    )
    assert error == "SecurityError"
    assert page.evaluate("() => location.pathname + location.search") == "/spa/products?sort=price"

    # Back (popstate): the host's listener runs, and the agent hears of the page once more.
    page.go_back()
    page.wait_for_function("() => window.__pops.length === 1")
    assert page.evaluate("() => window.__pops") == [["/spa", None]]
    assert page.evaluate("() => history.length") == length + 1
    back = agent.wait_for(
        "visitor.updated",
        where=lambda f: (
            _newer_than(swapped["cursor"])(f) and f["visitor"].get("current_url") == start
        ),
    )
    page.go_forward()
    page.wait_for_function("() => window.__pops.length === 2")
    assert page.evaluate("() => window.__pops[1]") == ["/spa/products", {"step": 2}]
    forward = agent.wait_for(
        "visitor.updated",
        where=lambda f: (
            _newer_than(back["cursor"])(f)
            and f["visitor"].get("current_url") == service.site.url("/spa/products?sort=price")
        ),
    )

    # A burst of five pushState calls within a second: at most two updates, the last one final.
    spent_ms = page.evaluate(
        """async () => {
        const began = performance.now();
        for (let i = 1; i <= 5; i++) {
            history.pushState({burst: i}, "", "/spa/burst-" + i);
            await new Promise((done) => setTimeout(done, 40));
        }
        return performance.now() - began;
    }"""
    )
    assert spent_ms < 1000, "the burst itself took a second: the test proves nothing"
    assert page.evaluate("() => history.length") == length + 6
    final = service.site.url("/spa/burst-5")
    agent.wait_for(
        "visitor.updated",
        where=lambda f: (
            _newer_than(forward["cursor"])(f) and f["visitor"].get("current_url") == final
        ),
    )
    # A barrier: the widget's frames are logged in the order sent, so any further page frame of
    # the burst sent before this message is in by the time the agent hears it.
    widget = Widget(page).open()
    widget.send("Done browsing")
    agent.wait_for("message", content="Done browsing")
    burst = _url_updates(agent, forward["cursor"])
    assert 1 <= len(burst) <= MAX_UPDATES_PER_BURST, burst
    assert burst[-1] == final, burst
    assert all(url.startswith(service.site.url("/spa/burst-")) for url in burst), burst
    assert page.evaluate("() => location.pathname") == "/spa/burst-5"
    assert watch.page_errors == []


RECORD_EVENTS = """() => {
    window.__events = [];
    const record = (kind) => (value) => window.__events.push({kind, value});
    window.__unsubscribe = ChatWidget.on("message", record("message"));
    ChatWidget.on("message", record("message-kept"));
    ChatWidget.on("unread", record("unread"));
    ChatWidget.on("open", record("open"));
    ChatWidget.on("close", record("close"));
    window.__titles = [];
    new MutationObserver(() => window.__titles.push(document.title)).observe(
        document.querySelector("title"), {childList: true, characterData: true, subtree: true});
}"""


def _events(page: Page, kind: str) -> list[Any]:
    found: list[Any] = page.evaluate(
        "kind => window.__events.filter((e) => e.kind === kind).map((e) => e.value)", kind
    )
    return found


def test_js_api_events_unread_badge_and_title(
    page: Page, service: Service, agent: AgentDriver, watch: PageWatch
) -> None:
    # Natural time, until the test moves it on to see that nothing flashes any more.
    page.clock.install()
    page.goto(service.site.url(service.site.add_page("/api.html", service.widget, title="Shop")))
    widget = Widget(page).loaded()
    page.evaluate(RECORD_EVENTS)
    original = page.title()
    assert original == "Shop"
    unread = widget.part("unread")

    widget.open().connected()
    widget.send("Hello from the page")
    widget.expect_message("Hello from the page", "visitor", state="sent")
    thread_id = agent.wait_for("message", content="Hello from the page")["thread_id"]
    page.wait_for_function(
        "() => window.__events.some((e) => e.kind === 'message' && e.value.content === "
        "'Hello from the page')"
    )
    sent = [m for m in _events(page, "message") if m["content"] == "Hello from the page"]
    assert len(sent) == 1 and sent[0]["sender_type"] == "visitor", sent
    assert sent[0]["thread_id"] == thread_id

    page.evaluate("() => ChatWidget.close()")
    expect(widget.window).to_be_hidden()
    expect(unread).to_be_hidden()

    agent.claim(thread_id)
    reply = agent.say(thread_id, "A reply while closed")
    expect(unread).to_be_visible()
    expect(unread).to_have_text("1")
    page.wait_for_function("title => document.title !== title", arg=original)
    assert FLASH_TEXT in page.evaluate("() => window.__titles")
    page.wait_for_function("() => window.__events.some((e) => e.kind === 'unread')")
    assert _events(page, "unread") == [1]
    heard = [m for m in _events(page, "message") if m["content"] == "A reply while closed"]
    assert len(heard) == 1 and heard[0]["sender_type"] == "agent", heard
    assert heard[0]["id"] == reply["id"]

    # Opening (toggle) clears the badge and gives the page its title back, for good.
    page.evaluate("() => ChatWidget.toggle()")
    expect(widget.window).to_be_visible()
    expect(unread).to_be_hidden()
    expect(page).to_have_title(original)
    page.wait_for_function("() => window.__events.filter((e) => e.kind === 'unread').length > 1")
    assert _events(page, "unread") == [1, 0]
    widget.expect_message("A reply while closed", "agent")
    changes = len(page.evaluate("() => window.__titles"))
    page.clock.fast_forward(5_000)  # several flash periods
    assert page.title() == original
    assert len(page.evaluate("() => window.__titles")) == changes

    # A reply while open: no badge, no flash.
    agent.say(thread_id, "A reply while open")
    widget.expect_message("A reply while open", "agent")
    expect(unread).to_be_hidden()
    assert page.title() == original

    # The function on() returned stops that listener only.
    page.evaluate("() => window.__unsubscribe()")
    agent.say(thread_id, "After unsubscribing")
    widget.expect_message("After unsubscribing", "agent")
    page.wait_for_function(
        "() => window.__events.some((e) => e.kind === 'message-kept' && e.value.content === "
        "'After unsubscribing')"
    )
    assert [m for m in _events(page, "message") if m["content"] == "After unsubscribing"] == []

    # close() and toggle() both ways; each emits once.
    page.evaluate("() => ChatWidget.close()")
    expect(widget.window).to_be_hidden()
    page.evaluate("() => ChatWidget.close()")  # already closed: nothing happens
    page.evaluate("() => ChatWidget.toggle()")
    expect(widget.window).to_be_visible()
    page.evaluate("() => ChatWidget.toggle()")
    expect(widget.window).to_be_hidden()
    assert len(_events(page, "open")) == 3
    assert len(_events(page, "close")) == 3
    assert _events(page, "unread") == [1, 0]
    assert watch.page_errors == []


def test_keyboard_and_accessibility(
    page: Page, service: Service, agent: AgentDriver, watch: PageWatch
) -> None:
    page.goto(service.site.url(service.site.add_page("/keys.html", service.widget)))
    widget = Widget(page).loaded()
    send = widget.part("send")
    # Focus on the bubble loads the window (a lazy chunk) and stays there when it arrives.
    widget.bubble.focus()
    expect(widget.window).to_have_attribute("role", "dialog")
    expect(widget.bubble).to_be_focused()
    expect(widget.bubble).to_have_attribute("aria-label", "Open chat")
    expect(widget.bubble).to_have_attribute("aria-expanded", "false")
    expect(send).to_have_attribute("aria-label", "Send message")

    widget.bubble.click()
    expect(widget.window).to_be_visible()
    expect(widget.input).to_be_focused()
    expect(widget.bubble).to_have_attribute("aria-expanded", "true")
    expect(widget.bubble).to_have_attribute("aria-label", "Close chat")
    expect(widget.window).to_have_accessible_name("Chat with Shop")
    expect(send).to_have_accessible_name("Send message")
    widget.connected()
    expect(widget.part("presence")).to_have_attribute("data-online", "true")
    expect(widget.part("prechat")).to_have_count(0)  # an agent is online: no form in the way

    # Shift+Enter breaks the line and sends nothing; Enter sends both lines.
    page.keyboard.type("First line")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("second line")
    expect(widget.input).to_have_value("First line\nsecond line")
    expect(widget.messages("visitor")).to_have_count(0)
    page.keyboard.press("Enter")
    expect(widget.input).to_have_value("")
    expect(widget.input).to_be_focused()
    heard = agent.wait_for("message", content="First line\nsecond line")
    sent = widget.messages("visitor")
    expect(sent).to_have_count(1)
    expect(sent).to_have_attribute("data-id", heard["id"])
    content = sent.locator("[data-part=content]")
    assert content.evaluate("e => e.textContent") == "First line\nsecond line"
    # Shown as two lines, not run together.
    assert content.evaluate("e => e.innerText") == "First line\nsecond line"

    # Enter on an empty input sends nothing.
    page.keyboard.press("Enter")
    widget.send("Barrier")
    agent.wait_for("message", content="Barrier")
    expect(widget.messages("visitor")).to_have_count(2)

    # Escape closes the window and gives focus back to the bubble.
    page.keyboard.press("Escape")
    expect(widget.window).to_be_hidden()
    expect(widget.bubble).to_be_focused()
    expect(widget.bubble).to_have_attribute("aria-expanded", "false")
    # And the bubble works from the keyboard.
    page.keyboard.press("Enter")
    expect(widget.window).to_be_visible()
    expect(widget.input).to_be_focused()
    assert watch.page_errors == []


def test_prechat_form_while_offline_then_an_agent_comes_online(
    page: Page, service: Service, watch: PageWatch
) -> None:
    page.goto(service.site.url(service.site.add_page("/offline.html", service.widget)))
    widget = Widget(page).open().connected()
    presence = widget.part("presence")
    expect(presence).to_have_attribute("data-online", "false")
    expect(presence).to_have_text("Offline")
    prechat = widget.part("prechat")
    # The visitor writes first; then the form alone asks where to reply (issue 17).
    expect(prechat).to_have_count(0)
    widget.send("Anyone there?")
    expect(prechat).to_be_visible()
    expect(widget.input).to_have_count(0)

    prechat.locator("input[name=name]").fill("Grace Hopper")
    prechat.locator("input[name=email]").fill("grace@example.com")
    prechat.locator("button[type=submit]").click()
    expect(prechat).to_be_hidden()

    agent = AgentDriver(service.base, service.org.token, service.org.space["id"])
    agent.start()
    try:
        expect(presence).to_have_attribute("data-online", "true")
        expect(presence).to_have_text("Online")
        # The details left offline opened an email conversation (a lead) before the agent came:
        # it is in the snapshot the agent's subscribe answers with, not a later thread.new.
        subscribed = agent.wait_for("subscribed")
        leads = [t for t in subscribed.get("threads", []) if t.get("channel") == "email"]
        assert len(leads) == 1, subscribed
        assert leads[0]["visitor"]["name"] == "Grace Hopper", leads
        assert leads[0]["visitor"]["email"] == "grace@example.com", leads
        widget.send("I left my details")
        heard = agent.wait_for("message", thread_id=leads[0]["id"], content="I left my details")
        assert heard["sender_name"] == "Grace Hopper"
        widget.expect_message("I left my details", "visitor", state="sent")
    finally:
        agent.stop()
    assert watch.page_errors == []


def test_a_closed_thread_offers_a_new_conversation(
    page: Page, service: Service, agent: AgentDriver, watch: PageWatch
) -> None:
    page.goto(service.site.url(service.site.add_page("/closed.html", service.widget)))
    widget = Widget(page).open().connected()
    widget.send("First conversation")
    first = agent.wait_for("thread.new")["thread"]["id"]
    agent.wait_for("message", thread_id=first, content="First conversation")
    agent.claim(first)
    agent.say(first, "Glad to help, bye")
    widget.expect_message("Glad to help, bye", "agent")

    agent.send({"type": "close", "thread_id": first})
    agent.wait_for("ack", ref="close", thread_id=first)
    restart = widget.part("new-conversation")
    expect(restart).to_be_visible()
    expect(widget.input).to_have_count(1)  # writing here would reopen this conversation

    restart.click()
    expect(restart).to_have_count(0)
    expect(widget.input).to_be_focused()
    widget.send("Second conversation")
    second = agent.wait_for("thread.new", where=lambda f: f["thread"]["id"] != first, timeout=15)[
        "thread"
    ]["id"]
    assert second != first
    agent.wait_for("message", thread_id=second, content="Second conversation")
    widget.expect_message("Second conversation", "visitor", state="sent")
    agent.claim(second)
    agent.say(second, "Welcome back")
    widget.expect_message("Welcome back", "agent")
    assert agent.count("thread.new") == 2
    assert agent.count("message", thread_id=first, content="Second conversation") == 0
    assert watch.page_errors == []


def test_a_waiting_visitor_sees_their_place_in_the_queue(
    page: Page, service: Service, agent: AgentDriver, watch: PageWatch
) -> None:
    """An agent is online and claims nothing: the widget says where the visitor is in the
    queue, not that everyone is busy, and the place goes once an agent claims."""
    page.goto(service.site.url(service.site.add_page("/queue.html", service.widget)))
    widget = Widget(page).open().connected()
    widget.send("Is anyone there?")
    thread = agent.wait_for("thread.new")["thread"]["id"]
    queue = widget.part("queue")
    expect(queue).to_have_text("You are next in the queue. An agent will be with you shortly.")
    expect(widget.part("prechat")).to_have_count(0)
    agent.claim(thread)
    expect(queue).to_have_count(0)
    assert watch.page_errors == []
