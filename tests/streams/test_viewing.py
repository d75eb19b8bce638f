"""The viewing scripts (chat/streams/viewing.py) against a real Valkey: what each change appends,
and stale fields (a crashed process's, written here by hand with an old time)."""

from __future__ import annotations

from chat.clock import now_ms
from chat.events import Viewers
from chat.streams.log import StreamLog

SPACE = "s1"


async def viewers_entries(stream_log: StreamLog) -> list[tuple[str, list[str]]]:
    """Every viewers entry of the space so far, as (thread, agents)."""
    entries = await stream_log.read_range(stream_log.keys(SPACE).events, None, 100)
    found = []
    for entry in entries:
        assert isinstance(entry.event, Viewers)
        found.append((entry.event.thread_id, list(entry.event.agent_ids)))
    return found


async def stale_field(stream_log: StreamLog, socket_id: str, agent: str, thread: str) -> None:
    """A field whose socket stopped refreshing it longer than the TTL ago."""
    old = now_ms() - stream_log.viewing.ttl_ms - 1000
    await stream_log.redis.hset(
        stream_log.keys(SPACE).viewing, {socket_id: f"{old} {agent} {thread}"}
    )


async def test_switching_and_leaving_append_each_threads_whole_list(stream_log: StreamLog) -> None:
    viewing = stream_log.viewing
    await viewing.do_view(SPACE, "a", "sa", "t1")
    await viewing.do_view(SPACE, "b", "sb", "t1")
    await viewing.do_view(SPACE, "b", "sb", "t1")  # a refresh: nothing to tell
    await viewing.do_view(SPACE, "a", "sa", "t2")
    await viewing.do_view(SPACE, "b", "sb", None)
    assert await viewers_entries(stream_log) == [
        ("t1", ["a"]),
        ("t1", ["a", "b"]),
        ("t1", ["b"]),
        ("t2", ["a"]),
        ("t1", []),
    ]
    assert await viewing.viewers(SPACE) == {"t2": ["a"]}


async def test_a_stale_field_is_ignored_then_swept_with_word_to_the_agents(
    stream_log: StreamLog,
) -> None:
    viewing = stream_log.viewing
    await viewing.do_view(SPACE, "a", "sa", "t1")
    await stale_field(stream_log, "dead", "b", "t1")
    assert await viewing.viewers(SPACE) == {"t1": ["a"]}
    assert await viewing.do_sweep(SPACE) == 1
    assert await viewing.do_sweep(SPACE) == 0
    assert (await viewers_entries(stream_log))[-1] == ("t1", ["a"])
    assert list(await stream_log.redis.hkeys(stream_log.keys(SPACE).viewing)) == ["sa"]


async def test_leaving_a_stale_field_before_the_sweep_still_says_so(stream_log: StreamLog) -> None:
    """The agents heard the socket was on t1 and no sweep told them otherwise: moving to t2
    must tell them t1 has nobody."""
    await stale_field(stream_log, "sa", "a", "t1")
    await stream_log.viewing.do_view(SPACE, "a", "sa", "t2")
    assert await viewers_entries(stream_log) == [("t1", []), ("t2", ["a"])]


async def test_one_pipelined_sweep_covers_every_space_even_after_a_script_flush(
    stream_log: StreamLog,
) -> None:
    """The presence sweeper's pipelined form (do_sweep_all): each space swept as do_sweep does,
    and a script Valkey lost (SCRIPT FLUSH, as after a restart) loaded again, not an error."""
    viewing = stream_log.viewing
    await viewing.do_view(SPACE, "a", "sa", "t1")
    await stale_field(stream_log, "dead", "b", "t1")
    other = "s2"
    old = now_ms() - viewing.ttl_ms - 1000
    await stream_log.redis.hset(stream_log.keys(other).viewing, {"gone": f"{old} c t9"})
    assert await viewing.do_sweep_all([SPACE, other, "s3"]) == 2
    assert list(await stream_log.redis.hkeys(stream_log.keys(SPACE).viewing)) == ["sa"]
    assert not await stream_log.redis.exists([stream_log.keys(other).viewing])
    await stale_field(stream_log, "dead2", "b", "t1")
    await stream_log.redis.script_flush()
    assert await viewing.do_sweep_all([SPACE, other]) == 1
    assert await viewing.do_sweep_all([]) == 0


async def test_stale_agents_of_many_spaces_in_one_read(stream_log: StreamLog) -> None:
    fresh, old = now_ms(), stream_log.presence_cutoff() - 1000
    await stream_log.redis.zadd(stream_log.keys(SPACE).online, {"a": fresh, "b": old})
    await stream_log.redis.zadd(stream_log.keys("s2").online, {"c": old})
    await stream_log.redis.zadd(stream_log.keys("s3").online, {"d": fresh})
    assert await stream_log.stale_agents_of([SPACE, "s2", "s3", "s4"]) == {
        SPACE: ["b"],
        "s2": ["c"],
    }
    assert await stream_log.stale_agents_of([]) == {}
