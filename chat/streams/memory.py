"""Valkey's memory against its limit, per server (every master of a cluster), for /metrics'
`chat_valkey_used_memory_bytes` and `chat_valkey_maxmemory_bytes` and the alert on their ratio
(README, "Memory and maxmemory"). With `maxmemory-policy noeviction` a full Valkey refuses
writes: appends answer `unavailable` until memory is freed or the limit raised, so the ratio is
worth an alert well before 1.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, cast

import coredis
import coredis.exceptions
from coredis.cluster._node import ClusterNodeLocation

from chat.streams.client import Redis, is_cluster

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class NodeMemory:
    node: str  # host:port, or "server" for the one server of a plain deployment
    used: int  # INFO memory's used_memory
    limit: int  # maxmemory; 0 means no limit


def _memory(info: dict[str, Any]) -> tuple[int, int]:
    return int(info.get("used_memory", 0)), int(info.get("maxmemory", 0))


async def memory_by_node(redis: Redis) -> list[NodeMemory]:
    """INFO memory of the server, or of each master of a cluster (one connection each)."""
    if not is_cluster(redis):
        return [NodeMemory("server", *_memory(dict(await redis.info("memory"))))]
    cluster = cast(coredis.RedisCluster[str], redis)
    masters: set[tuple[str, int]] = set()
    for shard in await cluster.cluster_shards():
        for member in cast(list[dict[str, Any]], shard["nodes"]):
            if member.get("role") == "master" and member.get("health") == "online":
                masters.add((str(member.get("endpoint") or member["ip"]), int(member["port"])))
    kwargs = cluster.connection_pool.connection_kwargs
    found = []
    for host, port in sorted(masters):
        node = await _node_memory(host, port, kwargs)
        if node is not None:
            found.append(node)
    return found


async def _node_memory(host: str, port: int, kwargs: Any) -> NodeMemory | None:
    """One master's INFO memory; None when it does not answer (a master that just died is still
    "online" in CLUSTER SHARDS for a moment: its sample is skipped, the others still taken)."""
    info: dict[str, Any] | None = None
    try:
        async with ClusterNodeLocation(host, port).as_client(**kwargs) as client:
            info = dict(await client.info("memory"))
    # The node's own client reports a failed connect from its task group, as an exception group:
    # only these, from this one node, are handled here.
    except* (coredis.exceptions.RedisError, OSError) as failed:
        logger.debug("memory of %s:%s not read: %r", host, port, failed.exceptions)
    return None if info is None else NodeMemory(f"{host}:{port}", *_memory(info))
