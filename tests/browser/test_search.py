"""Search in the console (issue 13): a visitor's message holding markup is found by a stemmed
word, its snippet shows the markup as text (nothing runs, nothing is injected), and a click on
the hit opens the conversation. Screenshots of the open results at laptop and tablet widths go
to tests/artifacts/.
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import quote

from playwright.sync_api import Page, ViewportSize, expect

from tests.browser.conftest import Service
from tests.browser.consoles import Consoles
from tests.browser.test_console import OVERFLOW_X, SETTLE, no_errors, rest, sign_in_admin
from tests.browser.widget import Widget

LAPTOP: ViewportSize = {"width": 1280, "height": 800}
TABLET: ViewportSize = {"width": 820, "height": 1180}
EVIL = "<script>window.pwned = 1</script><img src=x onerror='window.pwned = 2'> my refunds?"
PROJECTED_WITHIN = 30.0


def _wait_searchable(service: Service, q: str) -> str:
    """Until the search route finds `q` (the projector wrote the message); the thread id."""
    deadline = time.monotonic() + PROJECTED_WITHIN
    while True:
        items = rest(service.org, "GET", f"/search?q={quote(q)}").body["items"]
        if items:
            return str(items[0]["message"]["thread_id"])
        assert time.monotonic() < deadline, "the message never became searchable"
        time.sleep(0.1)


def test_a_hit_shows_markup_as_text_and_opens_its_conversation(
    page: Page, service: Service, consoles: Consoles, artifacts: Path
) -> None:
    page.goto(service.site.url(service.site.add_page("/search.html", service.widget)))
    widget = Widget(page).open().connected()
    widget.send(EVIL)
    widget.expect_message(EVIL, "visitor", state="sent")
    thread_id = _wait_searchable(service, "refund")

    ada = sign_in_admin(consoles, service)
    ada.page.set_viewport_size(LAPTOP)
    box = ada.part("search-input")
    box.fill("refund")
    box.press("Enter")
    hit = ada.part("search-hit")
    expect(hit).to_have_count(1)
    snippet = hit.locator(".search-snippet")
    expect(snippet).to_have_text(EVIL)  # the markup, as text
    expect(snippet.locator("mark")).to_have_text(["refunds"])
    results = ada.part("search-results")
    assert results.locator("script, img").count() == 0
    assert ada.page.evaluate("() => window.pwned") is None

    for name, size in (("laptop", LAPTOP), ("tablet", TABLET)):
        ada.page.set_viewport_size(size)
        ada.page.evaluate(SETTLE)
        expect(results).to_be_in_viewport()
        assert ada.page.evaluate(OVERFLOW_X) <= 0, "the console scrolls sideways"
        path = artifacts / f"console-search-{name}.png"
        ada.page.screenshot(path=path)
        assert path.stat().st_size > 0
    ada.page.set_viewport_size(LAPTOP)

    hit.click()
    expect(results).to_have_count(0)
    expect(ada.thread).to_have_attribute("data-thread-id", thread_id)
    expect(ada.message(EVIL, "visitor")).to_have_count(1)
    no_errors(ada)
