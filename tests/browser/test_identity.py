"""Signed visitor identity in the browser (issue 16, part 2): the host page passes a token its
backend signed to ChatWidget.identify; two browsers (two contexts: separate storage, as two
devices) of one signed user share the conversation and its history; a forged or an expired
token is refused (the host page hears why) and verifies nothing; `require_identity` keeps an
anonymous visitor from opening a conversation, and the widget says why."""

from __future__ import annotations

import re
from typing import Any

import trio
from playwright.sync_api import Browser, Page, expect

from tests.browser.agent import AgentDriver
from tests.browser.conftest import DESKTOP, EXPECT_TIMEOUT_MS, PageWatch, Service
from tests.browser.consoles import Consoles
from tests.browser.test_console import no_errors, rest, sign_in_admin
from tests.browser.test_lifecycle import wait_until_served
from tests.browser.widget import Widget
from tests.helpers.http import call
from tests.identity.helpers import identity_secret, sign

# The host page's listener: every error the widget reports to the page, by code.
LISTEN = """() => {
  window.__errors = [];
  window.ChatWidget.on('error', e => window.__errors.push(e.code));
}"""


def _identify(page: Page, token: str) -> None:
    page.evaluate("token => window.ChatWidget.identify({token})", token)


def _page(browser: Browser, watch: PageWatch) -> Page:
    """A page in a browser context of its own: its own localStorage, like another device."""
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    page = context.new_page()
    watch.attach(page)
    return page


def _secret(service: Service) -> str:
    return trio.run(identity_secret, service.org)


def _settings(service: Service, settings: dict[str, Any]) -> None:
    url = f"{service.base}/api/v1/spaces/{service.org.space['id']}"

    async def patch() -> None:
        reply = await call("PATCH", url, {"settings": settings}, token=service.org.token)
        assert reply.status == 200, reply.body

    trio.run(patch)


def test_two_browsers_of_one_signed_user_share_the_history(
    browser: Browser, service: Service, agent: AgentDriver, watch: PageWatch
) -> None:
    secret = _secret(service)
    url = service.site.url(service.site.add_page("/account.html", service.widget))
    laptop_page, phone_page = _page(browser, watch), _page(browser, watch)
    try:
        laptop_page.goto(url)
        laptop = Widget(laptop_page).open().connected()
        _identify(laptop_page, sign(secret, "customer-1001", name="Grace Hopper"))
        laptop.send("Where is my order 5521?")
        laptop.expect_message("Where is my order 5521?", "visitor", state="sent")
        opened = agent.wait_for("thread.new")
        agent.claim(opened["thread"]["id"])
        agent.say(opened["thread"]["id"], "It ships tomorrow.")
        laptop.expect_message("It ships tomorrow.", "agent")

        # The phone: anonymous until the page signs the same user in, then the same visitor.
        phone_page.goto(url)
        phone = Widget(phone_page).open().connected()
        expect(phone.messages()).to_have_count(0)
        _identify(phone_page, sign(secret, "customer-1001", name="Grace Hopper"))
        phone.expect_message("Where is my order 5521?", "visitor")
        phone.expect_message("It ships tomorrow.", "agent")
        phone.connected()
        phone.send("And order 5522?")
        phone.expect_message("And order 5522?", "visitor", state="sent")
        laptop.expect_message("And order 5522?", "visitor")  # one conversation, live on both
        # One conversation for the agent, with the visitor verified.
        assert agent.count("thread.new") == 1
        session = phone_page.evaluate(
            "key => localStorage.getItem('chat-widget:session:' + key)",
            service.org.space["widget_key"],
        )
        assert session == laptop_page.evaluate(
            "key => localStorage.getItem('chat-widget:session:' + key)",
            service.org.space["widget_key"],
        )
        # Reloading the phone keeps it signed in as that visitor, without a new identify.
        phone_page.reload()
        Widget(phone_page).open().connected().expect_message("And order 5522?", "visitor")
    finally:
        laptop_page.context.close()
        phone_page.context.close()
    assert watch.page_errors == []


