"""The projector's consumer group on each space stream: read, ack, reclaim, lag (its trim is
chat/streams/retention.py)."""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import coredis.exceptions
import trio

from chat.events import LogEntry, entry_from_stream
from chat.ids import parse_id
from chat.streams.client import Redis, by_slot, is_cluster
from chat.streams.keys import PROJECTOR_GROUP, SpaceKeys
from chat.streams.log import StreamLog

# A cluster's consumers of several slots poll this often when idle (see _read_group).
CLUSTER_POLL_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class Undecodable:
    """An entry this version cannot decode (an unknown kind from a newer version, or one added by
    hand): the projector dead-letters it with this reason, never acks it away unseen."""

    reason: str


# (space id, entry id, the entry or why it could not be decoded)
Decoded = tuple[str, str, LogEntry | Undecodable]


async def ensure_group(
    stream_log: StreamLog, space_id: str, group: str = PROJECTOR_GROUP, start: str = "0"
) -> None:
    """Create the group (the projector's unless told) from `start` (the start of the stream
    unless told); an existing group is fine."""
    try:
        await stream_log.redis.xgroup_create(
            stream_log.keys(space_id).events, group, identifier=start, mkstream=True
        )
    except coredis.exceptions.StreamDuplicateConsumerGroupError:
        pass  # BUSYGROUP: another process (or an earlier start) created it


async def heal_missing_groups(
    stream_log: StreamLog,
    space_ids: list[str],
    ensure: Callable[[str], Awaitable[bool]],
) -> tuple[list[str], list[str]]:
    """Recreate the projector group on every space stream that has lost it, with `ensure`
    (False: the space's keys were removed, chat/streams/retention.py); the spaces healed and
    the spaces removed (to be followed no more).

    A group disappears with its stream (DEL, FLUSHALL, an older backup restored), and one
    missing group makes every multi-stream XREADGROUP fail with NOGROUP, for every space. The
    group is recreated at the start of what the stream holds (see ensure_group), not at the
    newest id PostgreSQL has: the stream keeps only the resume window plus what is not projected
    yet, so the replay is bounded, and it is harmless (messages are keyed by entry id, state rows
    by the entry that last wrote them), while a restart at PostgreSQL's newest id could skip an
    older entry that was still pending, reclaimed out of order, when the group was lost.
    """
    healed: list[str] = []
    removed: list[str] = []
    for space_id in space_ids:
        if await _group_info(stream_log, stream_log.keys(space_id).events) is None:
            (healed if await ensure(space_id) else removed).append(space_id)
    return healed, removed


def _decode(space_id: str, raw: Any) -> Decoded:
    if not raw.field_values:
        # Still pending but gone from the stream (deleted by hand, or lost with a restore).
        return space_id, str(raw.identifier), Undecodable("gone from the stream")
    try:
        return space_id, str(raw.identifier), entry_from_stream(raw)
    except ValueError as exc:
        return space_id, str(raw.identifier), Undecodable(str(exc))


async def read_new(
    stream_log: StreamLog,
    consumer: str,
    space_ids: list[str],
    count: int,
    block_ms: int,
    group: str = PROJECTOR_GROUP,
) -> list[Decoded]:
    """New entries for this consumer across the spaces (they become pending until acked).

    With `block_ms` 0 it answers at once, with whatever is there.
    """
    if not space_ids:
        await trio.sleep(block_ms / 1000)  # nothing to read yet: wait as a blocked read would
        return []
    by_key = _events_keys(stream_log.prefix, tuple(space_ids))
    reply = await _read_group(stream_log.redis, group, consumer, by_key, ">", count, block_ms)
    return [_decode(by_key[key], e) for key, entries in reply.items() for e in entries]


