"""The widget in hostile or strict surroundings: markup in messages and names, a host origin the
space does not allow, and a strict Content-Security-Policy."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, WebSocket, expect

from tests.browser.agent import AgentDriver
from tests.browser.conftest import (
    PageWatch,
    Servers,
    Service,
    csp_violations,
    record_csp_violations,
    register,
)
from tests.browser.host import HostSite
from tests.browser.widget import Widget

XSS = "<img src=x onerror=alert(1)>"


def _no_injected_markup(page: Page) -> None:
    """No element the payload would have made, anywhere (CSS locators pierce the shadow root)."""
    expect(page.locator("img[src=x]")).to_have_count(0)
    expect(page.locator("[onerror]")).to_have_count(0)


def test_markup_in_messages_and_names_stays_inert_text(
    page: Page, servers: Servers, site: HostSite, watch: PageWatch
) -> None:
    """The payload as the visitor's message and name, and as the agent's message and name."""
    server = servers.start()
    service = Service(server, register(server.base, site, agent_name=XSS), site)
    agent = AgentDriver(server.base, service.org.token, service.org.space["id"])
    agent.start()
    try:
        page.goto(site.url(site.add_page("/shop.html", service.widget)))
        widget = Widget(page).open().connected()
        page.evaluate("(name) => window.ChatWidget.identify({name})", XSS)
        widget.send(XSS)
        widget.expect_message(XSS, "visitor", state="sent")

        heard = agent.wait_for("message", content=XSS)
        thread_id = heard["thread_id"]
        # identify went first on the same socket, so the name is already the visitor's.
        assert heard["sender_name"] == XSS
        agent.claim(thread_id)
        agent.say(thread_id, XSS)
        answer = widget.expect_message(XSS, "agent")
        expect(answer.locator("[data-part=content]")).to_have_text(XSS)
        _no_injected_markup(page)

        # History takes another rendering path: the same must hold after a reload.
        page.reload()
        widget.open().connected()
        widget.expect_message(XSS, "visitor", state="sent")
        widget.expect_message(XSS, "agent")
        _no_injected_markup(page)
        assert watch.dialogs == []
        assert watch.page_errors == []
    finally:
        agent.stop()


def test_a_host_origin_not_allowed_gets_no_chat_and_the_host_keeps_working(
    page: Page, service: Service, watch: PageWatch
) -> None:
    """The same page from http://127.0.0.1:<site port> (the space allows only localhost:<port>)."""
    path = service.site.add_page("/shop.html", service.widget)
    received: list[Any] = []
    refusals: list[str] = []

    def record(socket: WebSocket) -> None:
        # Listened for as the socket appears: a refusal that comes before the test would wait
        # for it is kept (a loaded CI run lost one that way and waited 15 s for nothing).
        socket.on("framereceived", lambda payload: received.append(payload))
        socket.on("socketerror", lambda error: refusals.append(str(error)))

    page.on("websocket", record)
    # One line in the host page's console for the site's developer: the page's origin and the
    # setting to change (the widget learns the reason from its config endpoint's 403).
    with page.expect_console_message(
        lambda m: m.type == "warning" and "allowed" in m.text
    ) as warned:
        with page.expect_websocket(lambda socket: "/ws/widget" in socket.url) as opened:
            page.goto(service.site.url(path, host="127.0.0.1"))
        refusal = refusals[0] if refusals else opened.value.wait_for_event("socketerror")
    assert "403" in str(refusal), refusal
    origin = service.site.url("/", host="127.0.0.1").rstrip("/")
    assert origin in warned.value.text and "Allowed domains" in warned.value.text

    # The host may still call the JS API; nothing breaks, and no conversation is shown, whether
    # the widget hides itself or says it is offline.
    page.evaluate("() => window.ChatWidget?.open()")
    widget = Widget(page)
    expect(widget.part("status").and_(page.locator("[data-status=connected]"))).to_have_count(0)
    expect(widget.messages()).to_have_count(0)
    assert received == []  # not even a welcome frame
    # The host page is untouched by the refusal: its own script and controls still work.
    page.locator("#host-button").click()
    expect(page.locator("#host-count")).to_have_text("1")
    page.locator("#host-input").fill("still typing")
    expect(page.locator("#host-input")).to_have_value("still typing")
    assert watch.page_errors == []

    # The control: the same page from the allowed origin connects.
    page.goto(service.site.url(path, host="localhost"))
    Widget(page).open().connected()


def test_widget_works_under_a_strict_content_security_policy(
    page: Page, service: Service, agent: AgentDriver, watch: PageWatch
) -> None:
    ws_origin = service.base.replace("http://", "ws://")
    policy = (
        f"default-src 'self'; script-src {service.base}; "
        f"connect-src {service.base} {ws_origin}; img-src 'self' data:"
    )
    path = service.site.add_page(
        "/strict.html",
        service.widget,
        host_script=False,  # script-src has only the service: the host runs no script of its own
        headers={"Content-Security-Policy": policy},
    )
    record_csp_violations(page)
    page.goto(service.site.url(path))
    widget = Widget(page).open().connected()
    widget.send("Sent under a strict CSP")
    widget.expect_message("Sent under a strict CSP", "visitor", state="sent")
    heard = agent.wait_for("message", content="Sent under a strict CSP")
    agent.say(heard["thread_id"], "Received under a strict CSP")
    widget.expect_message("Received under a strict CSP", "agent")

    assert csp_violations(page) == []
    assert watch.console_texts() == []
    assert watch.page_errors == []

    # The recorder would have seen a violation: an image from another origin is one.
    page.evaluate("() => { new Image().src = 'http://127.0.0.1:9/blocked.png'; }")
    page.wait_for_function("() => window.__cspViolations.length === 1")
    assert [v["directive"] for v in csp_violations(page)] == ["img-src"]
