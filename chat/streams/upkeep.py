"""The few writes operator commands make (`chat dead-letters drop|replay`, `chat projector
prune`): each removes something an operator chose, nothing else. The reads are in inspect.py."""

from __future__ import annotations

from chat.streams.client import Redis


async def delete_consumer(redis: Redis, key: str, group: str, consumer: str) -> int:
    """XGROUP DELCONSUMER; the number of pending entries it had (dropped with it: callers
    delete only consumers whose entries someone else takes over, or none)."""
    return int(await redis.xgroup_delconsumer(key, group, consumer))


async def delete_entries(redis: Redis, key: str, entry_ids: list[str]) -> int:
    """XDEL these entries (dead letters an operator dropped or replayed); how many were there."""
    if not entry_ids:
        return 0
    return int(await redis.xdel(key, entry_ids))
