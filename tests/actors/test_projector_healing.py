"""The projector heals and never drops: a lost consumer group, an entry from a newer version, and
its own pending entries after an outage (issue 15, items 9, 10 and 17)."""

from __future__ import annotations

import orjson
import psycopg
import trio

from chat.config import Settings
from chat.streams.client import open_redis
from chat.streams.keys import PROJECTOR_GROUP, WEBHOOKS_GROUP
from chat.streams.log import StreamLog
from tests.helpers.chat import Org, make_org, widget
from tests.helpers.db import query, wait_for_rows
from tests.helpers.http import call
from tests.helpers.streams import wait_projected

MESSAGES_SQL = "SELECT count(*) FROM messages WHERE thread_id = %s"
# These tests send messages as fast as acks come back.
UNTHROTTLED = {"visitor_messages_per_second": 100, "visitor_burst": 100}


async def _second_space(org: Org) -> Org:
    reply = await call(
        "POST",
        f"{org.base}/api/v1/spaces",
        {"name": "Other", "allowed_domains": ["shop.example.com"], "settings": UNTHROTTLED},
        token=org.token,
    )
    assert reply.status == 201, reply.body
    return Org(org.base, org.token, org.agent, reply.body)


async def test_a_deleted_space_stream_heals_while_other_spaces_keep_projecting(
    base_url: str, settings: Settings
) -> None:
    """Deleting one space's events stream (as FLUSHALL or an older backup does) took the group
    with it; every XREADGROUP then failed with NOGROUP, for every space, until a restart."""
    with trio.fail_after(60):
        lost = await make_org(base_url, settings=UNTHROTTLED)
        other = await _second_space(lost)
        async with open_redis(settings.redis_url) as redis:
            stream_log = StreamLog(redis, settings.key_prefix, "written")
            async with widget(lost) as (in_lost, _), widget(other) as (in_other, _):
                before = await in_other.say("before")
                await wait_for_rows(settings.database_url, MESSAGES_SQL, (before["thread_id"],), 1)
                assert await redis.delete([stream_log.keys(lost.space["id"]).events]) == 1
                # The script recreates the stream with this append, without the group.
                lost_ack = await in_lost.say("after the loss")
                for n in range(5):
                    await in_other.say(f"other {n}")
            await wait_for_rows(settings.database_url, MESSAGES_SQL, (before["thread_id"],), 6)
            await wait_for_rows(settings.database_url, MESSAGES_SQL, (lost_ack["thread_id"],), 1)
            groups = await redis.xinfo_groups(stream_log.keys(lost.space["id"]).events)
            # The webhook ingest heals its own group too, on its own time
            # (chat/actors/webhook_ingest.py).
            names = {g["name"] for g in groups}
            assert PROJECTOR_GROUP in names and names <= {PROJECTOR_GROUP, WEBHOOKS_GROUP}


async def test_an_entry_with_a_field_from_a_newer_version_is_projected(
    base_url: str, settings: Settings
) -> None:
    """An unknown field was undecodable: the entry was acked and skipped, never projected."""
    with trio.fail_after(60):
        org = await make_org(base_url)
        async with widget(org) as (visitor, _):
            ack = await visitor.say("opens the thread")
        async with open_redis(settings.redis_url) as redis:
            stream_log = StreamLog(redis, settings.key_prefix, "written")
            newer = {
                "thread_id": ack["thread_id"],
                "sender_type": "agent",
                "sender_id": "a-newer-agent",
                "sender_name": "N",
                "content": "from a newer version",
                "client_id": "newer-1",
                "format": "markdown",  # a field this version does not know
            }
            await redis.xadd(
                stream_log.keys(org.space["id"]).events,
                {"t": "message", "d": orjson.dumps(newer).decode()},
            )
        await wait_for_rows(settings.database_url, MESSAGES_SQL, (ack["thread_id"],), 2)
        rows = query(
            settings.database_url,
            "SELECT content FROM messages WHERE client_id = 'newer-1'",
        )
        assert rows == [("from a newer version",)]


async def test_an_entry_of_an_unknown_kind_is_dead_lettered_not_dropped(
    base_url: str, settings: Settings
) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        async with open_redis(settings.redis_url) as redis:
            stream_log = StreamLog(redis, settings.key_prefix, "written")
            keys = stream_log.keys(org.space["id"])
            unknown_id = await redis.xadd(keys.events, {"t": "thread.snoozed", "d": "{}"})
            async with widget(org) as (visitor, _):
                ack = await visitor.say("projected behind it")
            await wait_for_rows(settings.database_url, MESSAGES_SQL, (ack["thread_id"],), 1)
            dead = await redis.xrange(keys.dead_letters, "-", "+")
            assert [(d.field_values["entry"], d.field_values["t"]) for d in dead] == [
                (str(unknown_id), "thread.snoozed")
            ]
            assert "unknown event kind" in dead[0].field_values["reason"]
            await wait_projected(stream_log, org.space["id"])  # acked once set aside


def _kill_projector_connections(url: str) -> int:
    """End every other connection to the test's database: the server's pooled ones included."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
        assert row is not None
        return int(row[0])


async def test_after_a_database_error_its_own_pending_entries_are_projected_at_once(
    settings: Settings, nursery: trio.Nursery
) -> None:
    """Pending entries used to wait for the reclaim idle time (30 s by default) after an error.
    With a reclaim idle time of 10 minutes, they must still land within seconds."""
    from chat.server import serve

    # 21 messages within a second once the first is projected (at once, now that a new space is
    # followed through the control stream): past the default flood guard of 20 frames a second.
    slow_reclaim = settings.model_copy(
        update={"projector_claim_idle_seconds": 600.0, "flood_frames_per_second": 100}
    )
    binds = await nursery.start(serve, slow_reclaim, "127.0.0.1", 0)
    base = str(binds[0])
    with trio.fail_after(60):
        org = await make_org(base, settings=UNTHROTTLED)
        async with widget(org) as (visitor, _):
            first = await visitor.say("first")
            await wait_for_rows(settings.database_url, MESSAGES_SQL, (first["thread_id"],), 1)
            # Broken connections make the next batch's write fail (an OperationalError); the
            # pool replaces them, and the batch must come back from this consumer's own PEL.
            assert _kill_projector_connections(settings.database_url) >= 1
            for n in range(20):
                await visitor.say(f"after the fault {n}")
        await wait_for_rows(
            settings.database_url, MESSAGES_SQL, (first["thread_id"],), 21, timeout=20
        )