async def read_own_pending(
    stream_log: StreamLog,
    consumer: str,
    space_ids: list[str],
    count: int,
    group: str = PROJECTOR_GROUP,
) -> list[Decoded]:
    """Entries delivered to this consumer and not acked yet (a batch whose write failed, or one
    read ahead when an error struck), oldest first, up to `count` per space.

    Read again at once after an error, rather than left to XAUTOCLAIM's idle time: after a
    PostgreSQL outage, projection resumes as soon as PostgreSQL answers.
    """
    if not space_ids:
        return []
    by_key = _events_keys(stream_log.prefix, tuple(space_ids))
    reply = await _read_group(stream_log.redis, group, consumer, by_key, "0", count, 0)
    return [_decode(by_key[key], e) for key, entries in reply.items() for e in entries]


@functools.lru_cache(maxsize=16)
def _events_keys(prefix: str, space_ids: tuple[str, ...]) -> dict[str, str]:
    """Each space's stream key, to its space. The consumers read every space of the deployment
    several times a second with the same list: building the keys took about 0.7 ms a read for
    700 spaces, a cached lookup about 0.01 ms. Read only: callers never change the mapping."""
    return {SpaceKeys(prefix, s).events: s for s in space_ids}


async def _read_group(
    redis: Redis,
    group: str,
    consumer: str,
    keys: Iterable[str],
    start: str,
    count: int,
    block_ms: int,
) -> dict[str, Any]:
    """XREADGROUP over `keys` from `start` (">" new, "0" own pending): entries by key.

    In a cluster one XREADGROUP names keys of one slot only: one per slot, pipelined (coredis
    sends each node its commands, one round trip per node). Only a single slot can block; with
    several, an empty pass waits CLUSTER_POLL_SECONDS (at most `block_ms`) and answers nothing,
    so an idle consumer polls instead of blocking (structures.md, "Valkey Cluster").
    """
    streams = dict.fromkeys(keys, start)
    slots = by_slot(list(streams)) if is_cluster(redis) else [list(streams)]
    if len(slots) == 1:
        block = block_ms or None
        reply = await redis.xreadgroup(group, consumer, streams, count=count, block=block)
        return dict(reply or {})
    async with redis.pipeline(transaction=False) as pipe:
        for slot_keys in slots:
            pipe.xreadgroup(group, consumer, dict.fromkeys(slot_keys, start), count=count)
    found: dict[str, Any] = {}
    for part in pipe.results or ():
        found.update(part or {})
    if not found and block_ms:
        await trio.sleep(min(block_ms / 1000, CLUSTER_POLL_SECONDS))
    return found


async def reclaim(
    stream_log: StreamLog,
    consumer: str,
    space_id: str,
    min_idle_ms: int,
    count: int,
    group: str = PROJECTOR_GROUP,
) -> list[Decoded]:
    """Take over entries another (crashed) consumer left pending for longer than min_idle_ms."""
    key = stream_log.keys(space_id).events
    reply = await stream_log.redis.xautoclaim(key, group, consumer, min_idle_ms, "0-0", count=count)
    claimed = reply[1]
    return [_decode(space_id, e) for e in claimed if e]


async def reclaim_each(
    stream_log: StreamLog,
    consumer: str,
    space_ids: list[str],
    min_idle_ms: int,
    count: int,
    group: str = PROJECTOR_GROUP,
) -> dict[str, list[Decoded]]:
    """`reclaim` on every space in one pipelined round trip (split by node in a cluster): the
    spaces with something to take over, and up to `count` entries of each. A process following
    thousands of spaces made one XAUTOCLAIM per space every few seconds (issue 19)."""
    if not space_ids:
        return {}
    async with stream_log.redis.pipeline(transaction=False) as pipe:
        for space_id in space_ids:
            key = stream_log.keys(space_id).events
            pipe.xautoclaim(key, group, consumer, min_idle_ms, "0-0", count=count)
    found: dict[str, list[Decoded]] = {}
    for space_id, reply in zip(space_ids, pipe.results or (), strict=True):
        if claimed := [_decode(space_id, e) for e in reply[1] if e]:
            found[space_id] = claimed
    return found


