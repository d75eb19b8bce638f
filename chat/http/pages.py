"""The demo pages: a demo site at `/` that embeds the widget, a minimal agent console at `/console`.

The demo site is what a customer's page looks like: it loads `/widget.js` (chat/http/
widget_assets.py) with one script tag carrying the demo space's widget key. The files live in
chat/static; the HTML pages get a strict Content-Security-Policy (no inline script or style), so
every script is a static file, and the widget shows it needs nothing more.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import psycopg
import trio
from quart import Blueprint, Response, send_from_directory

from chat.db import accounts, space_queries
from chat.demo import DEMO_EMAIL
from chat.http.compressed import AssetDirectory, asset_response
from chat.services import Services

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
# console.js and console.css have fixed names (console.html names them): revalidated (ETag) on
# every load, so a new build shows.
CONSOLE_CACHE = "no-cache"
# The console's lazy chunks (console/vite.config.ts: `<name>.<12 hex>.js`) are named by their
# bytes' hash, so a name never changes its bytes: cached for a year, like the widget's chunks.
CONSOLE_CHUNK = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*\.[0-9a-f]{12}\.js$")
CONSOLE_CHUNK_CACHE = "public, max-age=31536000, immutable"
WIDGET_KEY_PLACEHOLDER = "{{WIDGET_KEY}}"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
    "style-src 'self'; script-src 'self'"
)

NO_DEMO_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Live chat</title>
<link rel="stylesheet" href="/static/demo.css">
</head>
<body>
<main class="page">
<h1>Live chat</h1>
<p>There is no demo organization on this server, so there is no demo chat box to show.</p>
<p>Start the server with <code>--demo</code> (<code>make run</code> does) to create demo
accounts and a demo space, then reload this page.</p>
<p><a href="/console">Agent console</a></p>
</main>
</body>
</html>
"""


def _demo_widget_key(conn: psycopg.Connection) -> str | None:
    """The widget key of the demo organization's first space, if `--demo` made one."""
    agent = accounts.agent_by_email(conn, DEMO_EMAIL)
    if agent is None:
        return None
    spaces = space_queries.list_spaces(conn, agent.organization_id)
    return spaces[0].widget_key if spaces else None


def _html_page(body: str) -> Response:
    response = Response(body, content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


async def _read_static(name: str) -> str:
    return await trio.Path(STATIC_DIR / name).read_text(encoding="utf-8")


def pages_blueprint(services: Services) -> Blueprint:
    pages = Blueprint("pages", __name__)

    @pages.get("/")
    async def demo_page() -> Response:
        key = await services.db.run(_demo_widget_key)
        if key is None:
            return _html_page(NO_DEMO_PAGE)
        page = await _read_static("demo.html")
        return _html_page(page.replace(WIDGET_KEY_PLACEHOLDER, html.escape(key, quote=True)))

    @pages.get("/console")
    async def console_page() -> Response:
        return _html_page(await _read_static("console.html"))

    @pages.get("/widget-preview")
    async def widget_preview_page() -> Response:
        """The appearance editor's live preview (README "Appearance"): the real widget.js with
        no connection; only this service's own pages (the console) may frame it."""
        page = _html_page(await _read_static("widget-preview.html"))
        csp = page.headers["Content-Security-Policy"]
        page.headers["Content-Security-Policy"] = f"{csp}; frame-ancestors 'self'"
        return page

    # `<name>` (no slashes) rather than `<path:name>`: only files directly in chat/static, and
    # the console's build in chat/static/console. The app itself has no static folder
    # (create_app passes static_folder=None).
    @pages.get("/static/<name>")
    async def static_file(name: str) -> Response:
        return await send_from_directory(STATIC_DIR, name)

    # The console's script, styles and chunks go out compressed (chat/http/compressed.py).
    console_assets = AssetDirectory(STATIC_DIR / "console")

    @pages.get("/static/console/<name>")
    async def console_file(name: str) -> Response:
        found = await console_assets.get(name)
        if found is None:
            return await send_from_directory(STATIC_DIR / "console", name)
        asset, content_type = found
        cache = CONSOLE_CHUNK_CACHE if CONSOLE_CHUNK.match(name) else CONSOLE_CACHE
        return asset_response(asset, content_type, cache)

    return pages
