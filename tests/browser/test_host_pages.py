"""The widget on hostile host pages, at desktop and phone sizes (issue 17 item 1): a transformed
<body> or <html>, a full-screen cookie wall at the maximum z-index, a strict CSP, aggressive CSS.
On each the bubble is where it belongs and clickable, the window opens inside the viewport, and
the input works (typed, sent, heard by the agent, answered). Screenshots: tests/artifacts/host-*.

The stacking the widget claims (README "Host pages"): the top layer (a manual popover) where the
Popover API exists, so it stays above a z-index 2147483647 overlay and outside any transformed
ancestor; without it, z-index 2147483647 as a child of <html> after <body>. Both are tested.
"""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from tests.browser.agent import AgentDriver
from tests.browser.conftest import (
    DESKTOP,
    EXPECT_TIMEOUT_MS,
    MOBILE,
    PageWatch,
    Service,
    csp_violations,
    record_csp_violations,
)
from tests.browser.host import AGGRESSIVE_CSS
from tests.browser.widget import Widget

# A consent wall as some sites ship it: over everything, at the highest z-index there is.
COOKIE_WALL = """<div id="cookie-wall" style="position:fixed;inset:0;z-index:2147483647;
background:rgba(17,24,39,.6);display:flex;align-items:center;justify-content:center">
<button id="cookie-accept" type="button" style="padding:16px 32px;font-size:18px">
Accept all</button>
</div>"""
TALL = "body { min-height: 300vh; }\n"
# Without the Popover API (Safari before 17, Firefox before 125): the fallback stacking.
NO_POPOVER = "delete HTMLElement.prototype.showPopover;"
MIN_TARGET_PX = 44
MIN_INPUT_FONT_PX = 16


@dataclass(frozen=True)
class Hostile:
    name: str
    css: str = ""
    extra: str = ""
    csp: bool = False
    scroll: bool = False  # scrolled to the bottom before the widget is used
    init: str = ""
    phone_css: str = ""  # added at phone size only
    headers: dict[str, str] = field(default_factory=dict)


HOSTILE = [
    # Page-transition libraries: position:fixed becomes relative to the (tall) body.
    Hostile("transformed-body", css="body { transform: translateZ(0); }\n" + TALL, scroll=True),
    Hostile(
        "filtered-html",
        css="html { filter: saturate(1.1); perspective: 800px; }\n"
        "body { contain: paint; will-change: transform; }\n" + TALL,
        scroll=True,
    ),
    Hostile("cookie-wall", extra=COOKIE_WALL),
    # The fallback, on each: a wall in a transformed body would be dragged off with the body.
    Hostile(
        "no-popover-transformed",
        css="body { transform: translateZ(0); }\n" + TALL,
        scroll=True,
        init=NO_POPOVER,
    ),
    Hostile("no-popover-cookie-wall", extra=COOKIE_WALL, init=NO_POPOVER),
    Hostile("strict-csp", csp=True),
    Hostile(
        "aggressive-css",
        css=AGGRESSIVE_CSS
        + "button { width: 10px !important; height: 10px !important; }\n"
        + "html { font-size: 8px !important; }\n"
        + "#chat-widget, html > div { display: none !important; transform: scale(.2); }\n",
        # Its 900 px wide controls would make a phone zoom the whole page out to fit, and the
        # widget with it (README "Host pages", limits): on the phone the page clips them.
        phone_css="html, body { overflow-x: hidden !important; max-width: 100vw !important; }\n",
    ),
]

# Where a point of the page lands: the element a click there would reach (a shadow tree's
# elements are retargeted to their host, #chat-widget).
HIT = "([x, y]) => { const e = document.elementFromPoint(x, y); return e && (e.id || e.tagName); }"


def _settle(page: Page) -> None:
    """The widget's finite animations (the window's opening) have ended."""
    page.evaluate(
        "() => Promise.all(document.querySelector('#chat-widget').shadowRoot"
        ".getAnimations().map((a) => a.finished))"
    )


