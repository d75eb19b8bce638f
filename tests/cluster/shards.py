"""Which master of a local cluster holds a key's slot (CLUSTER SLOTS, asked of a live node)."""

from __future__ import annotations

from chat.embedded.cluster import ClusterNode, LocalCluster
from chat.embedded.resp import RespError, call
from chat.streams.client import slot_of


def master_of(cluster: LocalCluster, key: str) -> ClusterNode:
    slot = slot_of(key)
    for node in cluster.nodes:
        try:
            ranges = call("127.0.0.1", node.port, cluster.password, "CLUSTER", "SLOTS")
        except (OSError, RespError):
            continue
        assert isinstance(ranges, list)
        for entry in ranges:
            assert isinstance(entry, list)
            low, high, primary = entry[0], entry[1], entry[2]
            assert isinstance(low, int) and isinstance(high, int) and isinstance(primary, list)
            if low <= slot <= high:
                return next(n for n in cluster.nodes if n.port == primary[1])
    raise AssertionError(f"no node answers for slot {slot}")


def slot_ranges(cluster: LocalCluster) -> list[tuple[int, int, int]]:
    """The cluster's slot ranges as (first, last, its master's port), asked of a live node."""
    for node in cluster.nodes:
        try:
            ranges = call("127.0.0.1", node.port, cluster.password, "CLUSTER", "SLOTS")
        except (OSError, RespError):
            continue
        assert isinstance(ranges, list)
        found = []
        for entry in ranges:
            assert isinstance(entry, list)
            low, high, primary = entry[0], entry[1], entry[2]
            assert isinstance(low, int) and isinstance(high, int) and isinstance(primary, list)
            assert isinstance(primary[1], int)
            found.append((low, high, primary[1]))
        return found
    raise AssertionError("no node answers CLUSTER SLOTS")
