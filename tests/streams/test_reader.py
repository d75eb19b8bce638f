"""The stream router and reader (chat/streams/reader.py): each entry reaches exactly the
subscriptions that match it by space, kind or route; a full subscription is cut off alone.

StreamRouter.deliver is a pure function of the entries it is handed, so most tests drive it
directly; subscribing (which reads a position and wakes the reader) and run_stream_reader itself
run against the real Valkey."""

from __future__ import annotations

import uuid

import orjson
import pytest
import trio

from chat.events import LogEntry, MessagePosted
from chat.ids import id_key
from chat.streams.log import StreamLog
from chat.streams.reader import SUBSCRIPTION_BUFFER, StreamRouter, Subscription, run_stream_reader
from tests.helpers.streams import (
    message,
    opened,
    presence,
    typing,
    visitor_says,
)

SPACE, OTHER_SPACE = str(uuid.uuid4()), str(uuid.uuid4())
THREAD, OTHER_THREAD = "thread-a", "thread-b"


@pytest.fixture
def router(stream_log: StreamLog) -> StreamRouter:
    return StreamRouter(stream_log, node_id="n1")


def drain(sub: Subscription) -> list[str]:
    """The ids waiting in a subscription, without waiting."""
    ids = []
    while True:
        try:
            ids.append(sub.receive.receive_nowait().id)
        except (trio.WouldBlock, trio.EndOfChannel):
            return ids


def is_closed(sub: Subscription) -> bool:
    """Whether the router has let go of this subscription (its channel ends after what waits)."""
    drain(sub)
    try:
        sub.receive.receive_nowait()
    except trio.EndOfChannel:
        return True
    except trio.WouldBlock:
        return False
    raise AssertionError("drained, yet an entry came")


async def test_an_entry_reaches_exactly_the_subscriptions_it_matches(router: StreamRouter) -> None:
    with trio.fail_after(10):
        space = await router.subscribe(SPACE)
        messages = await router.subscribe(SPACE, kind="message")
        typings = await router.subscribe(SPACE, kind="typing")
        thread = await router.subscribe(SPACE, route=THREAD)
        other_thread = await router.subscribe(SPACE, route=OTHER_THREAD)
        visitor = await router.subscribe(SPACE, route="v:vera")
        elsewhere = await router.subscribe(OTHER_SPACE)
    router.deliver(
        SPACE,
        [
            message("1-1", THREAD),
            typing("1-2", OTHER_THREAD),
            opened("1-3", SPACE, THREAD, "vera"),
            presence("1-4"),
            message("1-5", OTHER_THREAD),
        ],
    )
    assert drain(space) == ["1-1", "1-2", "1-3", "1-4", "1-5"]
    assert drain(messages) == ["1-1", "1-5"]
    assert drain(typings) == ["1-2"]
    assert drain(thread) == ["1-1", "1-3"]
    assert drain(other_thread) == ["1-2", "1-5"]
    assert drain(visitor) == ["1-3"]
    assert drain(elsewhere) == []
    assert router.positions[SPACE] == "1-5"


async def test_each_subscription_of_a_route_gets_its_own_copy(router: StreamRouter) -> None:
    with trio.fail_after(10):
        first = await router.subscribe(SPACE, route=THREAD)
        second = await router.subscribe(SPACE, route=THREAD)
    router.deliver(SPACE, [message("1-1", THREAD), message("1-2", THREAD)])
    assert drain(first) == drain(second) == ["1-1", "1-2"]


async def test_a_full_subscription_is_marked_overflowed_and_dropped_alone(
    router: StreamRouter,
) -> None:
    with trio.fail_after(10):
        slow = await router.subscribe(SPACE, route=THREAD)
        fast = await router.subscribe(SPACE, route=THREAD)
        space = await router.subscribe(SPACE)
    first = [message(f"1-{n}", THREAD) for n in range(SUBSCRIPTION_BUFFER)]
    router.deliver(SPACE, first)  # fills every buffer to the brim
    assert len(drain(fast)) == len(drain(space)) == SUBSCRIPTION_BUFFER
    router.deliver(SPACE, [message("2-0", THREAD), message("2-1", THREAD)])
    assert slow.overflowed
    assert [e.id for e in [slow.receive.receive_nowait() for _ in first]] == [e.id for e in first]
    assert is_closed(slow)  # and nothing after what it held: it catches up from the log
    assert drain(fast) == drain(space) == ["2-0", "2-1"]
    assert not fast.overflowed and not space.overflowed
    router.deliver(SPACE, [message("2-2", THREAD)])
    assert drain(fast) == ["2-2"]


async def test_a_subscription_whose_consumer_left_is_dropped_quietly(
    router: StreamRouter,
) -> None:
    with trio.fail_after(10):
        gone = await router.subscribe(SPACE, kind="message")
        staying = await router.subscribe(SPACE, kind="message")
    gone.receive.close()
    router.deliver(SPACE, [message("1-1", THREAD)])
    assert not gone.overflowed
    assert drain(staying) == ["1-1"]
    router.unsubscribe(staying)
    assert SPACE not in router.positions  # `gone` no longer counted as a follower


