"""The retention sweep (chat/actors/retention.py) against the real Valkey and PostgreSQL: a quiet
space is trimmed by the sweep alone; a deleted space's keys are removed once its stream is
projected, and no projector brings them back; the dedupe records and the visitor's hash of a
real widget session expire by themselves with short windows."""

from __future__ import annotations

import uuid

import psycopg
import trio

from chat.actors.retention import RetentionState, sweep_once
from chat.config import Settings
from chat.db import space_queries
from chat.services import open_services
from chat.streams.log import StreamLog
from chat.streams.retention import REMOVED_MARKER_SECONDS, Retention
from tests.helpers.chat import make_org, widget
from tests.helpers.db import POLL_SECONDS, query
from tests.helpers.rows import make_org_rows
from tests.helpers.streams import visitor_says, wait_projected


async def _space_keys(stream_log: StreamLog, space_id: str) -> list[str]:
    pattern = stream_log.keys(space_id).base + "*"
    return sorted([str(k) async for k in stream_log.redis.scan_iter(match=pattern)])


async def _converse(stream_log: StreamLog, space_id: str, agent_id: str) -> str:
    """A visitor's messages, an agent's answer, a close, typing and a visitor update."""
    acks = await visitor_says(stream_log, space_id, ["hello", "anyone?"])
    thread = acks[0].thread_id
    await stream_log.do_post_message(
        space_id,
        sender_type="agent",
        sender_id=agent_id,
        sender_name="Ada",
        content="hi",
        client_id=str(uuid.uuid4()),
        thread_id=thread,
    )
    await stream_log.do_typing(space_id, thread, "agent", agent_id, True)
    await stream_log.do_change_thread(space_id, thread, "close", agent_id=agent_id)
    return thread


def _delete(database_url: str, organization_id: str, space_id: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert space_queries.delete_space(conn, organization_id, space_id)


async def test_the_sweep_trims_a_quiet_space(settings: Settings) -> None:
    with trio.fail_after(60):
        org = make_org_rows(settings.database_url)
        space = org.space.id
        async with open_services(settings) as services:
            log = services.stream_log
            acks = await visitor_says(log, space, ["a", "b"])
            await wait_projected(log, space)
            keys = log.keys(space)
            assert await log.redis.xlen(keys.events) == 3
            # The projector trims to its one-hour window; the sweep, told 0 s, alone trims now.
            state = RetentionState()
            await sweep_once(Retention(log), services.db, 0, state)
            assert await log.redis.xlen(keys.events) == 0
            assert await log.redis.xlen(keys.thread(acks[0].thread_id)) == 0
            assert state.trimmed == 6


async def test_a_deleted_space_leaves_no_keys(settings: Settings) -> None:
    # The router and the webhook ingest drop a deleted space at their next look at the list of
    # live spaces (5 s); the sweep's grace (REMOVAL_GRACE_SECONDS) waits for that in production,
    # and this test, removing at once, runs without them.
    quiet = settings.model_copy(update={"router_enabled": False, "webhooks_enabled": False})
    with trio.fail_after(60):
        org = make_org_rows(settings.database_url)
        space = org.space.id
        async with open_services(quiet) as services:
            log = services.stream_log
            await _converse(log, space, org.agents[0].id)
            await wait_projected(log, space)
            assert len(await _space_keys(log, space)) > 5
            await trio.to_thread.run_sync(_delete, settings.database_url, org.id, space)
            state = RetentionState()
            await sweep_once(Retention(log), services.db, 3600, state, removal_grace_seconds=0)
            assert state.spaces_removed == 1
            marker = log.keys(space).base + "removed"
            assert await _space_keys(log, space) == [marker]
            assert 0 < await log.redis.ttl(marker) <= REMOVED_MARKER_SECONDS
            removed_at = query(
                settings.database_url, "SELECT keys_removed_at FROM spaces WHERE id = %s", (space,)
            )
            assert removed_at[0][0] is not None
            # The projector lets the space go at its next look at the list, without
            # recreating its stream or its group.
            while space in services.projector.spaces:
                await trio.sleep(POLL_SECONDS)
            assert await _space_keys(log, space) == [marker]


async def test_a_deleted_space_keeps_its_keys_until_projected(settings: Settings) -> None:
    with trio.fail_after(60):
        org = make_org_rows(settings.database_url)
        space = org.space.id
        async with open_services(settings, projector=False) as services:
            log = services.stream_log
            await visitor_says(log, space, ["written while no projector ran"])
            await trio.to_thread.run_sync(_delete, settings.database_url, org.id, space)
            state = RetentionState()
            await sweep_once(Retention(log), services.db, 0, state, removal_grace_seconds=0)
            assert state.spaces_removed == 0
            assert await log.redis.xlen(log.keys(space).events) == 2
        # A projector follows the deleted space until it is projected; then its keys go.
        async with open_services(settings) as services:
            log = services.stream_log
            count = "SELECT count(*) FROM messages"
            while query(settings.database_url, count, ())[0][0] == 0:
                await trio.sleep(POLL_SECONDS)
            await wait_projected(log, space)
            await sweep_once(Retention(log), services.db, 0, state, removal_grace_seconds=0)
            assert state.spaces_removed == 1
            assert await _space_keys(log, space) == [log.keys(space).base + "removed"]


async def test_dedupe_records_and_the_visitor_hash_expire_with_short_windows(
    settings: Settings, nursery: trio.Nursery
) -> None:
    from chat.server import serve

    short = settings.model_copy(
        update={"resume_window_seconds": 1, "visitor_active_ttl_seconds": 2}
    )
    binds = await nursery.start(serve, short, "127.0.0.1", 0)
    with trio.fail_after(60):
        # A visitor who wrote is kept twice the thread TTL at least (its open thread's pointer
        # must outlive the thread): the shortest a space allows, 10 s, makes it 20 s.
        org = await make_org(str(binds[0]), settings={"thread_ttl_seconds": 10})
        async with widget(org) as (client, welcome):
            ack = await client.say("hello", client_id="c1")
            assert (await client.say("hello", client_id="c1"))["id"] == ack["id"]
            visitor_id = welcome["visitor"]["id"]
            async with open_services(short, projector=False) as services:
                log = services.stream_log
                keys = log.keys(org.space["id"])
                assert 0 < await log.redis.ttl(keys.visitor(visitor_id)) <= 20
                pattern = f"{keys.base}cid:{visitor_id}*"

                async def dedupe_keys() -> list[str]:
                    return [str(k) async for k in log.redis.scan_iter(match=pattern)]

                assert await dedupe_keys()
                # Nothing refreshes them while the visitor stays quiet: both go by themselves.
                while await dedupe_keys() or await log.redis.exists([keys.visitor(visitor_id)]):
                    await trio.sleep(POLL_SECONDS)
            # A resend now is outside the window: stored again, under a new id.
            assert (await client.say("hello", client_id="c1"))["id"] != ack["id"]
