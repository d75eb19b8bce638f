"""Lazy chunks (widget/README.md "Lazy chunks"): the window and the pre-chat / offline form are
separate files, fetched only when a visitor needs them, under a host page's nonce-only CSP,
and a chunk that fails to load offers a retry without breaking the widget."""

from __future__ import annotations

import re
from dataclasses import replace

from playwright.sync_api import Page, Request, Route, WebSocket, expect

from tests.browser.agent import AgentDriver
from tests.browser.conftest import PageWatch, Service, csp_violations, record_csp_violations
from tests.browser.widget import Widget

NONCE = "r4nd0m-n0nce-f0r-this-page"
CHUNK = re.compile(r"/widget/chunks/(?P<name>[a-z-]+)\.[0-9a-f]{12}\.js$")


def _chunks_requested(page: Page) -> list[str]:
    """The names of the chunks the page asks for, in order, as they are asked for."""
    asked: list[str] = []

    def record(request: Request) -> None:
        found = CHUNK.search(request.url)
        if found:
            asked.append(found["name"])

    page.on("request", record)
    return asked


def _nonce_page(service: Service) -> str:
    """A host page whose CSP allows scripts by nonce only: no host source, no 'strict-dynamic',
    so a chunk runs only if the widget hands it its own script's nonce."""
    ws_origin = service.base.replace("http://", "ws://")
    policy = (
        f"default-src 'self'; script-src 'nonce-{NONCE}'; "
        f"connect-src {service.base} {ws_origin}; img-src 'self' data:"
    )
    return service.site.add_page(
        "/nonce.html",
        replace(service.widget, nonce=NONCE),
        host_script=False,
        headers={"Content-Security-Policy": policy},
    )


def test_the_form_chunk_loads_on_demand_and_works_under_a_nonce_csp(
    page: Page, service: Service, watch: PageWatch
) -> None:
    """Nobody online: opening loads the window; once the visitor has written, the offline form
    comes, its own chunk."""
    record_csp_violations(page)
    asked = _chunks_requested(page)
    with page.expect_websocket(lambda socket: "/ws/widget" in socket.url) as opened:
        page.goto(service.site.url(_nonce_page(service)))
    socket: WebSocket = opened.value
    socket.wait_for_event("framereceived", lambda frame: '"welcome"' in str(frame))
    widget = Widget(page).loaded()
    # Connected and shown, and still nothing but widget.js: a visitor who never opens the chat
    # downloads no chunk.
    assert asked == []
    expect(widget.part("window")).to_have_count(0)

    widget.open().connected()
    # Nobody online: the box first; the form (its own chunk) once the visitor has written.
    expect(widget.part("away")).to_be_visible()
    assert asked == ["app"]
    widget.send("Sent from the lazily loaded window")
    widget.expect_message("Sent from the lazily loaded window", "visitor", state="sent")
    prechat = widget.part("prechat")
    expect(prechat).to_be_visible()
    # The chunk's own CSS reached the shadow root (adopted, as the main sheet is).
    expect(prechat).to_have_css("display", "grid")
    assert asked == ["app", "prechat"]
    prechat.locator("input[name=name]").fill("Grace Hopper")
    prechat.locator("input[name=email]").fill("grace@example.com")
    prechat.locator("button[type=submit]").click()
    expect(prechat).to_be_hidden()
    expect(widget.part("away")).to_have_text("Thanks! We will get back to you.")
    widget.send("And a second message after the form")
    widget.expect_message("And a second message after the form", "visitor", state="sent")

    # The chunk scripts carry the nonce and an SRI hash; each was asked for once.
    scripts = page.evaluate(
        """() => [...document.querySelectorAll("script[src*='/widget/chunks/']")]
            .map((s) => [s.nonce, s.integrity.slice(0, 7), s.crossOrigin])"""
    )
    assert scripts == [[NONCE, "sha256-", "anonymous"]] * 2, scripts
    assert asked == ["app", "prechat"]
    assert csp_violations(page) == []
    assert watch.page_errors == []
    assert watch.console_texts() == []


def test_focusing_the_bubble_loads_the_window_and_focus_stays(
    page: Page, service: Service, agent: AgentDriver, watch: PageWatch
) -> None:
    asked = _chunks_requested(page)
    page.goto(service.site.url(service.site.add_page("/intent.html", service.widget)))
    widget = Widget(page).loaded()
    assert asked == []
    # Keyboard intent: the bubble focused, the window chunk loads, and the window's own bubble
    # replaces the launcher's without losing focus.
    widget.bubble.focus()
    expect(widget.window).to_be_hidden()
    expect(widget.part("send")).to_have_attribute("aria-label", "Send message")
    expect(widget.bubble).to_be_focused()
    assert asked == ["app"]
    page.keyboard.press("Enter")
    expect(widget.window).to_be_visible()
    expect(widget.input).to_be_focused()
    widget.connected()
    assert asked == ["app"]  # an agent is online: no form, so never its chunk
    assert watch.page_errors == []


def test_a_chunk_that_fails_to_load_offers_a_retry_and_the_widget_keeps_working(
    page: Page, service: Service, watch: PageWatch
) -> None:
    failing = {"app": True}

    def maybe_fail(route: Route) -> None:
        if failing["app"]:
            route.abort("connectionrefused")
        else:
            route.continue_()

    page.route(re.compile(r"/widget/chunks/"), maybe_fail)
    page.goto(service.site.url(service.site.add_page("/flaky.html", service.widget)))
    widget = Widget(page).loaded()
    widget.bubble.click()
    failed = widget.part("lazy-failed")
    expect(failed).to_be_visible()
    expect(failed).to_have_attribute("role", "alert")
    # The bubble still toggles the window, and the JS API still answers.
    widget.bubble.click()
    expect(widget.window).to_have_count(0)
    assert page.evaluate("() => typeof window.ChatWidget.open") == "function"
    widget.bubble.click()
    expect(failed).to_be_visible()

    failing["app"] = False
    widget.part("lazy-retry").click()
    expect(widget.window).to_be_visible()
    expect(widget.input).to_be_visible()
    expect(failed).to_have_count(0)
    assert watch.page_errors == []
