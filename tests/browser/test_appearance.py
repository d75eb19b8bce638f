"""Appearance in a real browser (README "Appearance"): the widget header's faces, names and
reply-time line, pictures on permissive and strict-CSP host pages; the console's editor whose
preview (the real widget in a frame) follows the admin's typing, and a saved change reaching a
real widget on a host page. Screenshots go to tests/artifacts/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import trio
from playwright.sync_api import Page, Request, Route, expect

from tests.browser.agent import AgentDriver
from tests.browser.conftest import PageWatch, Service, csp_violations, record_csp_violations
from tests.browser.console import Console
from tests.browser.consoles import Consoles
from tests.browser.widget import Widget
from tests.files.images import png
from tests.helpers.api import add_member
from tests.helpers.chat import PASSWORD, widget
from tests.helpers.db import wait_for_rows
from tests.helpers.http import call


def _answered_conversation(service: Service, agent: AgentDriver) -> None:
    """A visitor's question answered by the org's agent, projected into PostgreSQL: the space
    then has a first-response time (seconds, so "a few minutes")."""
    origin = f"http://{service.site.origin('localhost')}"

    async def ask() -> str:
        async with widget(service.org, origin=origin) as (visitor, _):
            ack = await visitor.say("hello, is anyone there?")
            return str(ack["thread_id"])

    thread_id = trio.run(ask)
    agent.wait_for("message", content="hello, is anyone there?")
    agent.say(thread_id, "Yes! How can I help?")
    trio.run(
        lambda: wait_for_rows(
            service.server.settings.database_url,
            "SELECT count(*) FROM messages WHERE thread_id = %s AND sender_type = 'agent'",
            (thread_id,),
            1,
        )
    )


def _wait_for_team(service: Service, members: int) -> None:
    """Until the config serves `members` faces and a reply time. The server reads the team at
    most every few minutes, and answers without it when the read takes over a second (a loaded
    machine), trying again 15 s later: the page must not load before it is there."""
    org = service.org
    url = f"{org.base}/api/v1/widget/{org.space['widget_key']}/config"
    origin = "http://" + service.site.origin("localhost")

    async def served() -> None:
        with trio.fail_after(60):
            while True:
                config = (await call("GET", url, origin=origin)).body
                if len(config["team"]["members"]) >= members and config["reply_time"]:
                    return
                await trio.sleep(0.2)

    trio.run(served)


def _member_with_picture(service: Service, name: str) -> dict[str, Any]:
    async def made() -> dict[str, Any]:
        api = f"{service.base}/api/v1"
        member = await add_member(api, service.org.token, name.split()[0])
        renamed = await call("PATCH", f"{api}/auth/me", {"name": name}, token=member.token)
        assert renamed.status == 200, renamed.body
        headers = {"Content-Type": "image/png"}
        put = await call(
            "PUT", f"{api}/auth/me/avatar", png(32), token=member.token, headers=headers
        )
        assert put.status == 200, put.body
        return dict(put.body)

    return trio.run(made)


def test_header_shows_faces_names_and_reply_time(
    page: Page, service: Service, agent: AgentDriver, watch: PageWatch, artifacts: Path
) -> None:
    picture = _member_with_picture(service, "Li Wei")
    _answered_conversation(service, agent)
    _wait_for_team(service, 2)
    ws_origin = service.base.replace("http://", "ws://")
    allows_service = (
        f"default-src 'self'; script-src {service.base}; connect-src {service.base} {ws_origin};"
        f" img-src 'self' data: {service.base}"
    )
    open_page = service.site.add_page(
        "/faces.html",
        service.widget,
        host_script=False,
        headers={"Content-Security-Policy": allows_service},
    )
    page.goto(service.site.url(open_page))
    w = Widget(page).open()
    faces = w.part("face")
    # Ada is online (the agent fixture) and answered last; Li Wei has a picture.
    expect(faces).to_have_count(2)
    expect(w.part("team-names")).to_have_text("Ada and Li Wei")
    expect(w.part("reply-time")).to_have_text("Usually replies in a few minutes")
    expect(faces.nth(0)).to_have_text("A")
    li = faces.nth(1).locator("img")
    expect(li).to_be_visible()
    assert li.get_attribute("src") == service.base + picture["avatar_url"]
    page.wait_for_function(
        "() => document.querySelector('#chat-widget').shadowRoot"
        ".querySelectorAll('[data-part=face] img')[0].naturalWidth === 32"
    )
    w.window.screenshot(path=str(artifacts / "appearance-header-faces.png"))
    # Nothing private reached the page: the config it read names no email and no agent id.
    config = page.evaluate(
        "async ([url]) => await (await fetch(url)).text()",
        [f"{service.base}/api/v1/widget/{service.org.space['widget_key']}/config"],
    )
    assert service.org.agent["email"] not in config and service.org.agent["id"] not in config

    # A strict host CSP (images from itself only) blocks the picture: the initials show.
    strict = (
        f"default-src 'self'; script-src {service.base}; connect-src {service.base} {ws_origin};"
        " img-src 'self' data:"
    )
    strict_page = service.site.add_page(
        "/faces-strict.html",
        service.widget,
        host_script=False,
        headers={"Content-Security-Policy": strict},
    )
    record_csp_violations(page)
    page.goto(service.site.url(strict_page))
    w = Widget(page).open()
    expect(w.part("face")).to_have_count(2)
    li_face = w.part("face").nth(1)
    expect(li_face.locator("img")).to_be_hidden()
    expect(li_face).to_have_text("LW")
    expect(li_face).to_be_visible()
    # Only the picture was refused (the browser may report it once per attempt).
    blocked = {(v["directive"], v["blocked"]) for v in csp_violations(page)}
    assert blocked == {("img-src", service.base + picture["avatar_url"])}
    w.window.screenshot(path=str(artifacts / "appearance-header-initials-strict-csp.png"))
    assert watch.page_errors == []


def _rgb(hex_color: str) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def test_editor_preview_follows_typing_and_a_save_reaches_the_widget(
    page: Page, service: Service, consoles: Consoles, artifacts: Path
) -> None:
    ada: Console = consoles.new(service.base)
    ada.sign_in(service.org.agent["email"], PASSWORD)
    widget_calls: list[str] = []

    def note_widget_call(request: Request) -> None:
        if "/ws/widget" in request.url or "/api/v1/widget/" in request.url:
            widget_calls.append(request.url)

    ada.page.on("request", note_widget_call)
    ada.part("nav-spaces").click()
    row = ada.page.locator(
        f"#console [data-part=space-row][data-space-id='{service.org.space['id']}']"
    )
    row.locator("[data-part=appearance] summary").click()
    preview = row.frame_locator("[data-part=appearance-preview]")
    bubble = preview.locator("#chat-widget [data-part=bubble]")
    expect(bubble).to_have_css("background-color", _rgb("#2563eb"))
    box, frame = bubble.bounding_box(), row.locator("[data-part=appearance-preview]").bounding_box()
    assert box is not None and frame is not None
    assert box["x"] - frame["x"] > frame["width"] / 2  # bottom-right of the frame

    # Live: each change shows in the preview before anything is saved.
    row.locator("[data-part=appearance-color]").fill("#aa1100")
    expect(bubble).to_have_css("background-color", _rgb("#aa1100"))
    row.locator("[data-part=appearance-position-left]").check()
    ada.page.wait_for_function(
        "() => { const f = document.querySelector('[data-part=appearance-preview]');"
        " const b = f.contentDocument.querySelector('#chat-widget').shadowRoot"
        ".querySelector('[data-part=bubble]'); return b.getBoundingClientRect().left < 100; }"
    )
    label = preview.locator("#chat-widget [data-part=launcher-label]")
    expect(label).to_have_count(0)
    row.locator("[data-part=appearance-label]").press_sequentially("Chat with us")
    expect(label).to_have_text("Chat with us")
    row.locator("[data-part=appearance-greeting]").fill("Welcome to the shop!")
    # (dispatched: the frame's bottom corner may sit below the console's scrolled viewport)
    bubble.dispatch_event("click")
    expect(preview.locator("#chat-widget [data-part=window]")).to_be_visible()
    expect(preview.locator("#chat-widget")).to_contain_text("Welcome to the shop!")
    expect(preview.locator("#chat-widget [data-part=team-names]")).to_have_text("Ada")
    row.screenshot(path=str(artifacts / "appearance-editor-preview.png"))
    # The preview is the real widget with no connection and no visitor: no socket, no config
    # (its window chunk, a static file, is the only thing it fetched).
    assert widget_calls == []

    stored = service.org.space["settings"]
    assert (stored["color"], stored["position"], stored["launcher_label"]) == (
        "#2563eb",
        "right",
        "",
    )
    row.locator("[data-part=appearance-save]").click()
    expect(row.locator("[data-part=appearance-status]")).to_have_text("Saved.")

    # A real widget on a host page shows the saved appearance.
    path = service.site.add_page("/saved.html", service.widget)
    page.goto(service.site.url(path))
    w = Widget(page).loaded()
    expect(w.bubble).to_have_css("background-color", _rgb("#aa1100"))
    expect(w.part("launcher-label")).to_have_text("Chat with us")
    box = w.bubble.bounding_box()
    assert box is not None and box["x"] < 100 and box["y"] > 600  # bottom-left of 1280x800
    page.screenshot(path=str(artifacts / "appearance-saved-on-host-page.png"))
    w.open()
    expect(w.window).to_contain_text("Welcome to the shop!")
    window_box = w.window.bounding_box()
    assert window_box is not None and window_box["x"] < 100


def test_an_agent_sets_and_removes_their_picture_in_the_console(
    service: Service, consoles: Consoles, tmp_path: Path, artifacts: Path
) -> None:
    ada: Console = consoles.new(service.base)
    ada.sign_in(service.org.agent["email"], PASSWORD)
    ada.part("nav-security").click()
    expect(ada.part("avatar")).to_contain_text("visitors see your initials")
    picture = tmp_path / "me.png"
    picture.write_bytes(png(24))
    ada.part("avatar-file").set_input_files(str(picture))
    image = ada.part("avatar-image")
    expect(image).to_be_visible()
    ada.page.wait_for_function(
        "() => document.querySelector('#console [data-part=avatar-image]').naturalWidth === 24"
    )
    ada.part("avatar").screenshot(path=str(artifacts / "appearance-agent-picture.png"))
    # What the console shows is what visitors get: the same public URL.
    src = image.get_attribute("src")
    assert src is not None and src.startswith("/api/v1/avatars/")
    mine = trio.run(
        lambda: call("GET", f"{service.base}/api/v1/auth/me/avatar", token=service.org.token)
    )
    assert mine.body == {"avatar_url": src}
    # Not an image: refused with the server's sentence, the picture kept.
    text = tmp_path / "notes.txt"
    text.write_text("not a picture")
    ada.part("avatar-file").set_input_files(str(text))
    expect(ada.part("avatar").locator("[role=alert]")).to_be_visible()
    expect(image).to_have_attribute("src", src)
    ada.part("avatar-remove").click()
    expect(ada.part("avatar-image")).to_have_count(0)
    gone = trio.run(
        lambda: call("GET", f"{service.base}/api/v1/auth/me/avatar", token=service.org.token)
    )
    assert gone.body == {"avatar_url": None}


# Lets the page run what a settled fetch scheduled (its body read, then a render) before the test
# looks: a frame, then a task.
SETTLE = "() => new Promise(done => requestAnimationFrame(() => setTimeout(done, 0)))"


def test_a_late_first_read_of_the_picture_does_not_undo_an_upload(
    service: Service, consoles: Consoles, tmp_path: Path
) -> None:
    """The picture card reads the agent's picture when it opens; an upload made before that
    read answers must not be undone by the (older) answer: seen in a loaded CI run."""
    ada: Console = consoles.new(service.base)
    ada.sign_in(service.org.agent["email"], PASSWORD)
    held: list[Route] = []

    def hold_first_read(route: Route) -> None:
        if route.request.method == "GET" and not held:
            held.append(route)
        else:
            route.continue_()

    ada.page.route("**/api/v1/auth/me/avatar", hold_first_read)
    with ada.page.expect_request(lambda r: r.url.endswith("/auth/me/avatar")):
        ada.part("nav-security").click()
    picture = tmp_path / "me.png"
    picture.write_bytes(png(24))
    ada.part("avatar-file").set_input_files(str(picture))
    image = ada.part("avatar-image")
    expect(image).to_be_visible()
    assert len(held) == 1
    # The first read answers now, with what it would have read before the upload: no picture.
    with ada.page.expect_response(lambda r: r.request.method == "GET" and "/me/avatar" in r.url):
        held[0].fulfill(json={"avatar_url": None})
    ada.page.evaluate(SETTLE)
    ada.page.evaluate(SETTLE)
    expect(image).to_be_visible()