async def test_unsubscribe_stops_delivery_and_the_last_one_unfollows_the_space(
    router: StreamRouter,
) -> None:
    with trio.fail_after(10):
        leaving = await router.subscribe(SPACE, route=THREAD)
        staying = await router.subscribe(SPACE)
    router.deliver(SPACE, [message("1-1", THREAD)])
    router.unsubscribe(leaving)
    router.unsubscribe(leaving)  # twice is harmless
    router.deliver(SPACE, [message("1-2", THREAD)])
    assert drain(leaving) == ["1-1"] and is_closed(leaving)
    assert drain(staying) == ["1-1", "1-2"]
    assert SPACE in router.positions
    router.unsubscribe(staying)
    assert SPACE not in router.positions  # the reader stops reading its stream
    assert is_closed(staying)


async def test_subscribing_to_a_new_space_starts_from_its_last_entry(
    router: StreamRouter, stream_log: StreamLog
) -> None:
    with trio.fail_after(10):
        acks = await visitor_says(stream_log, SPACE, ["before"])
        await router.subscribe(SPACE)
        assert router.positions[SPACE] == acks[-1].id
        first_wake = await stream_log.last_id(router.wake_key)
        await router.subscribe(OTHER_SPACE)  # an empty (missing) stream
        assert router.positions[OTHER_SPACE] == "0-0"
        second_wake = await stream_log.last_id(router.wake_key)
        assert id_key(second_wake) > id_key(first_wake) > (0, 0)  # a new space wakes the reader
        await router.subscribe(SPACE, route=THREAD)  # a space followed already does not
        assert await stream_log.last_id(router.wake_key) == second_wake
        assert await stream_log.redis.xlen(router.wake_key) == 1  # only the last wake is kept


async def test_a_space_whose_last_subscription_overflowed_is_no_longer_followed(
    router: StreamRouter,
) -> None:
    with trio.fail_after(10):
        only = await router.subscribe(SPACE)
    router.deliver(SPACE, [message(f"1-{n}", THREAD) for n in range(SUBSCRIPTION_BUFFER + 2)])
    assert only.overflowed
    assert SPACE not in router.positions


async def _next(sub: Subscription) -> LogEntry:
    return await sub.receive.receive()


async def test_the_reader_routes_live_entries_and_skips_undecodable_ones(
    router: StreamRouter, stream_log: StreamLog
) -> None:
    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            await nursery.start(run_stream_reader, stream_log.redis, router)
            # Subscribing wakes the reader, blocked on the streams it had (none but its wake).
            space = await router.subscribe(SPACE, kind="message")
            await stream_log.redis.xadd(
                stream_log.keys(SPACE).events, {"t": "message", "d": orjson.dumps([]).decode()}
            )
            acks = await visitor_says(stream_log, SPACE, ["one", "two"])
            got = [await _next(space), await _next(space)]
            assert [e.id for e in got] == [a.id for a in acks]
            assert [e.event.content for e in got if isinstance(e.event, MessagePosted)] == [
                "one",
                "two",
            ]
            # A second space joins a reader already blocked on the first.
            other = await router.subscribe(OTHER_SPACE, route="v:vic")
            acks = await visitor_says(stream_log, OTHER_SPACE, ["hello"], visitor="vic")
            entry = await _next(other)
            assert entry.event.type == "thread.opened"  # the visitor's route: its new thread
            assert id_key(router.positions[OTHER_SPACE]) >= id_key(entry.id)
            nursery.cancel_scope.cancel()


async def test_two_first_subscribers_of_a_space_leave_the_reader_where_it_is(
    router: StreamRouter, stream_log: StreamLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two subscriptions to a space this process did not follow, made at once: each asks for
    the stream's last id. The second answer must not move the reader's position once the first
    is set and the reader has gone past it (it moved it back: entries delivered again; read
    later than the reader got, it would skip entries nobody was given)."""
    space = str(uuid.uuid4())
    vera = str(uuid.uuid4())  # one visitor: after its first message, one entry per message
    first_ack = (await visitor_says(stream_log, space, ["before"], visitor=vera))[0]
    real_last_id = stream_log.last_id
    second_may_return = trio.Event()
    calls = 0

    async def last_id(key: str) -> str:
        nonlocal calls
        answer = await real_last_id(key)
        if key == stream_log.keys(space).events:
            calls += 1
            if calls == 2:  # the second subscriber's answer is late
                await second_may_return.wait()
        return answer

    monkeypatch.setattr(stream_log, "last_id", last_id)
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            await nursery.start(run_stream_reader, stream_log.redis, router)
            subs: list[Subscription] = []

            async def subscribe() -> None:
                subs.append(await router.subscribe(space))

            nursery.start_soon(subscribe)
            nursery.start_soon(subscribe)
            while not subs:  # the first is in; the second waits for its late answer
                await trio.sleep(0.01)
            assert router.positions[space] == first_ack.id
            acks = await visitor_says(stream_log, space, ["one", "two"], visitor=vera)
            assert [(await subs[0].receive.receive()).id for _ in acks] == [a.id for a in acks]
            second_may_return.set()
            while len(subs) < 2:
                await trio.sleep(0.01)
            [after] = await visitor_says(stream_log, space, ["three"], visitor=vera)
            # Without the check, the reader went back to "before" and delivered one, two again.
            assert (await subs[0].receive.receive()).id == after.id
            # The second got what came while it waited too ("some earlier ones may be"), each
            # once and in order.
            got = [(await subs[1].receive.receive()).id]
            while got[-1] != after.id:
                got.append((await subs[1].receive.receive()).id)
            assert got == sorted(set(got), key=id_key)
            nursery.cancel_scope.cancel()
