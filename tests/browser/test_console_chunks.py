"""The console's chunks (README "What loads when"): console.js holds the sign-in, the inbox and
the conversation; the admins' pages and the canned responses page are chunks fetched the first
time one of their pages opens. An agent who is not an admin never downloads the admin chunk;
an admin downloads it once, on the first admin page; a chunk that fails to load offers Retry,
which reloads the console (Chromium keeps a failed import(): the same URL is not asked again).
Watched as the page's own requests, under the app's CSP."""

from __future__ import annotations

import re

from playwright.sync_api import Route, expect

from tests.browser.conftest import Service, csp_violations, record_csp_violations
from tests.browser.console import Console
from tests.browser.consoles import Consoles
from tests.browser.test_console import add_agent, sign_in_admin
from tests.helpers.chat import PASSWORD

CHUNK = re.compile(r"/static/console/(?P<name>[A-Za-z][A-Za-z0-9_-]*)\.[0-9a-f]{12}\.js$")


def _chunks_asked(console: Console) -> list[str]:
    """The names of the chunks the console's page asked for so far, in order."""
    return [
        found["name"]
        for _, url in console.outbox.requests
        if (found := CHUNK.search(url.split("?")[0]))
    ]


def _no_errors(console: Console) -> None:
    assert console.watch.page_errors == []
    # The browser's own favicon.ico request is a 404 (the console has none); nothing else.
    assert [t for t in console.watch.console_texts() if "/favicon.ico" not in t] == []
    assert csp_violations(console.page) == []


def test_an_agent_never_loads_the_admin_chunk_and_an_admin_loads_it_once_on_demand(
    service: Service, consoles: Consoles
) -> None:
    _, email = add_agent(service.org, "Grace")
    grace = consoles.new(service.base)
    record_csp_violations(grace.page)
    grace.page.reload()
    grace.sign_in(email, PASSWORD)
    expect(grace.part("nav-agents")).to_have_count(0)
    # The inbox, the Security page and the canned responses page: only the canned chunk (and
    # what it shares with the admin chunk), never the admin chunk.
    grace.part("nav-security").click()
    expect(grace.part("security")).to_be_visible()
    assert _chunks_asked(grace) == []
    grace.part("nav-canned").click()
    expect(grace.part("canned-form")).to_be_visible()
    assert "admin" not in _chunks_asked(grace)
    assert "canned" in _chunks_asked(grace)
    # An admin page's address typed by hand shows the inbox to an agent, and loads nothing.
    grace.page.evaluate("() => { location.hash = '#/agents'; }")
    expect(grace.part("list-tab").first).to_be_visible()
    assert "admin" not in _chunks_asked(grace)
    _no_errors(grace)

    ada = consoles.new(service.base)
    record_csp_violations(ada.page)
    ada.page.reload()
    ada.sign_in(service.org.agent["email"], PASSWORD)
    assert _chunks_asked(ada) == []
    ada.part("nav-agents").click()
    expect(ada.part("agent-form")).to_be_visible()
    assert _chunks_asked(ada).count("admin") == 1
    # Every other admin page comes from the same chunk, asked for once.
    ada.part("nav-spaces").click()
    expect(ada.part("space-form")).to_be_visible()
    ada.part("nav-groups").click()
    expect(ada.part("group-form")).to_be_visible()
    ada.part("nav-tags").click()
    expect(ada.part("tag-form")).to_be_visible()
    ada.part("nav-webhooks").click()
    expect(ada.part("webhooks-page")).to_be_visible()
    ada.part("nav-api-keys").click()
    expect(ada.part("api-keys-page")).to_be_visible()
    assert _chunks_asked(ada).count("admin") == 1
    assert "canned" not in _chunks_asked(ada)
    _no_errors(ada)


def test_an_admin_page_opened_by_its_address_loads_its_chunk_at_start(
    service: Service, consoles: Consoles
) -> None:
    ada = sign_in_admin(consoles, service)
    ada.page.goto(f"{service.base}/console#/spaces")
    expect(ada.part("space-form")).to_be_visible()
    assert _chunks_asked(ada).count("admin") == 1
    assert ada.watch.page_errors == []


def test_a_chunk_that_fails_to_load_offers_a_retry(service: Service, consoles: Consoles) -> None:
    ada = sign_in_admin(consoles, service)
    failing = {"admin": True}

    def maybe_fail(route: Route) -> None:
        if failing["admin"]:
            route.abort("connectionrefused")
        else:
            route.continue_()

    ada.page.route(re.compile(r"/static/console/admin\.[0-9a-f]{12}\.js$"), maybe_fail)
    ada.part("nav-groups").click()
    failed = ada.part("page-failed")
    expect(failed).to_be_visible()
    expect(failed.get_by_role("alert")).to_have_text("This page could not be loaded.")
    # The rest of the console goes on: the inbox opens, and the admin page fails again without
    # asking again (only Retry does).
    ada.part("nav-inbox").click()
    expect(ada.part("list-tab").first).to_be_visible()
    asked = _chunks_asked(ada).count("admin")
    ada.part("nav-groups").click()
    expect(failed).to_be_visible()
    assert _chunks_asked(ada).count("admin") == asked

    # Retry reloads: the address keeps the page, the stored tokens the sign-in.
    failing["admin"] = False
    with ada.page.expect_navigation():
        ada.part("page-retry").click()
    ada.connected()
    expect(ada.part("group-form")).to_be_visible()
    expect(failed).to_have_count(0)
    assert ada.page.url.endswith("/console#/groups")
    assert _chunks_asked(ada).count("admin") == asked + 1
    assert ada.watch.page_errors == []
