"""The projector's lag over every space stream, in two pipelined round trips.

The lag sampler (chat/actors/lag_sampler.py) calls this every second or so, off the scrape's
path: a scrape of /metrics reads the last sample and asks Valkey nothing. The commands are
O(spaces) for Valkey (an XINFO GROUPS per space, then an XPENDING or an XRANGE per lagging one),
but one round trip each, whatever the number of spaces.
"""

from __future__ import annotations

import time
from typing import Any

from chat.ids import parse_id
from chat.streams.groups import GroupLag
from chat.streams.keys import PROJECTOR_GROUP
from chat.streams.log import StreamLog


async def total_lag(stream_log: StreamLog, space_ids: list[str]) -> GroupLag:
    """Entries of these spaces not yet projected, and the age of the oldest of them."""
    if not space_ids:
        return GroupLag(0, 0.0)
    keys = [stream_log.keys(space_id).events for space_id in space_ids]
    async with stream_log.redis.pipeline(transaction=False, raise_on_error=False) as pipe:
        for key in keys:
            pipe.xinfo_groups(key)
    entries = 0
    # (key, last delivered id) of each lagging stream with nothing pending: its oldest
    # unprojected entry is the first after the group's last delivered one.
    undelivered: list[tuple[str, str]] = []
    pending_keys: list[str] = []
    for key, groups in zip(keys, pipe.results or (), strict=True):
        info = _projector_group(groups)
        if info is None:  # no stream yet (a new space) or no group: nothing to project
            continue
        pending, waiting = info.get("pending"), info.get("lag")
        pending = pending if isinstance(pending, int) else 0
        waiting = waiting if isinstance(waiting, int) else 0
        entries += pending + waiting
        if pending:
            pending_keys.append(key)
        elif waiting:
            undelivered.append((key, str(info.get("last-delivered-id", "0-0"))))
    oldest = await _oldest_ms(stream_log, pending_keys, undelivered)
    seconds = max(0.0, time.time() - oldest / 1000) if oldest is not None else 0.0
    return GroupLag(entries, seconds)


def _projector_group(groups: Any) -> dict[str, object] | None:
    if isinstance(groups, BaseException):
        return None
    for group in groups:
        if group.get("name") == PROJECTOR_GROUP:
            return dict(group)
    return None


async def _oldest_ms(
    stream_log: StreamLog, pending_keys: list[str], undelivered: list[tuple[str, str]]
) -> int | None:
    """The smallest id time (ms) among the pending entries and the first undelivered ones."""
    if not pending_keys and not undelivered:
        return None
    async with stream_log.redis.pipeline(transaction=False, raise_on_error=False) as pipe:
        for key in pending_keys:
            pipe.xpending(key, PROJECTOR_GROUP)
        for key, last_delivered in undelivered:
            pipe.xrange(key, f"({last_delivered}", "+", count=1)
    results = list(pipe.results or ())
    ids: list[str] = []
    for summary in results[: len(pending_keys)]:  # XPENDING's summaries
        if not isinstance(summary, BaseException) and summary.minimum_identifier:
            ids.append(str(summary.minimum_identifier))
    for following in results[len(pending_keys) :]:  # XRANGE: the first undelivered entry
        if not isinstance(following, BaseException) and following:
            ids.append(str(following[0].identifier))
    return min((parse_id(i)[0] for i in ids), default=None)
