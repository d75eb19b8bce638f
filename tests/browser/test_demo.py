"""The demo site at `/` (`chat serve --demo`) embeds the real widget and works in a browser."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from chat.config import Settings
from chat.demo import ensure_demo
from chat.http.pages import CONTENT_SECURITY_POLICY
from tests.browser.conftest import PageWatch, Servers, csp_violations, record_csp_violations
from tests.browser.widget import Widget
from tests.conftest import free_port


def test_the_demo_page_runs_the_widget_under_its_strict_csp(
    page: Page, servers: Servers, settings: Settings, watch: PageWatch
) -> None:
    port = free_port()
    ensure_demo(settings, "127.0.0.1", port)  # what --demo does: the space allows this port
    server = servers.start(port)
    record_csp_violations(page)
    response = page.goto(f"{server.base}/")
    assert response is not None
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY

    widget = Widget(page).open().connected()
    widget.send("Hello from the demo page")
    widget.expect_message("Hello from the demo page", "visitor", state="sent")
    assert csp_violations(page) == []
    # The page is on the service's own origin: its config fetch carries no Origin header and is
    # still answered (Sec-Fetch-Site), so the window shows the space's own name.
    expect(widget.part("title")).to_have_text("Demo site")
    assert watch.console_texts() == []
    assert watch.page_errors == []

    # The agent console is linked from the demo (in a new window).
    with page.context.expect_page() as opened:
        page.locator("main a[href='/console']").click()
    console = opened.value
    expect(console.locator("form[data-part=signin]")).to_be_visible()
    assert console.url == f"{server.base}/console"
