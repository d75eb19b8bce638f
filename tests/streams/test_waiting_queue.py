"""The waiting queue, idle close and reopening in the Lua scripts (chat/streams/lua.py,
chat/streams/lua_queue.py), against the real Valkey."""

from __future__ import annotations

import uuid

import pytest
import trio

from chat.clock import now_ms
from chat.errors import QueueFullError, VisitorBusyError
from chat.streams.log import Ack, StreamLog

SPACE = "s1"
IDLE_TEXT = "This conversation was closed after 1 second without a reply."


async def _visitor_says(
    log: StreamLog, visitor: str, *, max_open: int = 100, reopen: int = 3600, **extra: object
) -> Ack:
    return await log.do_post_message(
        SPACE,
        sender_type="visitor",
        sender_id=visitor,
        sender_name="V",
        content="hi",
        client_id=str(uuid.uuid4()),
        max_open_threads=max_open,
        reopen_window_seconds=reopen,
        **extra,  # type: ignore[arg-type]
    )


async def _agent_says(log: StreamLog, thread_id: str) -> None:
    await log.do_post_message(
        SPACE,
        sender_type="agent",
        sender_id="agent-1",
        sender_name="Ann",
        content="How can I help?",
        client_id=str(uuid.uuid4()),
        thread_id=thread_id,
    )


async def _waiting(log: StreamLog) -> list[str]:
    return [str(m) for m in await log.redis.zrange(log.keys(SPACE).waiting, 0, -1)]


async def _idle_close(log: StreamLog, thread_id: str) -> bool:
    """The sweeper's step, with a cutoff past every answer so far."""
    closed = await log.do_change_thread(
        SPACE, thread_id, "idle", expire_before_ms=now_ms() + 1, text=IDLE_TEXT
    )
    return closed is not None


async def test_the_cap_counts_waiting_threads_only(stream_log: StreamLog) -> None:
    with trio.fail_after(10):
        first = await _visitor_says(stream_log, "v1", max_open=2)
        await _visitor_says(stream_log, "v2", max_open=2)
        with pytest.raises(QueueFullError):
            await _visitor_says(stream_log, "v3", max_open=2)
        await stream_log.do_change_thread(SPACE, first.thread_id, "claim", agent_id="a1")
        third = await _visitor_says(stream_log, "v3", max_open=2)  # a claim freed a slot
        assert third.thread_id in await _waiting(stream_log)
        assert first.thread_id not in await _waiting(stream_log)
        with pytest.raises(QueueFullError):
            await _visitor_says(stream_log, "v4", max_open=2)
        # A lead passes the full queue and waits for an email, outside the live queue.
        lead = await _visitor_says(stream_log, "v4", max_open=2**31 - 1, channel="email")
        assert lead.thread_id not in await _waiting(stream_log)
        assert await stream_log.queue_position(SPACE, third.thread_id) == (2, 2)


async def test_a_space_from_before_the_queue_gets_it_built_once(stream_log: StreamLog) -> None:
    with trio.fail_after(10):
        first = await _visitor_says(stream_log, "v1", max_open=2)
        held = await _visitor_says(stream_log, "v2", max_open=2)
        await stream_log.do_change_thread(SPACE, held.thread_id, "claim", agent_id="a1")
        keys = stream_log.keys(SPACE)
        await stream_log.redis.delete([keys.waiting, keys.waiting + ":built"])  # as before
        third = await _visitor_says(stream_log, "v3", max_open=2)  # rebuilt: v1 waits, v2 held
        assert await _waiting(stream_log) == [first.thread_id, third.thread_id]
        with pytest.raises(QueueFullError):
            await _visitor_says(stream_log, "v4", max_open=2)


async def test_idle_close_posts_a_system_message_and_a_reply_reopens(
    stream_log: StreamLog,
) -> None:
    with trio.fail_after(10):
        ack = await _visitor_says(stream_log, "v1")
        thread = ack.thread_id
        await stream_log.do_change_thread(SPACE, thread, "claim", agent_id="agent-1")
        assert not await _idle_close(stream_log, thread)  # no agent answer yet: not idle
        await _agent_says(stream_log, thread)
        assert await _idle_close(stream_log, thread)
        entries = await stream_log.read_latest(stream_log.keys(SPACE).thread(thread), 2)
        system, closed = entries[0].event, entries[1].event
        assert system.type == "message" and system.sender_type == "system"  # type: ignore[union-attr]
        assert system.content == IDLE_TEXT  # type: ignore[union-attr]
        assert closed.type == "thread.closed" and closed.reason == "idle"  # type: ignore[union-attr]
        again = await _visitor_says(stream_log, "v1")
        assert again.thread_id == thread
        state = await stream_log.redis.hgetall(stream_log.keys(SPACE).thread_state(thread))
        assert state["status"] == "unassigned" and "closed" not in state
        assert state["previous_agent_id"] == "agent-1" and "assigned_agent_id" not in state
        assert await _waiting(stream_log) == [thread]
        last = await stream_log.read_latest(stream_log.keys(SPACE).thread(thread), 2)
        assert [e.event.type for e in last] == ["thread.reopened", "message"]


