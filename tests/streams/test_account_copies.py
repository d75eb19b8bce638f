"""The copy of sign-ins and spaces in Valkey (chat/streams/account_copies.py): a read from before
a change never overwrites it, a deleted agent and an ended sign-in stay refused."""

from __future__ import annotations

import trio

from chat.streams.account_copies import AccountCopies
from chat.streams.log import StreamLog

VALID_MS = 60_000


def copies_of(log: StreamLog) -> AccountCopies:
    return AccountCopies(log.redis, log.prefix)


async def test_a_read_from_before_a_change_is_not_kept(stream_log: StreamLog) -> None:
    copies = copies_of(stream_log)
    with trio.fail_after(10):
        seen = await copies.agent_generation("a1")
        assert await copies.note_agent("a1", seen, '{"role": "admin"}', "s1", VALID_MS)
        stale = await copies.agent_generation("a1")  # a handshake reads PostgreSQL...
        await copies.do_agent_changed("a1", '{"role": "agent"}')  # ...a demotion commits...
        assert not await copies.note_agent("a1", stale, '{"role": "admin"}', "s1", VALID_MS)
        found = await copies.agent("a1", "s1")
        assert found.row == '{"role": "agent"}' and found.session_live


async def test_a_deleted_agent_is_never_written_again(stream_log: StreamLog) -> None:
    copies = copies_of(stream_log)
    with trio.fail_after(10):
        seen = await copies.agent_generation("a1")
        await copies.note_agent("a1", seen, '{"id": "a1"}', "s1", VALID_MS)
        await copies.do_agent_deleted("a1")
        after = await copies.agent_generation("a1")
        assert not await copies.note_agent("a1", after, '{"id": "a1"}', "s2", VALID_MS)
        await copies.do_agent_changed("a1", '{"id": "a1"}')
        found = await copies.agent("a1", "s1")
        assert found.deleted and found.row is None and not found.session_live
        assert not (await copies.agent("a1", "s2")).session_live


async def test_an_ended_sign_in_is_not_taken_as_live_again(stream_log: StreamLog) -> None:
    copies = copies_of(stream_log)
    with trio.fail_after(10):
        seen = await copies.agent_generation("a1")
        await copies.note_agent("a1", seen, '{"id": "a1"}', "s1", VALID_MS)
        await copies.note_agent("a1", seen, '{"id": "a1"}', "s2", VALID_MS)
        await copies.do_sign_ins_ended("a1", ["s1"], VALID_MS)
        # A refresh that checked s1 before its logout committed notes it afterwards: refused.
        await copies.note_agent("a1", await copies.agent_generation("a1"), "", "s1", VALID_MS)
        ended, other = await copies.agent("a1", "s1"), await copies.agent("a1", "s2")
        assert ended.session_ended and not ended.session_live
        assert other.session_live and other.row == '{"id": "a1"}'


async def test_expired_sign_ins_are_pruned(stream_log: StreamLog) -> None:
    copies = copies_of(stream_log)
    with trio.fail_after(10):
        seen = await copies.agent_generation("a1")
        await copies.note_agent("a1", seen, '{"id": "a1"}', "old", 1)
        await copies.do_sign_ins_ended("a1", ["ended"], 1)
        key = f"{copies.prefix}:acct:a1"
        # Each write prunes what expired by Valkey's clock: write until 1 ms has passed there.
        while {"s:old", "x:ended"} & set(await stream_log.redis.hkeys(key)):
            await copies.note_agent("a1", seen, "", "new", VALID_MS)
        assert sorted(await stream_log.redis.hkeys(key)) == ["row", "s:new"]


async def test_the_spaces_of_an_organization_follow_its_changes(stream_log: StreamLog) -> None:
    copies = copies_of(stream_log)
    with trio.fail_after(10):
        stale = await copies.spaces_generation("o1")
        await copies.do_spaces_changed("o1")  # a space was deleted after the read
        assert not await copies.note_spaces("o1", stale, '[{"id": "deleted"}]')
        assert await copies.spaces("o1") is None
        fresh = await copies.spaces_generation("o1")
        assert await copies.note_spaces("o1", fresh, "[]")
        assert await copies.spaces("o1") == "[]"
