"""Read-only views of the log for operators (`chat inspect`, `chat tail`, `chat projector
status`, `chat dead-letters list`): what `valkey-cli XINFO`/`XPENDING`/`XRANGE` show, as data.

Nothing here writes: no consumer group is created, no entry acked, read or claimed through a
group (XREADGROUP would), so running these against a live service changes nothing. A missing
stream reads as empty rather than failing (XINFO on a missing key is an error reply).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import trio
from coredis.response.types import StreamPendingExt

from chat.streams.client import Redis, by_slot, is_cluster
from chat.streams.keys import SpaceKeys

# `chat tail` blocks this long per XREAD (below the client's command timeout, see
# chat/streams/client.py), so Ctrl-C and a refresh of the followed spaces are never far off.
TAIL_BLOCK_MS = 1000
# On a cluster, `chat tail` over spaces of several slots polls this often instead of blocking.
TAIL_POLL_SECONDS = 0.2
# At most this many pending entries are listed per group: an operator reads the oldest ones;
# the count in the summary is exact.
PENDING_LISTED = 20


@dataclass(frozen=True, slots=True)
class RawEntry:
    """A stream entry as stored: its id and its fields (`t`, `d`, and for a dead letter
    `entry` and `reason`), undecoded, so a newer kind or a hand-added entry still shows."""

    id: str
    fields: dict[str, str]


@dataclass(frozen=True, slots=True)
class StreamSummary:
    key: str
    length: int
    first_id: str | None
    last_id: str  # the last generated id, "0-0" for a missing stream


@dataclass(frozen=True, slots=True)
class ConsumerInfo:
    name: str
    pending: int
    idle_ms: int  # since its last attempted read or claim (XINFO CONSUMERS `idle`)


@dataclass(frozen=True, slots=True)
class PendingEntry:
    id: str
    consumer: str
    idle_ms: int
    deliveries: int


@dataclass(frozen=True, slots=True)
class GroupInfo:
    """One consumer group of a space stream."""

    name: str
    last_delivered_id: str
    pending: int
    # Entries never delivered to the group (XINFO GROUPS `lag`; None where the server cannot
    # tell, Redis 6.2 or after an XDEL).
    undelivered: int | None
    consumers: list[ConsumerInfo]


def _raw(entry: Any) -> RawEntry:
    return RawEntry(str(entry.identifier), {str(k): str(v) for k, v in entry.field_values.items()})


async def stream_summary(redis: Redis, key: str) -> StreamSummary:
    if not await redis.exists([key]):
        return StreamSummary(key, 0, None, "0-0")
    info = await redis.xinfo_stream(key)
    first = info.get("first-entry")
    return StreamSummary(
        key,
        int(info.get("length") or 0),
        str(first.identifier) if first is not None else None,
        str(info.get("last-generated-id") or "0-0"),
    )


async def groups(redis: Redis, key: str) -> list[GroupInfo]:
    """Every consumer group of the stream with its consumers, by name; [] for a missing stream."""
    if not await redis.exists([key]):
        return []
    found = []
    for group in await redis.xinfo_groups(key):
        name = str(group["name"])
        consumers = [
            ConsumerInfo(str(c["name"]), int(c["pending"] or 0), int(c["idle"] or 0))
            for c in await redis.xinfo_consumers(key, name)
        ]
        lag = group.get("lag")
        found.append(
            GroupInfo(
                name,
                str(group.get("last-delivered-id") or "0-0"),
                int(group.get("pending") or 0),
                lag if isinstance(lag, int) else None,
                sorted(consumers, key=lambda c: c.name),
            )
        )
    return sorted(found, key=lambda g: g.name)


async def pending_entries(
    redis: Redis, key: str, group: str, count: int = PENDING_LISTED
) -> list[PendingEntry]:
    """The group's oldest pending entries, up to `count` (XPENDING's extended form)."""
    if not await redis.exists([key]):
        return []
    # With a range and a count XPENDING answers its extended form (the summary is also a tuple,
    # a NamedTuple, so the reply's type cannot be told by isinstance).
    reply = cast(tuple[StreamPendingExt, ...], await redis.xpending(key, group, "-", "+", count))
    return [PendingEntry(str(p.identifier), str(p.consumer), p.idle, p.delivered) for p in reply]


async def latest(redis: Redis, key: str, count: int) -> list[RawEntry]:
    """The newest `count` entries of a stream, oldest first."""
    entries = await redis.xrevrange(key, "+", "-", count=count)
    return [_raw(e) for e in reversed(entries)]


async def entries_between(
    redis: Redis, key: str, start: str, end: str, count: int
) -> list[RawEntry]:
    """XRANGE as RawEntries (start and end as XRANGE takes them, `(` for exclusive)."""
    return [_raw(e) for e in await redis.xrange(key, start, end, count=count)]


async def entry(redis: Redis, key: str, entry_id: str) -> RawEntry | None:
    found = await redis.xrange(key, entry_id, entry_id, count=1)
    return _raw(found[0]) if found else None


async def dead_letters(redis: Redis, keys: SpaceKeys, count: int) -> list[RawEntry]:
    """A space's dead letters, oldest first, up to `count`."""
    return await entries_between(redis, keys.dead_letters, "-", "+", count)