def test_a_forged_or_expired_token_is_refused(
    browser: Browser, service: Service, watch: PageWatch
) -> None:
    secret = _secret(service)
    url = service.site.url(service.site.add_page("/forged.html", service.widget))
    page = _page(browser, watch)
    try:
        page.goto(url)
        widget = Widget(page).open().connected()
        page.evaluate(LISTEN)
        before = page.evaluate(
            "key => localStorage.getItem('chat-widget:session:' + key)",
            service.org.space["widget_key"],
        )
        _identify(page, sign("is_" + "f" * 43, "customer-1001"))  # forged: not the space's key
        page.wait_for_function("() => window.__errors.length === 1")
        _identify(page, sign(secret, "customer-1001", ttl=-300))  # expired five minutes ago
        page.wait_for_function("() => window.__errors.length === 2")
        assert page.evaluate("() => window.__errors") == ["identity_invalid", "identity_expired"]
        # Still the same anonymous visitor, and it can still chat.
        widget.send("Just browsing")
        widget.expect_message("Just browsing", "visitor", state="sent")
        after = page.evaluate(
            "key => localStorage.getItem('chat-widget:session:' + key)",
            service.org.space["widget_key"],
        )
        assert after == before
    finally:
        page.context.close()


def test_require_identity_blocks_an_anonymous_visitor(
    browser: Browser, service: Service, agent: AgentDriver, watch: PageWatch
) -> None:
    secret = _secret(service)
    _settings(service, {"require_identity": True})
    wait_until_served(service, "require_identity", True)
    url = service.site.url(service.site.add_page("/members.html", service.widget))
    page = _page(browser, watch)
    try:
        page.goto(url)
        widget = Widget(page).open().connected()
        widget.send("Can I ask without an account?")
        widget.expect_message("Can I ask without an account?", "visitor", state="failed")
        expect(widget.window.locator(".note[role=alert]")).to_contain_text("sign in")
        assert agent.count("thread.new") == 0
        # Signed in, the visitor writes and the conversation opens.
        _identify(page, sign(secret, "member-7"))
        widget.send("Now signed in")
        widget.expect_message("Now signed in", "visitor", state="sent")
        agent.wait_for("thread.new")
    finally:
        page.context.close()


def test_the_console_keeps_the_secret_and_shows_verified_visitors(
    page: Page, service: Service, consoles: Consoles, watch: PageWatch
) -> None:
    """An admin generates and rotates the secret on the Spaces page (what it shows is what
    verifies), turns on require_identity there, and sees a signed-in visitor as verified."""
    ada = sign_in_admin(consoles, service)
    ada.part("nav-spaces").click()
    card = ada.page.locator(
        f"#console [data-part=space-row][data-space-id='{service.org.space['id']}']"
        " [data-part=space-identity]"
    )
    card.locator("[data-part=identity-secret-show]").click()
    shown = card.locator("[data-part=identity-secret]")
    expect(shown).to_have_text("None yet")
    card.locator("[data-part=identity-secret-rotate]").click()  # Generate
    expect(shown).to_have_text(re.compile(r"^is_"))
    first = shown.inner_text()
    card.locator("[data-part=identity-secret-rotate]").click()  # Rotate: the confirm is accepted
    expect(shown).not_to_have_text(first)
    secret = shown.inner_text()
    assert (
        rest(service.org, "GET", f"/spaces/{service.org.space['id']}/identity-secret").body[
            "secret"
        ]
        == secret
    )
    # The box checks at once; the setting is stored when the console's PATCH is answered.
    with ada.page.expect_response(
        lambda r: r.request.method == "PATCH" and "/api/v1/spaces/" in r.url
    ) as saved:
        card.locator("[data-part=space-require-identity]").check()
    assert saved.value.ok
    expect(card.locator("[data-part=space-require-identity]")).to_be_checked()
    space = rest(service.org, "GET", f"/spaces/{service.org.space['id']}").body
    assert space["settings"]["require_identity"] is True
    wait_until_served(service, "require_identity", True)

    page.goto(service.site.url(service.site.add_page("/signed-in.html", service.widget)))
    widget = Widget(page).open().connected()
    _identify(page, sign(secret, "customer-77", name="Katherine Johnson"))
    widget.send("Signed in and asking")
    widget.expect_message("Signed in and asking", "visitor", state="sent")

    ada.part("nav-inbox").click()
    ada.connected().show("queue")
    row = ada.row_previewing("Signed in and asking")
    ada.open_thread(ada.thread_id_of(row))
    identity = ada.part("visitor-panel").locator("[data-part=visitor-panel-identity]")
    expect(identity).to_have_text("Verified: customer-77")
    expect(ada.part("visitor-panel-name")).to_have_text("Katherine Johnson")
    no_errors(ada)
    assert watch.page_errors == []