def _center(box: dict[str, float]) -> list[float]:
    return [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2]


def _inside(box: dict[str, float] | None, viewport: ViewportSize) -> dict[str, float]:
    assert box is not None
    assert box["x"] >= -0.5 and box["y"] >= -0.5, box
    assert box["x"] + box["width"] <= viewport["width"] + 0.5, box
    assert box["y"] + box["height"] <= viewport["height"] + 0.5, box
    return box


def _page_for(context: BrowserContext, service: Service, hostile: Hostile, size: str) -> Page:
    headers = {}
    if hostile.csp:
        ws = service.base.replace("http://", "ws://")
        headers["Content-Security-Policy"] = (
            f"default-src 'self'; script-src {service.base}; connect-src {service.base} {ws}; "
            "img-src 'self' data:; style-src 'self'"
        )
    path = service.site.add_page(
        f"/{hostile.name}-{size}.html",
        service.widget,
        css=hostile.css + (hostile.phone_css if size == "phone" else ""),
        extra=hostile.extra,
        host_script=not hostile.csp,
        headers=headers,
        title=f"Host page: {hostile.name}",
    )
    page = context.new_page()
    if hostile.init:
        page.add_init_script(hostile.init)
    if hostile.csp:
        record_csp_violations(page)
    page.goto(service.site.url(path))
    return page


def _use_the_widget(
    page: Page, service: Service, agent: AgentDriver, hostile: Hostile, size: str, artifacts: Path
) -> None:
    viewport = page.viewport_size
    assert viewport is not None
    phone = viewport["width"] < 480
    watch = PageWatch()
    watch.attach(page)
    widget = Widget(page).loaded()
    if hostile.scroll:
        page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")
        page.wait_for_function("() => window.scrollY > 0")

    # The bubble: pinned to the viewport's corner, and what a click there reaches.
    bubble = _inside(widget.bubble.bounding_box(), viewport)
    assert abs(bubble["x"] + bubble["width"] - (viewport["width"] - 20)) <= 1, bubble
    assert abs(bubble["y"] + bubble["height"] - (viewport["height"] - 20)) <= 1, bubble
    assert page.evaluate(HIT, _center(bubble)) == "chat-widget", hostile.name
    assert min(bubble["width"], bubble["height"]) >= MIN_TARGET_PX, bubble
    if hostile.extra:
        # The widget takes its corner, not the page: the wall's own button is still reachable.
        accept = page.locator("#cookie-accept").bounding_box()
        assert accept is not None
        assert page.evaluate(HIT, _center(accept)) == "cookie-accept"
    if phone:
        widget.bubble.tap()  # Playwright's actions fail if another element would get the event
    else:
        widget.bubble.click()
    expect(widget.window).to_be_visible()
    widget.connected()
    _settle(page)  # the opening animation slides the window up 12 px

    window = _inside(widget.window.bounding_box(), viewport)
    if phone:  # the whole screen
        assert abs(window["width"] - viewport["width"]) <= 1, window
        assert abs(window["height"] - viewport["height"]) <= 1, window
    else:  # a panel in the corner, above the bubble
        assert window["width"] < viewport["width"] / 2, window
        assert window["y"] + window["height"] <= bubble["y"], (window, bubble)
    for part in ("close", "send", "attach", "input"):
        box = _inside(widget.part(part).bounding_box(), viewport)
        assert min(box["width"], box["height"]) >= MIN_TARGET_PX, (part, box)
        if part != "input":
            assert page.evaluate(HIT, _center(box)) == "chat-widget", (hostile.name, part)
    font = widget.input.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert font >= MIN_INPUT_FONT_PX, font  # iOS zooms into a smaller one

    # The input works: typed (with the keyboard, as a visitor does), sent, heard, answered.
    text = f"Typed on {hostile.name} ({size})"
    if phone:
        widget.input.tap()
    else:
        widget.input.click()
    expect(widget.input).to_be_focused()
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    heard = agent.wait_for("message", content=text)
    widget.expect_message(text, "visitor", state="sent")
    agent.say(heard["thread_id"], f"Answered on {hostile.name}")
    widget.expect_message(f"Answered on {hostile.name}", "agent")
    _settle(page)
    path = artifacts / f"host-{hostile.name}-{size}.png"
    page.screenshot(path=path)
    assert path.stat().st_size > 0

    widget.part("close").click()
    expect(widget.window).to_be_hidden()
    if hostile.csp:
        assert csp_violations(page) == []
    assert watch.page_errors == []
    page.close()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_hostile_host_pages(
    browser: Browser, service: Service, agent: AgentDriver, artifacts: Path, size: str
) -> None:
    if size == "desktop":
        context = browser.new_context(viewport=DESKTOP)
    else:
        context = browser.new_context(
            viewport=MOBILE, is_mobile=True, has_touch=True, device_scale_factor=2
        )
    with closing(context):
        context.set_default_timeout(EXPECT_TIMEOUT_MS)
        for hostile in HOSTILE:
            page = _page_for(context, service, hostile, size)
            _use_the_widget(page, service, agent, hostile, size, artifacts)


