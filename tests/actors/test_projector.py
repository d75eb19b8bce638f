"""The projector: killed mid-batch, a new one finishes the work with no row twice."""

from __future__ import annotations

import uuid
from pathlib import Path

import trio

from chat.config import Settings
from chat.streams import groups
from chat.streams.client import open_redis
from chat.streams.log import StreamLog
from tests.conftest import ServerProcess, free_port
from tests.helpers.db import create_space, query, wait_for_messages, wait_for_rows
from tests.helpers.streams import append_poison, wait_projected

BACKLOG = 6000


async def _backlog(settings: Settings) -> tuple[str, str]:
    """A space with one thread holding BACKLOG messages, written straight to the log."""
    space_id = create_space(settings.database_url)
    async with open_redis(settings.redis_url) as redis:
        log = StreamLog(redis, settings.key_prefix, "written")
        await groups.ensure_group(log, space_id)
        first = await log.do_post_message(
            space_id,
            sender_type="visitor",
            sender_id=str(uuid.uuid4()),
            sender_name="V",
            content="hi",
            client_id="c0",
            max_open_threads=10,
        )
        agent_id = str(uuid.uuid4())
        async with redis.pipeline(transaction=False) as pipe:
            for n in range(1, BACKLOG):
                log._post_message(  # noqa: SLF001 - bulk load through the real script
                    keys=[log.keys(space_id).events],
                    args=[
                        log.keys(space_id).base,
                        "agent",
                        agent_id,
                        "A",
                        f"m{n}",
                        f"c{n}",
                        first.thread_id,
                        "",
                        "0",
                        "0",
                        "10",
                        space_id,
                        "3600",
                    ],
                    client=pipe,
                )
    return space_id, first.thread_id


async def test_projector_killed_mid_batch_loses_and_doubles_nothing(
    settings: Settings, server_processes: list[ServerProcess], tmp_path: Path
) -> None:
    with trio.fail_after(120):
        space_id, thread_id = await _backlog(settings)
        first = ServerProcess(settings, free_port())
        server_processes.append(first)
        await first.start("p1", tmp_path)
        # Kill it as soon as some, but not all, of the backlog is in PostgreSQL.
        await wait_for_rows(
            settings.database_url,
            "SELECT count(*) > 0 FROM messages WHERE thread_id = %s",
            (thread_id,),
            True,
            timeout=60,
        )
        first.kill()
        done = query(settings.database_url, "SELECT count(*) FROM messages")[0][0]
        assert 0 < done < BACKLOG, "the kill should land mid-way; raise BACKLOG if it did not"
        second = ServerProcess(settings, free_port())
        server_processes.append(second)
        await second.start("p2", tmp_path)
        await wait_for_messages(settings.database_url, thread_id, BACKLOG, timeout=60)
        distinct = query(settings.database_url, "SELECT count(DISTINCT client_id) FROM messages")[
            0
        ][0]
        assert distinct == BACKLOG
        async with open_redis(settings.redis_url) as redis:
            log = StreamLog(redis, settings.key_prefix, "written")
            await wait_projected(log, space_id)


async def test_an_entry_postgres_refuses_is_set_aside_and_the_rest_projected(
    base_url: str, settings: Settings
) -> None:
    """A poison entry must not stall its space: it goes to the `dead` stream, the rest lands."""
    from tests.helpers.chat import make_org, widget

    with trio.fail_after(60):
        org = await make_org(base_url)
        space_id = org.space["id"]
        async with open_redis(settings.redis_url) as redis:
            log = StreamLog(redis, settings.key_prefix, "written")
            await append_poison(log, space_id)
            async with widget(org) as (visitor, _):
                ack = await visitor.say("still projected")
            await wait_for_messages(settings.database_url, ack["thread_id"], 1)
            dead = await redis.xrange(log.keys(space_id).dead_letters, "-", "+")
            assert len(dead) == 1 and dead[0].field_values["entry"]
            assert "not-a-uuid" in dead[0].field_values["d"]
            await wait_projected(log, space_id)