async def reclaim_all(
    stream_log: StreamLog,
    consumer: str,
    space_ids: list[str],
    min_idle_ms: int,
    count: int,
    take: Callable[[str, list[Decoded]], Awaitable[None]],
    group: str = PROJECTOR_GROUP,
) -> None:
    """Take over everything crashed consumers left pending in `space_ids`: one `reclaim_each`,
    then, for a space whose batch came full, `reclaim` until it has no more. `take` handles each
    batch (space id, entries) before the next is claimed."""
    found = await reclaim_each(stream_log, consumer, space_ids, min_idle_ms, count, group)
    for space_id, claimed in found.items():
        while claimed:
            await take(space_id, claimed)
            if len(claimed) < count:
                break
            claimed = await reclaim(stream_log, consumer, space_id, min_idle_ms, count, group)


async def ack(
    stream_log: StreamLog, by_space: dict[str, list[str]], group: str = PROJECTOR_GROUP
) -> None:
    """XACK a batch's entries, every space's in one pipeline (one round trip, not one per space)."""
    if not by_space:
        return
    async with stream_log.redis.pipeline(transaction=False) as pipe:
        for space_id, entry_ids in by_space.items():
            pipe.xack(stream_log.keys(space_id).events, group, entry_ids)


async def dead_letter(stream_log: StreamLog, space_id: str, entry_id: str, reason: str) -> None:
    """Keep an entry PostgreSQL refused in the space's `dead` stream for an operator to inspect."""
    keys = stream_log.keys(space_id)
    raw = await stream_log.redis.xrange(keys.events, entry_id, entry_id)
    fields = {str(k): str(v) for k, v in raw[0].field_values.items()} if raw else {}
    await stream_log.redis.xadd(keys.dead_letters, {**fields, "entry": entry_id, "reason": reason})


@dataclass(frozen=True, slots=True)
class GroupLag:
    entries: int  # delivered-but-unacked plus never delivered
    seconds: float  # age of the oldest entry not yet projected


async def _group_info(
    stream_log: StreamLog, key: str, name: str = PROJECTOR_GROUP
) -> dict[str, object] | None:
    if not await stream_log.redis.exists([key]):
        return None
    for group in await stream_log.redis.xinfo_groups(key):
        if group.get("name") == name:
            return dict(group)
    return None


async def oldest_unprojected(
    stream_log: StreamLog, space_id: str, info: dict[str, object] | None = None
) -> str | None:
    """The smallest id the projector has not committed yet, or None when it is caught up.

    `info` is the group's XINFO GROUPS entry when the caller has it already.
    """
    key = stream_log.keys(space_id).events
    pending = await stream_log.redis.xpending(key, PROJECTOR_GROUP)
    if pending.pending and pending.minimum_identifier:  # type: ignore[union-attr]
        return str(pending.minimum_identifier)  # type: ignore[union-attr]
    info = info or await _group_info(stream_log, key)
    last_delivered = str(info.get("last-delivered-id", "0-0")) if info else "0-0"
    following = await stream_log.redis.xrange(key, f"({last_delivered}", "+", count=1)
    return str(following[0].identifier) if following else None


async def lag(stream_log: StreamLog, space_id: str) -> GroupLag:
    key = stream_log.keys(space_id).events
    info = await _group_info(stream_log, key)
    if info is None:
        return GroupLag(0, 0.0)
    waiting, pending = info.get("lag"), info.get("pending")
    entries = (pending if isinstance(pending, int) else 0) + (
        waiting if isinstance(waiting, int) else 0
    )
    oldest = await oldest_unprojected(stream_log, space_id, info)
    seconds = max(0.0, time.time() - parse_id(oldest)[0] / 1000) if oldest else 0.0
    return GroupLag(entries, seconds)


# How long an unread entry of the webhooks group keeps its stream from being trimmed
# (chat/streams/retention.py).
WEBHOOKS_HOLD_SECONDS = 86400
