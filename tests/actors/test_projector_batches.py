"""The projector's batches (chat/actors/projector.py) against the real Valkey and PostgreSQL:
a batch of mixed entries is one write, replaying it adds nothing, and an entry PostgreSQL refuses
is set aside without holding back the entries around it.

tests/actors/test_projector.py has the end-to-end cases (a projector killed mid-batch, a poison
entry next to a live session)."""

from __future__ import annotations

import uuid

import trio

from chat.actors.projector import ProjectorState, run_projector
from chat.config import Settings
from chat.db.pool import open_database
from chat.streams import groups
from chat.streams.keys import PROJECTOR_GROUP
from chat.streams.log import StreamLog
from tests.helpers.db import create_space, query
from tests.helpers.streams import append_poison, visitor_says, wait_projected


async def project_all(stream_log: StreamLog, settings: Settings, space_id: str) -> ProjectorState:
    """Run one projector until every entry of the space is acked; what it counted."""
    state = ProjectorState()
    await groups.ensure_group(stream_log, space_id)  # as the projector will: lag is then known
    async with (
        open_database(settings.database_url, settings.db_pool_size) as db,
        trio.open_nursery() as nursery,
    ):
        await nursery.start(run_projector, stream_log, db, settings, state)
        await wait_projected(stream_log, space_id)
        nursery.cancel_scope.cancel()
    return state


def rows(settings: Settings, sql: str, *params: object) -> list[tuple[object, ...]]:
    return query(settings.database_url, sql, params)


async def test_a_mixed_batch_is_one_write_and_a_replay_adds_nothing(
    settings: Settings, stream_log: StreamLog
) -> None:
    with trio.fail_after(60):
        space = await trio.to_thread.run_sync(create_space, settings.database_url)
        vera, agent = str(uuid.uuid4()), str(uuid.uuid4())
        acks = await visitor_says(stream_log, space, ["hello", "anyone?"], visitor=vera)
        thread = acks[0].thread_id
        await stream_log.do_typing(space, thread, "agent", agent, True)  # not kept
        await stream_log.do_change_thread(space, thread, "claim", agent_id=agent)
        await stream_log.do_update_visitor(space, vera, {"name": "Vera"})
        await stream_log.do_change_thread(space, thread, "close", agent_id=agent)

        state = await project_all(stream_log, settings, space)
        assert (state.batches, state.rows_projected) == (1, 2)  # everything in one write
        stored = rows(
            settings,
            "SELECT id_ms || '-' || id_seq, content FROM messages WHERE thread_id = %s"
            " ORDER BY id_ms, id_seq",
            thread,
        )
        assert stored == [(a.id, c) for a, c in zip(acks, ["hello", "anyone?"], strict=True)]
        final = "SELECT status, assigned_agent_id::text, closed_at IS NOT NULL FROM threads"
        assert rows(settings, final) == [("closed", agent, True)]
        assert rows(settings, "SELECT id::text, name FROM visitors") == [(vera, "Vera")]

        # The group lost (a restore, an operator's mistake): a new projector reads every entry
        # again from the start of the stream, and finds every row written already.
        await stream_log.redis.xgroup_destroy(stream_log.keys(space).events, PROJECTOR_GROUP)
        again = await project_all(stream_log, settings, space)
        assert again.batches == 1
        assert rows(settings, "SELECT count(*) FROM messages") == [(2,)]
        assert rows(settings, final) == [("closed", agent, True)]  # not reopened by its opening
        assert rows(settings, "SELECT id::text, name FROM visitors") == [(vera, "Vera")]


async def test_a_refused_entry_is_dead_lettered_and_its_batch_still_lands(
    settings: Settings, stream_log: StreamLog
) -> None:
    with trio.fail_after(60):
        space = await trio.to_thread.run_sync(create_space, settings.database_url)
        events = stream_log.keys(space).events
        before = await visitor_says(stream_log, space, ["before"])
        poison_id = await append_poison(stream_log, space)
        # Not decodable by this version (a kind from a newer one): dead-lettered, then acked.
        unknown_id = await stream_log.redis.xadd(events, {"t": "thread.renamed", "d": "{}"})
        after = await visitor_says(stream_log, space, ["after"])

        state = await project_all(stream_log, settings, space)
        assert (state.batches, state.rows_projected) == (1, 2)
        stored = rows(settings, "SELECT id_ms || '-' || id_seq FROM messages ORDER BY 1")
        assert stored == sorted([(before[0].id,), (after[0].id,)])
        assert rows(settings, "SELECT count(*) FROM threads") == [(2,)]
        dead = await stream_log.redis.xrange(stream_log.keys(space).dead_letters, "-", "+")
        assert [d.field_values["entry"] for d in dead] == [str(unknown_id), poison_id]
        assert "unknown event kind" in dead[0].field_values["reason"]
        assert "not-a-uuid" in dead[1].field_values["d"]
        assert dead[1].field_values["reason"]
