"""Chromium offers permessage-deflate on every WebSocket; ours negotiate none
(chat/http/ws_handshake.py: hypercorn would accept it, and each socket would keep a 262 KB zlib
compressor). The bench's clients never offer it, so only a real browser shows what a visitor's
socket costs."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.browser.conftest import Service

EXTENSIONS_ON_OPEN = """url => new Promise((resolve, reject) => {
  const ws = new WebSocket(url);
  ws.onopen = () => { resolve(ws.extensions); ws.close(); };
  ws.onerror = () => reject(new Error("the WebSocket did not open"));
})"""


def test_a_browsers_socket_negotiates_no_extension(page: Page, service: Service) -> None:
    page.goto(service.site.url(service.site.add_page("/plain.html", None)))
    key = service.org.space["widget_key"]
    widget_socket = service.base.replace("http://", "ws://") + f"/ws/widget?key={key}"
    assert page.evaluate(EXTENSIONS_ON_OPEN, widget_socket) == ""
    agent_socket = service.base.replace("http://", "ws://") + f"/ws/agent?token={service.org.token}"
    assert page.evaluate(EXTENSIONS_ON_OPEN, agent_socket) == ""
