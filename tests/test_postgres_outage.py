"""A PostgreSQL outage: new visitors of a known space connect and chat within a second (their
space is cached, chat/actors/space_cache.py), /readyz says so within a second (the breaker,
chat/db/breaker.py), and what was said during it reaches PostgreSQL once it is back."""

from __future__ import annotations

import logging

import trio

from chat.config import Settings
from chat.embedded.services import EmbeddedServices
from chat.server import serve
from tests.helpers.chat import make_org, widget
from tests.helpers.db import database_down, wait_for_messages
from tests.helpers.http import call

logger = logging.getLogger(__name__)

FAST = 1.0  # the brief: handshake + ack, and /readyz, within a second during the outage


async def test_visitors_connect_and_chat_while_postgresql_is_down(
    settings: Settings, embedded: EmbeddedServices, nursery: trio.Nursery
) -> None:
    with trio.fail_after(90):
        binds = await nursery.start(serve, settings, "127.0.0.1", 0)
        base = str(binds[0])
        org = await make_org(base)
        async with widget(org) as (first, _):  # the space is seen once before the outage
            await first.say("before")
        async with database_down(embedded.database_url, settings.database_url):
            started = trio.current_time()
            with trio.fail_after(FAST):
                ready = await call("GET", f"{base}/readyz")
            logger.warning("/readyz answered in %.3f s", trio.current_time() - started)
            assert ready.status == 503 and "postgresql" in ready.body["failing"]
            for attempt in range(3):  # breaker closed, opening, open: each within the second
                started = trio.current_time()
                with trio.fail_after(FAST):
                    async with widget(org) as (visitor, _):
                        ack = await visitor.say(f"during the outage {attempt}")
                logger.warning(
                    "handshake + ack %d answered in %.3f s", attempt, trio.current_time() - started
                )
            with trio.fail_after(FAST):
                config = await call(
                    "GET",
                    f"{base}/api/v1/widget/{org.space['widget_key']}/config",
                    origin="https://shop.example.com",
                )
            assert config.status == 200
        # PostgreSQL is back: the last visitor's message is projected.
        await wait_for_messages(settings.database_url, ack["thread_id"], 1, timeout=30)
        with trio.fail_after(30):
            while (await call("GET", f"{base}/readyz")).status != 200:
                await trio.sleep(0.2)