# A stand-in for the phone's visual viewport, which an on-screen keyboard shrinks (Chromium's
# emulation has no keyboard): window.visualViewport with a settable height and offset.
FAKE_KEYBOARD = """
(() => {
  const vv = new EventTarget();
  let keyboard = null; // [height, offsetTop] while "open"; else the layout viewport
  Object.defineProperties(vv, {
    width: { get: () => innerWidth },
    height: { get: () => (keyboard ? keyboard[0] : innerHeight) },
    offsetTop: { get: () => (keyboard ? keyboard[1] : 0) },
    offsetLeft: { value: 0 }, scale: { value: 1 },
  });
  Object.defineProperty(window, "visualViewport", { value: vv, configurable: true });
  window.__keyboard = (height, top) => {
    keyboard = height === null ? null : [height, top];
    vv.dispatchEvent(new Event("resize"));
    vv.dispatchEvent(new Event("scroll"));
  };
})();
"""


def test_the_on_screen_keyboard_does_not_cover_the_input(
    browser: Browser, service: Service, agent: AgentDriver, artifacts: Path
) -> None:
    context = browser.new_context(
        viewport=MOBILE, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    with closing(context):
        context.set_default_timeout(EXPECT_TIMEOUT_MS)
        page = context.new_page()
        page.add_init_script(FAKE_KEYBOARD)
        page.goto(service.site.url(service.site.add_page("/keyboard.html", service.widget)))
        widget = Widget(page).loaded()
        widget.bubble.tap()
        widget.connected()
        _settle(page)
        widget.input.tap()
        # The keyboard takes the lower 340 px; then iOS scrolls the visual viewport 120 px down.
        for height, top in ((504, 0), (504, 120)):
            page.evaluate("([h, t]) => window.__keyboard(h, t)", [height, top])
            expect(widget.window).to_have_js_property("offsetHeight", height)
            box = widget.window.bounding_box()
            assert box is not None and abs(box["y"] - top) <= 0.5, box
            field = widget.input.bounding_box()
            send = widget.part("send").bounding_box()
            assert field is not None and send is not None
            assert field["y"] + field["height"] <= top + height, field
            assert send["y"] + send["height"] <= top + height, send
        page.keyboard.type("Typed above the keyboard")
        page.keyboard.press("Enter")
        agent.wait_for("message", content="Typed above the keyboard")
        page.screenshot(path=artifacts / "host-keyboard-phone.png")
        # The keyboard closes: the whole screen again.
        page.evaluate("() => window.__keyboard(null, 0)")
        expect(widget.window).to_have_js_property("offsetHeight", MOBILE["height"])
