"""Visitor context (structures.md, "Visitor context"): the host page's attributes through
ChatWidget.identify (bounded, unverified), the pages the visitor visited with times, locale,
time zone, browser and OS, for agents only (GET /visitors/{id}); tenancy is a 404."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import trio
from trio_websocket import open_websocket_url

from chat.config import Settings
from tests.helpers.api import assert_error
from tests.helpers.chat import ORIGIN, Client, Org, make_org
from tests.helpers.db import wait_for_rows
from tests.helpers.http import call

CHROME_ON_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/120.0.0.0 Safari/537.36"
)


@asynccontextmanager
async def browser_widget(org: Org) -> AsyncIterator[tuple[Client, dict[str, Any]]]:
    """A widget socket whose handshake names a browser, as a real one does."""
    url = f"{org.ws_base}/ws/widget?key={org.space['widget_key']}"
    headers = [("Origin", ORIGIN), ("User-Agent", CHROME_ON_WINDOWS)]
    async with open_websocket_url(url, extra_headers=headers) as ws:
        client = Client(ws)
        yield client, await client.expect("welcome")


async def test_agents_see_the_visitors_context(base_url: str, settings: Settings) -> None:
    with trio.fail_after(40):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        async with browser_widget(org) as (visitor, welcome):
            visitor_id = welcome["visitor"]["id"]
            page = {"type": "page", "locale": "fr-FR", "timezone": "Europe/Paris"}
            await visitor.send({**page, "url": "https://shop.example.com/", "title": "Home"})
            attributes = {"plan": "pro", "seats": 12, "trial": False, "ltv": 99.5, "note": None}
            await visitor.send(
                {
                    "type": "identify",
                    "name": "Vera",
                    "email": "v@example.com",
                    "attributes": attributes,
                }
            )
            await visitor.say("hello")  # stores the page the visitor writes from at once
            await visitor.send({**page, "url": "https://shop.example.com/cart", "title": "Cart"})
            await wait_for_rows(
                settings.database_url,
                "SELECT count(*) FROM visitor_pages WHERE visitor_id = %s",
                (visitor_id,),
                2,
            )
            await wait_for_rows(
                settings.database_url,
                "SELECT count(*) FROM visitors WHERE id = %s AND attributes IS NOT NULL",
                (visitor_id,),
                1,
            )
            found = await call("GET", f"{api}/visitors/{visitor_id}", token=org.token)
            assert found.status == 200, found.body
            context = found.body["context"]
            assert context["attributes"] == attributes
            assert context["verified"] is False
            assert context["locale"] == "fr-FR" and context["timezone"] == "Europe/Paris"
            assert context["browser"] == "Chrome 120" and context["os"] == "Windows 10"
            assert [p["url"] for p in context["pages"]] == [
                "https://shop.example.com/cart",
                "https://shop.example.com/",
            ]
            assert [p["title"] for p in context["pages"]] == ["Cart", "Home"]
            assert all(p["at"] for p in context["pages"])
            assert len(found.body["threads"]) == 1  # previous conversations: this one
            # An identify without attributes keeps them; one with an empty set clears them.
            await visitor.send({"type": "identify", "name": "Vera B."})
            await visitor.send({"type": "identify", "attributes": {}})
            await wait_for_rows(
                settings.database_url,
                "SELECT count(*) FROM visitors WHERE id = %s AND attributes = '{}'::jsonb",
                (visitor_id,),
                1,
            )
            # Nothing of it comes back to the visitor but their own frames' answers.
            assert not any("plan" in str(f) for f in visitor.seen), visitor.seen
            stranger = await make_org(base_url)
            other = await call("GET", f"{api}/visitors/{visitor_id}", token=stranger.token)
            assert_error(other, 404, "not_found")


async def test_attribute_bounds_are_clear_errors(base_url: str) -> None:
    with trio.fail_after(40):
        org = await make_org(base_url)
        too_many = {f"k{n}": n for n in range(51)}
        long_key = {"k" * 65: 1}
        long_value = {"bio": "x" * 513}
        too_big = {f"k{n}": "x" * 500 for n in range(20)}  # 20 keys of 500: over 8 KB
        cases = [
            (too_many, "too_long", "50 keys"),
            (long_key, "too_long", "longer than 64"),
            (long_value, "too_long", "longer than 512"),
            (too_big, "too_long", "8192 bytes"),
            ({" ": 1}, "invalid", "empty"),
            ({"nested": {"a": 1}}, "invalid", "attributes"),
            ({"list": [1]}, "invalid", "attributes"),
        ]
        async with browser_widget(org) as (visitor, _):
            for attributes, code, says in cases:
                await visitor.send({"type": "identify", "attributes": attributes})
                error = await visitor.expect("error")
                assert error["code"] == code and says in error["message"], (attributes, error)
            # A refused frame spends no identify budget; within bounds: accepted silently.
            await visitor.send({"type": "identify", "attributes": {f"k{n}": n for n in range(50)}})
            await visitor.send({"type": "ping"})
            assert (await visitor.expect_any(("error", "pong")))["type"] == "pong"
