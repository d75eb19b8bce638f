"""The console's API keys page (issue 16, item 3): an admin creates a key with a name and scopes,
sees it once with a copy button, finds it listed by its start and last 4 only, and revokes it;
REST agrees at each step."""

from __future__ import annotations

import re
from pathlib import Path

import trio
from playwright.sync_api import expect

from tests.browser.conftest import Service
from tests.browser.consoles import Consoles
from tests.browser.test_canned import _shot
from tests.browser.test_console import rest, sign_in_admin
from tests.helpers.http import Reply, call


def _with_key(service: Service, key: str, method: str, path: str) -> Reply:
    url = f"{service.base}/api/v1{path}"
    return trio.run(lambda: call(method, url, token=key))


def test_an_admin_creates_copies_and_revokes_an_api_key(
    service: Service, consoles: Consoles, artifacts: Path
) -> None:
    org = service.org
    ada = sign_in_admin(consoles, service)
    ada.page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    ada.part("nav-api-keys").click()
    expect(ada.part("api-keys-empty")).to_be_visible()

    form = ada.part("api-key-form")
    form.locator("input[name=name]").fill("  Nightly export ")
    ada.part("scope-write").check()  # read is checked by default
    form.locator("button[type=submit]").click()
    shown = ada.part("api-key-value")
    expect(shown).to_have_value(re.compile(r"^chat_sk_[0-9a-f]{32}_[\w-]{43}$"))
    key = shown.input_value()

    ada.part("api-key-copy").click()
    expect(ada.part("api-key-created")).to_contain_text("Copied.")
    assert ada.page.evaluate("navigator.clipboard.readText()") == key
    _shot(ada, artifacts / "console-api-key-created.png", ada.part("api-key-created"))

    [listed] = rest(org, "GET", "/api-keys").body["items"]
    assert (listed["name"], listed["scopes"]) == ("Nightly export", ["read", "write"])
    assert _with_key(service, key, "GET", "/spaces").status == 200

    ada.part("api-key-done").click()
    expect(ada.part("api-key-created")).to_have_count(0)
    row = ada.part("api-key-row")
    expect(row).to_have_count(1)
    expect(row.locator("[data-part=api-key-hint]")).to_have_text(
        f"{listed['prefix']}…{listed['last4']}"
    )
    expect(row.locator("[data-part=api-key-scopes]")).to_have_text("read, write")
    assert key not in ada.page.content()  # shown once: gone from the page

    ada.part("api-key-revoke").click()  # the confirm is accepted
    expect(row).to_have_attribute("data-revoked", "true")
    expect(ada.part("api-key-revoke")).to_have_count(0)
    assert _with_key(service, key, "GET", "/spaces").status == 401
    _shot(ada, artifacts / "console-api-key-revoked.png", row)
    assert rest(org, "GET", "/api-keys").body["items"][0]["revoked_at"] is not None

    # No scope checked: the form says so and creates nothing.
    form.locator("input[name=name]").fill("Nothing")
    ada.part("scope-read").uncheck()
    form.locator("button[type=submit]").click()
    expect(ada.part("api-key-form-error")).to_have_text("Choose at least one scope.")
    assert len(rest(org, "GET", "/api-keys").body["items"]) == 1
    assert ada.watch.page_errors == []
