"""The plain demo pages: `/` with the demo widget key, `/console`, and files from chat/static."""

from __future__ import annotations

import psycopg
import trio

from chat.config import Settings
from chat.db import accounts
from chat.db import spaces as space_queries
from chat.demo import DEMO_EMAIL, ensure_demo
from chat.http.pages import CONTENT_SECURITY_POLICY
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
        assert 'src="/static/demo-widget.js"' in reply.body
        assert 'href="/console"' in reply.body
        assert _header(reply, "Content-Security-Policy") == CONTENT_SECURITY_POLICY


async def test_console_page(base_url: str) -> None:
    with trio.fail_after(30):
        reply = await call("GET", f"{base_url}/console")
        assert reply.status == 200
        assert _header(reply, "Content-Type").startswith("text/html")
        assert 'src="/static/console.js"' in reply.body
        assert _header(reply, "Content-Security-Policy") == CONTENT_SECURITY_POLICY


async def test_static_files_are_served(base_url: str) -> None:
    with trio.fail_after(30):
        script = await call("GET", f"{base_url}/static/demo-widget.js")
        assert script.status == 200
        assert "javascript" in _header(script, "Content-Type")
        assert "/ws/widget" in script.body
        console = await call("GET", f"{base_url}/static/console.js")
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
            "/static/",
        ):
            reply = await call("GET", f"{base_url}{path}")
            assert reply.status == 404, (path, reply.status)
            assert "SECRET" not in str(reply.body)
            assert "Settings" not in str(reply.body)