async def test_a_reply_before_the_idle_close_keeps_the_thread_open(stream_log: StreamLog) -> None:
    """The race of the sweeper and a reply: whichever script runs first wins, and the reply is
    never lost (it lands in the open thread, or reopens the closed one)."""
    with trio.fail_after(10):
        thread = (await _visitor_says(stream_log, "v1")).thread_id
        await _agent_says(stream_log, thread)
        cutoff = now_ms() + 1
        await _visitor_says(stream_log, "v1")  # the reply runs first
        closed = await stream_log.do_change_thread(
            SPACE, thread, "idle", expire_before_ms=cutoff, text=IDLE_TEXT
        )
        assert closed is None
        state = await stream_log.thread_state(SPACE, thread)
        assert state is not None and state.status == "unassigned"


async def test_concurrent_idle_close_and_reply_have_one_winner(stream_log: StreamLog) -> None:
    with trio.fail_after(20):
        for n in range(20):
            visitor = f"race-{n}"
            thread = (await _visitor_says(stream_log, visitor)).thread_id
            await _agent_says(stream_log, thread)
            outcome: dict[str, object] = {}

            async def close(thread: str = thread, outcome: dict[str, object] = outcome) -> None:
                outcome["closed"] = await _idle_close(stream_log, thread)

            async def reply(visitor: str = visitor, outcome: dict[str, object] = outcome) -> None:
                outcome["ack"] = await _visitor_says(stream_log, visitor)

            async with trio.open_nursery() as nursery:
                nursery.start_soon(close)
                nursery.start_soon(reply)
            ack = outcome["ack"]
            assert isinstance(ack, Ack) and ack.thread_id == thread  # same thread either way
            state = await stream_log.thread_state(SPACE, thread)
            assert state is not None and state.status == "unassigned"
            stream = stream_log.keys(SPACE).thread(thread)
            kinds = [e.event.type for e in await stream_log.read_range(stream, None, 100)]
            assert kinds[-1] == "message"  # the reply is the newest entry: never lost
            if outcome["closed"]:
                assert kinds[-3:] == ["thread.closed", "thread.reopened", "message"]


async def test_no_reopen_past_the_window(stream_log: StreamLog) -> None:
    with trio.fail_after(10):
        thread = (await _visitor_says(stream_log, "v1")).thread_id
        await stream_log.do_change_thread(SPACE, thread, "close", agent_id="a1")
        state_key = stream_log.keys(SPACE).thread_state(thread)
        await stream_log.redis.hset(state_key, {"closed": str(now_ms() - 7_200_000)})
        fresh = await _visitor_says(stream_log, "v1", reopen=3600)  # closed 2 h ago
        assert fresh.thread_id != thread
        await stream_log.do_change_thread(SPACE, fresh.thread_id, "close", agent_id="a1")
        never = await _visitor_says(stream_log, "v1", reopen=0)
        assert never.thread_id not in (thread, fresh.thread_id)


async def test_an_agent_reopens_and_holds_the_thread(stream_log: StreamLog) -> None:
    with trio.fail_after(10):
        thread = (await _visitor_says(stream_log, "v1")).thread_id
        await stream_log.do_change_thread(SPACE, thread, "close", agent_id="a1")
        reopened = await stream_log.do_change_thread(SPACE, thread, "reopen", agent_id="a2")
        assert reopened is not None and reopened.status == "active"
        assert reopened.assigned_agent_id == "a2" and reopened.closed is None
        assert thread not in await _waiting(stream_log)
        visitor = await stream_log.visitor(SPACE, "v1")
        assert visitor is not None and visitor.thread == thread
        again = await stream_log.do_change_thread(SPACE, thread, "reopen", agent_id="a2")
        assert again is not None and again.status == "active"  # open: answered as it is
        # The visitor opened another conversation since: the old one cannot reopen beside it.
        await stream_log.do_change_thread(SPACE, thread, "close", agent_id="a2")
        other = await _visitor_says(stream_log, "v1", reopen=0)
        with pytest.raises(VisitorBusyError):
            await stream_log.do_change_thread(SPACE, thread, "reopen", agent_id="a2")
        assert other.thread_id != thread


async def test_the_projectors_expiry_spares_a_reopened_thread(stream_log: StreamLog) -> None:
    """The projector may project a close after the thread reopened: its expiry re-checks."""
    with trio.fail_after(10):
        keys = stream_log.keys(SPACE)
        thread = (await _visitor_says(stream_log, "v1")).thread_id
        await stream_log.do_change_thread(SPACE, thread, "close", agent_id="a1")
        await _visitor_says(stream_log, "v1")  # reopens before the projector expires it
        await stream_log.expire_finished(SPACE, [thread], 60, 600)
        assert await stream_log.redis.ttl(keys.thread(thread)) == -1
        assert await stream_log.redis.ttl(keys.thread_state(thread)) == -1
        # The other order: expired once its close was projected, then reopened.
        await stream_log.do_change_thread(SPACE, thread, "close", agent_id="a1")
        await stream_log.expire_finished(SPACE, [thread], 60, 600)
        assert 0 < await stream_log.redis.ttl(keys.thread(thread)) <= 60
        assert 60 < await stream_log.redis.ttl(keys.thread_state(thread)) <= 600
        assert (await _visitor_says(stream_log, "v1")).thread_id == thread
        assert await stream_log.redis.ttl(keys.thread(thread)) == -1
        assert await stream_log.redis.ttl(keys.thread_state(thread)) == -1