async def dead_letter_count(redis: Redis, keys: SpaceKeys) -> int:
    return int(await redis.xlen(keys.dead_letters))


async def hash_fields(redis: Redis, key: str) -> dict[str, str]:
    return {str(k): str(v) for k, v in (await redis.hgetall(key)).items()}


async def zcard(redis: Redis, key: str) -> int:
    return int(await redis.zcard(key))


async def scored(redis: Redis, key: str) -> list[tuple[str, float]]:
    """A sorted set's members with their scores, lowest first."""
    reply = await redis.zrange(key, 0, -1, withscores=True)
    return [(str(member), float(score)) for member, score in reply]


async def first_holding(redis: Redis, keys: list[str]) -> int | None:
    """The index of the first of these keys that exists (which space holds a thread or visitor)."""
    for index, key in enumerate(keys):
        if await redis.exists([key]):
            return index
    return None


async def read_after(
    redis: Redis, positions: dict[str, str], count: int, block_ms: int = TAIL_BLOCK_MS
) -> list[tuple[str, RawEntry]]:
    """Entries after each stream's position (plain XREAD: no group, nothing recorded), as
    (key, entry) pairs in id order per stream; [] when none came within `block_ms`."""
    if not positions:
        return []
    slots = by_slot(list(positions)) if is_cluster(redis) else [list(positions)]
    if len(slots) == 1:
        reply = await redis.xread(positions, count=count, block=block_ms)
        return [(str(key), _raw(e)) for key, found in (reply or {}).items() for e in found]
    # A cluster: one XREAD per slot, pipelined; an empty pass waits as a blocked read would
    # have (at most TAIL_POLL_SECONDS: the tail polls instead of blocking).
    async with redis.pipeline(transaction=False) as pipe:
        for keys in slots:
            pipe.xread({k: positions[k] for k in keys}, count=count)
    found = [
        (str(key), _raw(e))
        for part in pipe.results or ()
        for key, entries in (part or {}).items()
        for e in entries
    ]
    if not found:
        await trio.sleep(min(block_ms / 1000, TAIL_POLL_SECONDS))
    return found


async def oldest_unprocessed(redis: Redis, key: str, group: GroupInfo) -> str | None:
    """The oldest entry the group has not acked yet: its oldest pending entry, else the first
    one after its last delivered id; None when it is caught up."""
    if group.pending:
        oldest = await pending_entries(redis, key, group.name, 1)
        if oldest:
            return oldest[0].id
    following = await redis.xrange(key, f"({group.last_delivered_id}", "+", count=1)
    return str(following[0].identifier) if following else None
