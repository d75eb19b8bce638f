"""A thread's last activity time orders its copies (chat/streams/lua.py, `touch`): every change of
the thread's state moves it forward, so of two copies the later time is the later state. The
console keeps the copy with the later time and, at the same millisecond, the further status
(console/src/threads.ts): a step back in status (a bot's handover, a requeue, a reopen) that
tied with the step before it was dropped there, and the conversation stayed in the wrong list.

The steps run back to back against the real Valkey, many in the same millisecond, and the
router's steps, which are not activity, tied every time before."""

from __future__ import annotations

import uuid
from typing import Literal

import trio

from chat.clock import now_ms
from chat.events import ThreadSnapshot
from chat.streams.log import StreamLog
from chat.streams.routing import Reservation, RoutingLog

SPACE = "s1"
BOT = "bot-1"
ROUNDS = 20
# A reservation guard so wide it never refuses (tests/routing/test_stall_guard.py).
NO_GUARD_MS = 10**9


async def _say(
    log: StreamLog, sender_type: Literal["visitor", "agent"], sender_id: str, thread_id: str = ""
) -> str:
    ack = await log.do_post_message(
        SPACE,
        sender_type=sender_type,
        sender_id=sender_id,
        sender_name=sender_id,
        content="hello",
        client_id=str(uuid.uuid4()),
        thread_id=thread_id,
        max_open_threads=100,
        bot_id=BOT,
        bot_name="Shopbot",
    )
    return ack.thread_id


async def _last(log: StreamLog, thread_id: str) -> int:
    return int(await log.redis.hget(log.keys(SPACE).thread_state(thread_id), "last") or 0)


def _strictly_later(copies: list[ThreadSnapshot]) -> list[tuple[str, int]]:
    """The copies that do not come after the one before them (none, when times order them)."""
    return [
        (later.status, later.last)
        for earlier, later in zip(copies, copies[1:], strict=False)
        if later.last <= earlier.last
    ]


async def test_each_change_of_a_conversation_comes_at_a_later_time(stream_log: StreamLog) -> None:
    routing = RoutingLog(stream_log.redis, stream_log.prefix)
    copies: list[ThreadSnapshot] = []

    def keep(copy: ThreadSnapshot | str | None) -> None:
        assert isinstance(copy, ThreadSnapshot), copy
        copies.append(copy)

    with trio.fail_after(20):
        for _ in range(ROUNDS):
            visitor = f"v-{uuid.uuid4()}"
            thread_id = await _say(stream_log, "visitor", visitor)  # the bot holds it
            last = await _last(stream_log, thread_id)
            copies.clear()
            # The bot answers and hands over at once (the rules bot's last turn).
            await _say(stream_log, "agent", BOT, thread_id)
            assert await _last(stream_log, thread_id) >= last  # a message never moves it back
            keep(await stream_log.bots.do_handover(SPACE, thread_id, reason="visitor_asked"))
            # The router gives it to an agent who never answers, and takes it back.
            reservation = Reservation(added=True, at_ms=now_ms())
            keep(
                await routing.assign(
                    SPACE, thread_id, "a1", "round_robin", "A", reservation, NO_GUARD_MS
                )
            )
            keep(await routing.requeue(SPACE, thread_id, "a1", "no_reply"))
            # A person claims it, answers, closes and reopens it, passes it on; it is closed.
            keep(await stream_log.do_change_thread(SPACE, thread_id, "claim", agent_id="a2"))
            await _say(stream_log, "agent", "a2", thread_id)
            keep(await stream_log.do_change_thread(SPACE, thread_id, "close", agent_id="a2"))
            keep(await stream_log.do_change_thread(SPACE, thread_id, "reopen", agent_id="a2"))
            keep(
                await stream_log.do_change_thread(
                    SPACE, thread_id, "transfer", agent_id="a2", target_agent_id="a3"
                )
            )
            keep(await stream_log.do_change_thread(SPACE, thread_id, "close", agent_id="a3"))
            assert [c.status for c in copies] == [
                "unassigned",
                "active",
                "unassigned",
                "active",
                "closed",
                "active",
                "active",
                "closed",
            ]
            assert _strictly_later(copies) == []
            assert await _last(stream_log, thread_id) == copies[-1].last
