"""Valkey's memory and its limit per server (chat/streams/memory.py), for /metrics' gauges: the
embedded Valkey (every master of the cluster, in tests/cluster/) has a limit."""

from __future__ import annotations

import trio

from chat.streams.log import StreamLog
from chat.streams.memory import memory_by_node


async def test_every_server_reports_its_memory_and_limit(stream_log: StreamLog) -> None:
    with trio.fail_after(10):
        nodes = await memory_by_node(stream_log.redis)
        assert nodes
        assert len({n.node for n in nodes}) == len(nodes)
        for node in nodes:
            assert 0 < node.used < node.limit
