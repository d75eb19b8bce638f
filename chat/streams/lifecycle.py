"""Soft delete and restore of a conversation, the typing preview's append, and the erasure of a
visitor's traces from Valkey (structures.md, "Deleting conversations and visitors" and "Typing
preview"). Each append is one script; the erasure is a sequence of idempotent steps, so a cut-off
erasure is finished by running it again.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

import orjson

from chat.errors import ThreadOpenError
from chat.streams import lua_lifecycle
from chat.streams.client import Redis
from chat.streams.identity import identity_key, verified_key
from chat.streams.keys import SpaceKeys
from chat.streams.routing import load_member

# The marker of a thread's last draft outlives any draft entry: entries leave the space stream
# after the resume window (1 h by default), and a marker that expired first would leave its
# draft in the stream until that trim.
PREVIEW_MARKER_TTL_MS = 24 * 3600 * 1000
# The erasure reads a space stream in pages this long (the stream holds the resume window).
ERASE_PAGE = 1000

DeletionKind = Literal["thread.deleted", "thread.restored"]


@dataclass(frozen=True, slots=True)
class Erased:
    """What an erasure removed from Valkey, for its log line and the route's answer."""

    keys: int
    entries: int


class Lifecycle:
    """Holds the registered scripts; does no I/O on init."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix
        self._mark_deleted = redis.register_script(lua_lifecycle.MARK_DELETED)
        self._preview = redis.register_script(lua_lifecycle.PREVIEW)

    def keys(self, space_id: str) -> SpaceKeys:
        return SpaceKeys(self.prefix, space_id)

    async def do_mark_deleted(
        self, space_id: str, thread_id: str, kind: DeletionKind, by: str
    ) -> str:
        """Append `thread.deleted` or `thread.restored`; the entry id. ThreadOpenError for an
        open thread. A retry after a cancelled or failed call may append a second entry: the
        projection of either is the same (idempotent, newest entry wins)."""
        k = self.keys(space_id)
        reply: list[str] = await self._mark_deleted(
            keys=[k.events], args=[k.base, thread_id, kind, by]
        )
        if reply[0] == "err":
            raise ThreadOpenError()
        return str(reply[1])

    async def do_preview(
        self, space_id: str, thread_id: str, visitor_id: str, draft: str | None
    ) -> None:
        """The visitor's draft as a typing entry replacing the thread's previous one; None
        removes the last draft (the visitor stopped typing). Like typing, never retried."""
        k = self.keys(space_id)
        data = ""
        if draft is not None:
            event = {
                "thread_id": thread_id,
                "sender_type": "visitor",
                "sender_id": visitor_id,
                "active": True,
                "draft": draft,
            }
            data = orjson.dumps(event).decode()
        await self._preview(
            keys=[k.events], args=[k.base, thread_id, data, str(PREVIEW_MARKER_TTL_MS)]
        )

    async def erase_visitor(
        self, organization_id: str, space_id: str, visitor_id: str, thread_ids: Collection[str]
    ) -> Erased:
        """Remove every trace of a visitor and their threads from the space's keys: the thread
        streams and states, the visitor's hashes, their ids in the space's sets and hashes, and
        every entry of the space stream (and dead letters) that names them.

        Idempotent; on cancellation part may be done, and a second call does the rest."""
        k = self.keys(space_id)
        threads = set(thread_ids)
        state = await self.redis.hmget(k.visitor(visitor_id), ["thread", "closed_thread"])
        threads.update(str(t) for t in state if t)
        names = {visitor_id, *threads}
        own = [k.visitor(visitor_id), f"{k.base}rl:{visitor_id}", f"{k.base}cid:{visitor_id}"]
        # The dedupe hashes of each generation (chat/streams/lua.py, DEDUPE_FUNCTIONS).
        own += [key async for key in self.redis.scan_iter(match=f"{k.base}cid:{visitor_id}:*")]
        # A verified visitor's identity mapping (chat/streams/identity.py), both ways: the
        # site's user starts over as a new visitor if they come back.
        sub = await self.redis.get(verified_key(k, visitor_id))
        own += [verified_key(k, visitor_id)] + ([identity_key(k, str(sub))] if sub else [])
        for t in threads:
            # Read markers (chat/streams/read_state.py) and tag sets (chat/streams/notes.py).
            own += [k.thread(t), k.thread_state(t), f"{k.base}pk:{t}", f"{k.base}rd:{t}"]
            own.append(f"{k.base}tags:{t}")
        removed = await self.redis.delete(own)
        if threads:
            for zset in (k.open_threads, k.waiting, k.answered):
                await self.redis.zrem(zset, list(threads))
        await self._forget_in_hashes_and_sets(k, threads)
        await self._release_loads(organization_id, space_id, threads)
        entries = 0
        for stream in (k.events, k.dead_letters):
            entries += await self._delete_entries(stream, names)
        return Erased(keys=removed, entries=entries)

    async def _forget_in_hashes_and_sets(self, k: SpaceKeys, threads: set[str]) -> None:
        """Agents' dedupe hashes (`cid:`) map client_ids to `<thread> <entry>`, the viewing
        hash names a thread per socket, an address's `ao:` set holds thread ids."""
        if not threads:
            return
        async for key in self.redis.scan_iter(match=f"{k.base}ao:*"):
            await self.redis.srem(key, list(threads))
        hashes = [k.viewing]
        hashes += [key async for key in self.redis.scan_iter(match=f"{k.base}cid:*")]
        for key in hashes:
            fields = await self.redis.hgetall(key)
            stale = [f for f, v in fields.items() if any(t in str(v) for t in threads)]
            if stale:
                await self.redis.hdel(key, stale)

    async def _release_loads(self, organization_id: str, space_id: str, threads: set[str]) -> None:
        """Routing's traces (chat/streams/routing.py): agents' reservations `<space>:<thread>`
        (the agent's capacity is freed: the conversation is gone) and the space's recent waits
        `<thread>:<ms>` behind the estimated wait."""
        if not threads:
            return
        members = [load_member(space_id, t) for t in threads]
        async for key in self.redis.scan_iter(
            match=f"{self.prefix}:{{org:{organization_id}}}:load:*"
        ):
            await self.redis.zrem(key, members)
        waits = self.keys(space_id).base + "waits"
        stale = [w for w in await self.redis.zrange(waits, 0, -1) if w.split(":")[0] in threads]
        if stale:
            await self.redis.zrem(waits, stale)

    async def _delete_entries(self, stream: str, names: set[str]) -> int:
        """XDEL every entry whose fields mention one of `names` (UUIDs: no false matches)."""
        deleted, start = 0, "-"
        while True:
            page = await self.redis.xrange(stream, start, "+", count=ERASE_PAGE)
            doomed = [
                str(e.identifier)
                for e in page
                if any(n in str(v) for v in e.field_values.values() for n in names)
            ]
            if doomed:
                deleted += await self.redis.xdel(stream, doomed)
            if len(page) < ERASE_PAGE:
                return deleted
            start = "(" + str(page[-1].identifier)
