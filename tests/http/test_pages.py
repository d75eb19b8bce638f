"""The demo pages (`/` with the demo widget key, `/console`, files from chat/static) and the widget
bundle's URLs (`/widget.js`, `/widget.<hash>.js`)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import psycopg
import trio
from quart_trio import QuartTrio

from chat.config import Settings
from chat.db import accounts, space_queries
from chat.demo import DEMO_EMAIL, ensure_demo
from chat.http.errors import install_error_handlers
from chat.http.pages import CONTENT_SECURITY_POLICY
from chat.http.widget_assets import WIDGET_BUNDLE_PATH, widget_assets_blueprint
from tests.helpers.http import Reply, call


def _header(reply: Reply, name: str) -> str:
    found = {k.lower(): v for k, v in reply.headers.items()}
    return found.get(name.lower(), "")


def _demo_widget_key(settings: Settings) -> str:
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        agent = accounts.agent_by_email(conn, DEMO_EMAIL)
        assert agent is not None
        return space_queries.list_spaces(conn, agent.organization_id)[0].widget_key


async def test_demo_page_without_demo_org_says_to_use_demo(base_url: str) -> None:
    with trio.fail_after(30):
        reply = await call("GET", f"{base_url}/")
        assert reply.status == 200
        assert _header(reply, "Content-Type").startswith("text/html")
        assert "--demo" in reply.body
        assert "{{WIDGET_KEY}}" not in reply.body
        assert _header(reply, "Content-Security-Policy") == CONTENT_SECURITY_POLICY


async def test_demo_page_carries_the_demo_widget_key(base_url: str, settings: Settings) -> None:
    with trio.fail_after(30):
        # ensure_demo calls trio.run itself, so it runs on a worker thread.
        await trio.to_thread.run_sync(ensure_demo, settings, "127.0.0.1", 8000)
        key = await trio.to_thread.run_sync(_demo_widget_key, settings)
        reply = await call("GET", f"{base_url}/")
        assert reply.status == 200
        assert _header(reply, "Content-Type").startswith("text/html")
        assert f'data-widget-key="{key}"' in reply.body
        assert "{{WIDGET_KEY}}" not in reply.body
        # The real widget, embedded as any site does it: one async script tag.
        assert f'<script src="/widget.js" data-widget-key="{key}" async></script>' in reply.body
        assert "demo-widget.js" not in reply.body
        assert 'href="/console"' in reply.body
        assert _header(reply, "Content-Security-Policy") == CONTENT_SECURITY_POLICY


async def test_console_page(base_url: str) -> None:
    with trio.fail_after(30):
        reply = await call("GET", f"{base_url}/console")
        assert reply.status == 200
        assert _header(reply, "Content-Type").startswith("text/html")
        # An ES module: its chunks come by import(), same-origin, under script-src 'self'.
        assert '<script type="module" src="/static/console/console.js">' in reply.body
        assert _header(reply, "Content-Security-Policy") == CONTENT_SECURITY_POLICY


async def test_static_files_are_served(base_url: str) -> None:
    with trio.fail_after(30):
        console = await call("GET", f"{base_url}/static/console/console.js")
        assert console.status == 200
        assert "javascript" in _header(console, "Content-Type")
        css = await call("GET", f"{base_url}/static/demo.css")
        assert css.status == 200
        assert _header(css, "Content-Type").startswith("text/css")


async def test_only_files_in_the_static_folder_are_served(base_url: str) -> None:
    with trio.fail_after(30):
        for path in (
            "/static/../chat/config.py",
            "/static/..%2Fchat%2Fconfig.py",
            "/static/%2e%2e/config.py",
            "/static/../../pyproject.toml",
            "/static/nope.js",
            "/static/demo-widget.js",  # the stand-in the widget replaced
            "/static/widget/widget.js",  # the bundle is served at /widget.js only
            "/static/",
        ):
            reply = await call("GET", f"{base_url}{path}")
            assert reply.status == 404, (path, reply.status)
            assert "SECRET" not in str(reply.body)
            assert "Settings" not in str(reply.body)


# --- the widget bundle ------------------------------------------------------------------------

BUNDLE = b"/* a stand-in bundle */ window.ChatWidget = {};\n"
DIGEST = hashlib.sha256(BUNDLE).hexdigest()[:12]


def _assets_app(bundle_path: Path) -> QuartTrio:
    app = QuartTrio(__name__, static_folder=None)
    install_error_handlers(app)
    app.register_blueprint(widget_assets_blueprint(bundle_path))
    return app


async def test_widget_js_is_the_bundle_with_a_short_cache(tmp_path: Path) -> None:
    bundle = tmp_path / "widget.js"
    bundle.write_bytes(BUNDLE)
    client = _assets_app(bundle).test_client()
    with trio.fail_after(30):
        reply = await client.get("/widget.js")
        assert reply.status_code == 200
        assert await reply.get_data() == BUNDLE
        assert reply.headers["Content-Type"] == "text/javascript; charset=utf-8"
        assert reply.headers["Cache-Control"] == "public, max-age=300"
        assert reply.headers["X-Content-Type-Options"] == "nosniff"
        # A classic script tag needs no CORS; the bundle is not readable cross-origin by fetch.
        assert "Access-Control-Allow-Origin" not in reply.headers
        etag = reply.headers["ETag"]
        assert etag == f'"{hashlib.sha256(BUNDLE).hexdigest()}"'

        again = await client.get("/widget.js", headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert await again.get_data() == b""
        assert again.headers["ETag"] == etag
        assert again.headers["Cache-Control"] == "public, max-age=300"
        stale = await client.get("/widget.js", headers={"If-None-Match": '"0123"'})
        assert stale.status_code == 200


async def test_hashed_widget_url_is_immutable_and_only_for_the_current_hash(
    tmp_path: Path,
) -> None:
    bundle = tmp_path / "widget.js"
    bundle.write_bytes(BUNDLE)
    client = _assets_app(bundle).test_client()
    with trio.fail_after(30):
        reply = await client.get(f"/widget.{DIGEST}.js")
        assert reply.status_code == 200
        assert await reply.get_data() == BUNDLE
        assert reply.headers["Content-Type"] == "text/javascript; charset=utf-8"
        assert reply.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert reply.headers["X-Content-Type-Options"] == "nosniff"
        assert "Access-Control-Allow-Origin" not in reply.headers
        other = "0" * 12 if DIGEST != "0" * 12 else "1" * 12
        for path in (f"/widget.{other}.js", f"/widget.{DIGEST[:11]}.js", "/widget..js"):
            missing = await client.get(path)
            assert missing.status_code == 404, path
            assert (await missing.get_json())["error"]["code"] == "not_found"


async def test_the_hash_is_taken_once_at_start(tmp_path: Path) -> None:
    """A rebuild after start changes nothing served: the hashed URL keeps naming its bytes."""
    bundle = tmp_path / "widget.js"
    bundle.write_bytes(BUNDLE)
    client = _assets_app(bundle).test_client()
    bundle.write_bytes(b"/* rebuilt */")
    with trio.fail_after(30):
        assert await (await client.get("/widget.js")).get_data() == BUNDLE
        assert (await client.get(f"/widget.{DIGEST}.js")).status_code == 200


async def test_missing_bundle_is_503_with_the_fix(tmp_path: Path) -> None:
    client = _assets_app(tmp_path / "widget.js").test_client()
    with trio.fail_after(30):
        reply = await client.get("/widget.js")
        assert reply.status_code == 503
        error = (await reply.get_json())["error"]
        assert error["code"] == "unavailable"
        assert "make widget" in error["message"]
        assert (await client.get(f"/widget.{DIGEST}.js")).status_code == 404


async def test_the_app_serves_the_built_bundle(base_url: str) -> None:
    """create_app registers the routes over chat/static/widget/widget.js: its bytes when built
    (`make widget`), a 503 naming the fix when not."""
    with trio.fail_after(30):
        reply = await call("GET", f"{base_url}/widget.js")
        if not WIDGET_BUNDLE_PATH.exists():
            assert reply.status == 503
            assert "make widget" in reply.body["error"]["message"]
            return
        built = WIDGET_BUNDLE_PATH.read_bytes()
        assert reply.status == 200
        assert _header(reply, "Content-Type") == "text/javascript; charset=utf-8"
        assert reply.body == built.decode()
        digest = hashlib.sha256(built).hexdigest()[:12]
        hashed = await call("GET", f"{base_url}/widget.{digest}.js")
        assert hashed.status == 200
        assert hashed.body == built.decode()
