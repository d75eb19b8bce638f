"""The widget's styles and the host's stay apart, and the widget fits desktop and mobile screens
(screenshots saved under tests/artifacts/)."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from pprint import pformat
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Locator, Page

from tests.browser.agent import AgentDriver
from tests.browser.conftest import DESKTOP, EXPECT_TIMEOUT_MS, MOBILE, PageWatch, Service
from tests.browser.host import AGGRESSIVE_CSS, TYPICAL_CSS
from tests.browser.widget import Widget

# Computed properties compared between a plain host page and an aggressive one.
WIDGET_PROPERTIES = [
    "display", "position", "visibility", "opacity", "box-sizing", "z-index", "transform",
    "width", "height", "top", "right", "bottom", "left",
    "margin-top", "margin-right", "margin-bottom", "margin-left",
    "padding-top", "padding-right", "padding-bottom", "padding-left",
    "border-top-width", "border-top-style", "border-top-color", "border-top-left-radius",
    "background-color", "box-shadow", "color", "cursor",
    "font-family", "font-size", "font-weight", "font-style", "line-height",
    "letter-spacing", "word-spacing", "text-transform", "text-align", "text-indent",
    "text-shadow", "white-space",
]  # fmt: skip
WIDGET_PARTS = ["bubble", "window", "title", "messages", "input", "send"]
# Light-DOM elements of the host page (tests/browser/host.py) whose every computed property
# must be the same with and without the widget.
HOST_ELEMENTS = [
    "html", "body", "#host-title", "#host-text", "#host-link", "#host-card", "#host-button",
    "#host-count", "#host-input", "#host-textarea", "#host-list", "#host-list li",
]  # fmt: skip

# Finite animations and transitions (an opening window) end before styles are read.
SETTLE = """async () => {
  // Two frames, so that a change made just now has started its transitions.
  for (let i = 0; i < 2; i++) await new Promise((done) => requestAnimationFrame(done));
  const roots = [document, ...[...document.querySelectorAll("*")]
    .map((el) => el.shadowRoot).filter(Boolean)];
  const finite = roots.flatMap((root) => root.getAnimations()).filter(
    (a) => Number.isFinite(a.effect?.getComputedTiming().endTime ?? Infinity));
  await Promise.all(finite.map((a) => a.finished.catch(() => null)));
}"""
PICK_STYLE = """(el, props) => {
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  const picked = Object.fromEntries(props.map((p) => [p, style.getPropertyValue(p)]));
  picked.box = [box.x, box.y, box.width, box.height].map(Math.round).join(",");
  return picked;
}"""
ALL_STYLES = """(selectors) => Object.fromEntries(selectors.map((selector) => {
  const el = document.querySelector(selector);
  const style = getComputedStyle(el);
  const all = {};
  for (let i = 0; i < style.length; i++) all[style[i]] = style.getPropertyValue(style[i]);
  return [selector, all];
}))"""
# Both pages scroll (a scrollbar takes width from the viewport), so only the CSS differs.
TALL = "\nbody { min-height: 300vh; }\n"


def _settle(page: Page) -> None:
    page.evaluate(SETTLE)


def _widget_styles(widget: Widget) -> dict[str, Any]:
    _settle(widget.page)
    parts: dict[str, Locator] = {name: widget.part(name) for name in WIDGET_PARTS}
    parts["message"] = widget.messages().first
    parts["content"] = widget.messages().first.locator("[data-part=content]")
    return {name: part.evaluate(PICK_STYLE, WIDGET_PROPERTIES) for name, part in parts.items()}


def _differences(a: dict[str, Any], b: dict[str, Any]) -> dict[tuple[str, str], Any]:
    return {
        (element, prop): (a[element].get(prop), b[element].get(prop))
        for element in a
        for prop in a[element].keys() | b[element].keys()
        if a[element].get(prop) != b[element].get(prop)
    }


def test_host_css_does_not_reach_the_widget(
    page: Page, service: Service, agent: AgentDriver, watch: PageWatch
) -> None:
    site = service.site
    plain = site.add_page("/plain.html", service.widget, css=TALL)
    aggressive = site.add_page("/aggressive.html", service.widget, css=AGGRESSIVE_CSS + TALL)

    page.goto(site.url(plain))
    widget = Widget(page).open().connected()
    widget.send("Styled by the widget alone")
    widget.expect_message("Styled by the widget alone", "visitor", state="sent")
    # Measured after a reload, as on the other page: the same visitor with the same history.
    page.reload()
    widget.open().connected()
    widget.expect_message("Styled by the widget alone", "visitor", state="sent")
    expected = _widget_styles(widget)

    page.goto(site.url(aggressive))  # same origin, same visitor: the history comes back
    widget.open().connected()
    widget.expect_message("Styled by the widget alone", "visitor", state="sent")
    differences = _differences(expected, _widget_styles(widget))
    assert not differences, pformat(differences)
    assert watch.page_errors == []


def test_the_widget_changes_no_style_of_the_host(
    page: Page, service: Service, agent: AgentDriver, watch: PageWatch
) -> None:
    site = service.site
    for name, css in (("typical", TYPICAL_CSS), ("aggressive", AGGRESSIVE_CSS)):
        without = site.add_page(f"/{name}-without.html", None, css=css)
        with_widget = site.add_page(f"/{name}-with.html", service.widget, css=css)

        page.goto(site.url(without))
        _settle(page)
        expected = page.evaluate(ALL_STYLES, HOST_ELEMENTS)

        page.goto(site.url(with_widget))
        Widget(page).open().connected()
        _settle(page)
        differences = _differences(expected, page.evaluate(ALL_STYLES, HOST_ELEMENTS))
        assert not differences, f"{name}: {pformat(differences)}"
    assert watch.page_errors == []


def _open_and_screenshot(
    context: BrowserContext, service: Service, agent: AgentDriver, path: Path, name: str
) -> Widget:
    """Open the widget on a host page, converse, let the window settle, save a screenshot."""
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    page = context.new_page()
    page.goto(service.site.url(service.site.add_page(f"/{name}.html", service.widget)))
    widget = Widget(page).open().connected()
    widget.send(f"Hello from a {name} screen")
    heard = agent.wait_for("message", content=f"Hello from a {name} screen")
    agent.say(heard["thread_id"], f"Hi! This is how the widget looks on {name}.")
    widget.expect_message(f"Hi! This is how the widget looks on {name}.", "agent")
    _settle(page)
    page.screenshot(path=path)
    assert path.stat().st_size > 0
    return widget


def test_desktop_screenshot_and_the_window_floats_inside_the_viewport(
    browser: Browser, service: Service, agent: AgentDriver, artifacts: Path
) -> None:
    with closing(browser.new_context(viewport=DESKTOP)) as context:
        widget = _open_and_screenshot(
            context, service, agent, artifacts / "widget-desktop.png", "desktop"
        )
        box = widget.window.bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["y"] >= 0, box
        assert box["x"] + box["width"] <= DESKTOP["width"], box
        assert box["y"] + box["height"] <= DESKTOP["height"], box
        assert box["width"] < DESKTOP["width"] / 2, box  # a panel, not a takeover


def test_mobile_screenshot_and_the_window_fills_the_viewport(
    browser: Browser, service: Service, agent: AgentDriver, artifacts: Path
) -> None:
    mobile = browser.new_context(
        viewport=MOBILE, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    with closing(mobile) as context:
        widget = _open_and_screenshot(
            context, service, agent, artifacts / "widget-mobile.png", "mobile"
        )
        box = widget.window.bounding_box()
        assert box is not None
        assert abs(box["x"]) <= 1 and abs(box["y"]) <= 1, box
        assert abs(box["width"] - MOBILE["width"]) <= 1, box
        assert abs(box["height"] - MOBILE["height"]) <= 1, box
