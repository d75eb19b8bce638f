"""The widget speaks the visitor's language (README "Languages"): the browser's languages pick
it, the space's `locale` setting overrides them, ChatWidget.setLocale overrides both and switches
live; Arabic lays the window out right to left. Screenshots under tests/artifacts/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import trio
from playwright.sync_api import Browser, Page, expect

from tests.browser.agent import AgentDriver
from tests.browser.conftest import DESKTOP, EXPECT_TIMEOUT_MS, PageWatch, Service
from tests.browser.consoles import Consoles
from tests.browser.test_console import rest, sign_in_admin
from tests.browser.widget import Widget
from tests.helpers.http import call

CATALOGUE = re.compile(r"/widget/locales/([a-z]+)\.[0-9a-f]{12}\.json$")
ROOT = "() => document.querySelector('#chat-widget').shadowRoot.querySelector('.root')"


@contextmanager
def browser_page(browser: Browser, locale: str, watch: PageWatch) -> Iterator[Page]:
    """A page of a browser whose languages are `locale` (navigator.languages, Accept-Language)."""
    context = browser.new_context(viewport=DESKTOP, locale=locale)
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    try:
        page = context.new_page()
        watch.attach(page)
        yield page
    finally:
        context.close()


def catalogues_asked(page: Page) -> list[str]:
    """The languages whose catalogue the page fetches, as it does (a live list)."""
    asked: list[str] = []
    page.on("request", lambda r: (m := CATALOGUE.search(r.url)) and asked.append(m.group(1)))
    return asked


def set_space_locale(service: Service, locale: str) -> None:
    url = f"{service.base}/api/v1/spaces/{service.org.space['id']}"
    body: dict[str, Any] = {"settings": {"locale": locale}}
    reply = trio.run(lambda: call("PATCH", url, body, token=service.org.token))
    assert reply.status == 200, reply.body


def root_attr(page: Page, name: str) -> str:
    value: str = page.evaluate(f"({ROOT})().getAttribute('{name}')")
    return value


def test_a_german_browser_gets_german(
    browser: Browser, service: Service, watch: PageWatch, artifacts: Any
) -> None:
    with browser_page(browser, "de-AT", watch) as page:
        asked = catalogues_asked(page)
        page.goto(service.site.url(service.site.add_page("/de.html", service.widget)))
        widget = Widget(page).loaded()
        expect(widget.bubble).to_have_attribute("aria-label", "Chat öffnen")
        widget.open().connected()
        expect(widget.bubble).to_have_attribute("aria-label", "Chat schließen")
        expect(widget.input).to_have_attribute("placeholder", "Nachricht schreiben…")
        expect(widget.part("send")).to_have_attribute("aria-label", "Nachricht senden")
        # The space kept the default greeting: it speaks the visitor's language too.
        expect(widget.part("greeting")).to_have_text("Hallo! Wie können wir helfen?")
        expect(widget.part("presence")).to_have_text("Offline")
        # Nobody online: the box first with the away sentence; once written, the form alone.
        expect(widget.part("away")).to_have_text("Wir antworten so bald wie möglich.")
        assert (root_attr(page, "lang"), root_attr(page, "dir")) == ("de", "ltr")
        widget.send("Hallo, ist jemand da?")
        widget.expect_message("Hallo, ist jemand da?", "visitor", state="sent")
        expect(widget.messages("visitor").locator("[data-part=content] + .meta")).to_contain_text(
            "Gesendet"
        )
        expect(widget.part("prechat")).to_contain_text("Gerade ist niemand online.")
        expect(widget.part("prechat").locator("button")).to_have_text("Senden")
        page.screenshot(path=artifacts / "widget-de.png")
        assert asked == ["de"], "de-AT -> de, fetched once"
    assert watch.page_errors == []


def test_arabic_is_laid_out_right_to_left(
    browser: Browser, service: Service, agent: AgentDriver, watch: PageWatch, artifacts: Any
) -> None:
    with browser_page(browser, "ar-EG", watch) as page:
        page.goto(service.site.url(service.site.add_page("/ar.html", service.widget)))
        widget = Widget(page).open().connected()
        expect(widget.input).to_have_attribute("placeholder", "اكتب رسالة…")
        expect(widget.part("presence")).to_have_text("متصل")
        assert (root_attr(page, "lang"), root_attr(page, "dir")) == ("ar", "rtl")
        # What the visitor types takes its own direction, line by line (an English word too).
        assert widget.input.evaluate("(el) => getComputedStyle(el).unicodeBidi") == "plaintext"

        widget.send("مرحبا")
        sent = widget.expect_message("مرحبا", "visitor", state="sent")
        thread_id = agent.wait_for("thread.new")["thread"]["id"]
        agent.claim(thread_id)
        agent.say(thread_id, "أهلًا! كيف يمكنني مساعدتك؟")
        answer = widget.expect_message("أهلًا! كيف يمكنني مساعدتك؟", "agent")
        expect(widget.part("agent")).to_have_text("أنت تتحدث مع Ada")

        box = widget.window.bounding_box()
        send, field = widget.part("send").bounding_box(), widget.input.bounding_box()
        mine, theirs = sent.bounding_box(), answer.bounding_box()
        assert box and send and field and mine and theirs
        assert send["x"] + send["width"] <= field["x"], "the send button left of the input"
        # Mirrored: the visitor's own messages on the left, the agent's on the right.
        centre = box["x"] + box["width"] / 2
        assert mine["x"] + mine["width"] < box["x"] + box["width"] - 40 and mine["x"] < centre
        assert theirs["x"] + theirs["width"] > centre + 40
        # The window keeps its corner (the space's position, not the language, places it).
        assert box["x"] + box["width"] > DESKTOP["width"] - 40
        page.screenshot(path=artifacts / "widget-ar.png")
    assert watch.page_errors == []


def test_the_space_setting_beats_the_browser_and_set_locale_beats_both_live(
    browser: Browser, service: Service, watch: PageWatch
) -> None:
    set_space_locale(service, "fr")
    with browser_page(browser, "de-DE", watch) as page:
        asked = catalogues_asked(page)
        page.goto(service.site.url(service.site.add_page("/fr.html", service.widget)))
        widget = Widget(page).open()
        expect(widget.input).to_have_attribute("placeholder", "Écrivez un message…")
        french = "Bonjour\u202f! Comment pouvons-nous vous aider\u202f?"  # narrow no-break spaces
        expect(widget.part("greeting")).to_have_text(french)

        # Live: the open window re-renders in the new language, the visitor's draft kept.
        widget.input.fill("un brouillon")
        page.evaluate("() => window.ChatWidget.setLocale('es-MX')")
        expect(widget.input).to_have_attribute("placeholder", "Escribe un mensaje…")
        expect(widget.part("greeting")).to_have_text("¡Hola! ¿En qué podemos ayudarte?")
        expect(widget.input).to_have_value("un brouillon")
        page.evaluate("() => window.ChatWidget.setLocale('ar')")
        expect(widget.input).to_have_attribute("placeholder", "اكتب رسالة…")
        assert root_attr(page, "dir") == "rtl"
        page.evaluate("() => window.ChatWidget.setLocale('en')")
        expect(widget.input).to_have_attribute("placeholder", "Write a message…")
        assert (root_attr(page, "lang"), root_attr(page, "dir")) == ("en", "ltr")
        # "auto": back to the space's setting (whose catalogue is fetched once, not again).
        page.evaluate("() => window.ChatWidget.setLocale('auto')")
        expect(widget.input).to_have_attribute("placeholder", "Écrivez un message…")
        assert "fr" in asked and asked.count("fr") == 1
        assert set(asked) <= {"de", "fr", "es", "ar"}
    assert watch.page_errors == []


def test_an_english_browser_fetches_no_catalogue(
    browser: Browser, service: Service, watch: PageWatch
) -> None:
    with browser_page(browser, "en-GB", watch) as page:
        asked = catalogues_asked(page)
        page.goto(service.site.url(service.site.add_page("/en.html", service.widget)))
        widget = Widget(page).open().connected()
        expect(widget.input).to_have_attribute("placeholder", "Write a message…")
        expect(widget.bubble).to_have_attribute("aria-label", "Close chat")
        assert asked == []
    assert watch.page_errors == []


def test_the_console_sets_the_space_language(
    browser: Browser, service: Service, consoles: Consoles, watch: PageWatch
) -> None:
    """The Spaces page's select stores the setting; a Spanish browser then gets German."""
    ada = sign_in_admin(consoles, service)
    ada.part("nav-spaces").click()
    expect(ada.page.locator("h1")).to_have_text("Spaces")
    select = ada.page.locator(
        f"#console [data-part=space-row][data-space-id='{service.org.space['id']}']"
        " [data-part=space-locale]"
    )
    expect(select).to_have_value("auto")
    space = f"/spaces/{service.org.space['id']}"
    with ada.page.expect_response(
        lambda r: r.request.method == "PATCH" and r.url.endswith(space)
    ) as answered:
        select.select_option(label="Deutsch")
    assert answered.value.status == 200
    expect(select).to_have_value("de")
    assert rest(service.org, "GET", space).body["settings"]["locale"] == "de"
    with browser_page(browser, "es-ES", watch) as page:
        page.goto(service.site.url(service.site.add_page("/console-de.html", service.widget)))
        widget = Widget(page).open()
        expect(widget.input).to_have_attribute("placeholder", "Nachricht schreiben…")
    assert watch.page_errors == []
