"""`chat projector status` (lag per space, consumers and their idle times) and `chat projector
prune` (delete the consumers that stopped processes left behind).

Every process reads the space streams as consumer `node-<node id>` of the groups `projector`
and `router`, and a node id is new at each start, so each start left a consumer on every space
stream for good. A live process reads every space at least once a second (its blocking reads
last 1 s), so a consumer idle for much longer belongs to a process that is gone.
"""

from __future__ import annotations

import time

from chat.ids import parse_id
from chat.json_types import Json
from chat.ops import lookup, render
from chat.ops.context import Ops
from chat.streams import inspect, upkeep
from chat.streams.keys import PROJECTOR_GROUP, ROUTER_GROUP

# `prune`'s default: idle this long and the process is gone (a live one reads every second;
# an hour leaves room for a process stuck in a long outage, whose consumer comes back anyway
# at its next read, XREADGROUP creates it again).
DEFAULT_IDLE_SECONDS = 3600
# Groups whose pending entries nobody reclaims: the router routes from the state, not from the
# entries (chat/actors/router.py), so a gone consumer's pending entries are dropped with it.
# Any other group's consumer is deleted only once it has none: the projector's are reclaimed
# (XAUTOCLAIM) by a live projector first, and dropping them would lose projections.
PENDING_DROPPABLE = frozenset({ROUTER_GROUP})


async def status(ops: Ops) -> Json:
    spaces: list[Json] = []
    consumers: dict[tuple[str, str], Json] = {}
    for space in await lookup.all_spaces(ops):
        keys = ops.keys(space.id)
        stream = await inspect.stream_summary(ops.redis, keys.events)
        row: Json = {
            "space_id": space.id,
            "space_name": space.name,
            "organization": space.organization_name,
            "length": stream.length,
            "last_id": stream.last_id,
            "dead_letters": await inspect.dead_letter_count(ops.redis, keys),
            "projector": None,
        }
        for group in await inspect.groups(ops.redis, keys.events):
            for c in group.consumers:
                seen = consumers.setdefault(
                    (group.name, c.name),
                    {
                        "group": group.name,
                        "consumer": c.name,
                        "spaces": 0,
                        "pending": 0,
                        "idle_ms": c.idle_ms,
                    },
                )
                seen["spaces"] += 1
                seen["pending"] += c.pending
                seen["idle_ms"] = min(seen["idle_ms"], c.idle_ms)
            if group.name == PROJECTOR_GROUP:
                oldest = await inspect.oldest_unprocessed(ops.redis, keys.events, group)
                lag = max(0.0, time.time() - parse_id(oldest)[0] / 1000) if oldest else 0.0
                row["projector"] = {
                    "last_delivered_id": group.last_delivered_id,
                    "pending": group.pending,
                    "not_read": group.undelivered,
                    "lag_seconds": round(lag, 3),
                    "consumers": len(group.consumers),
                }
        spaces.append(row)
    ordered = sorted(consumers.values(), key=lambda c: (c["group"], c["idle_ms"], c["consumer"]))
    return {"spaces": spaces, "consumers": ordered}


def text_status(report: Json) -> str:
    rows = []
    for s in report["spaces"]:
        p = s["projector"] or {}
        rows.append(
            [
                s["space_name"],
                s["space_id"],
                s["length"],
                p.get("pending", "no group"),
                p.get("not_read"),
                f"{p['lag_seconds']:.1f} s" if p else None,
                s["dead_letters"],
            ]
        )
    consumers = [
        [c["group"], c["consumer"], c["spaces"], c["pending"], f"{c['idle_ms'] / 1000:.1f} s"]
        for c in report["consumers"]
    ]
    return "\n".join(
        [
            render.table(
                ["space", "id", "entries", "pending", "not read", "lag", "dead letters"], rows
            ),
            "",
            render.table(["group", "consumer", "spaces", "pending", "idle"], consumers),
        ]
    )


async def prune(ops: Ops, idle_seconds: float, *, dry_run: bool) -> list[Json]:
    """Delete the consumers idle for `idle_seconds` or more, on every space stream (deleted
    spaces' too), keeping any with pending entries that a live process would take over."""
    done = []
    for space in await lookup.all_spaces(ops, with_deleted=True):
        key = ops.keys(space.id).events
        for group in await inspect.groups(ops.redis, key):
            for c in group.consumers:
                if c.idle_ms < idle_seconds * 1000:
                    continue
                if c.pending and group.name not in PENDING_DROPPABLE:
                    action = f"kept: {c.pending} pending, reclaimed by a live {group.name}"
                elif dry_run:
                    action = "would delete"
                else:
                    await upkeep.delete_consumer(ops.redis, key, group.name, c.name)
                    action = "deleted"
                done.append(
                    {
                        "space_id": space.id,
                        "group": group.name,
                        "consumer": c.name,
                        "pending": c.pending,
                        "idle_ms": c.idle_ms,
                        "action": action,
                    }
                )
    return done


def text_prune(rows: list[Json]) -> str:
    """One line per consumer and outcome, with how many space streams it was on."""
    counted: dict[tuple[str, str, str], int] = {}
    for r in rows:
        key = (r["group"], r["consumer"], r["action"])
        counted[key] = counted.get(key, 0) + 1
    return render.table(
        ["group", "consumer", "spaces", "action"],
        [[g, c, n, a] for (g, c, a), n in sorted(counted.items())],
    )
