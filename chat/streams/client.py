"""Opening the Redis connection pool, with a deadline on every command: one server, or a Valkey
(Redis) Cluster when the URL's scheme says so (`redis+cluster://`, `rediss+cluster://`)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar, cast
from urllib.parse import unquote, urlsplit, urlunsplit

import coredis
import coredis.exceptions
import trio
from coredis._utils import hash_slot
from coredis.cluster._node import ClusterNodeLocation
from coredis.connection import TCPLocation
from coredis.retry import RetryPolicy

R = TypeVar("R")

# The client type every module is written against. A cluster's client (coredis.RedisCluster)
# has the same command methods and is handed around under this name (see open_redis); the few
# places that must know which they hold ask `is_cluster`.
Redis = coredis.Redis[str]

# A URL whose scheme ends so names a Valkey Cluster: any of its nodes is a seed, coredis learns
# the rest (CLUSTER SLOTS) and routes each command to the master of its key's slot.
CLUSTER_SCHEME_SUFFIX = "+cluster"
# Each node of a cluster gets its own pool of this many. Ordinary commands share connections
# (coredis lets go of one once a request is written); what holds one is a blocking command (the
# group consumers' XREADGROUP, a WAIT) and the reader's subscriber (one per master): the stream
# reader never blocks per slot (chat/streams/cluster_reader.py), so this is headroom, not a
# ceiling on the spaces a process follows.
CLUSTER_MAX_CONNECTIONS_PER_NODE = 128
CLUSTER_SLOTS = 16384

# Each XREAD that blocks holds one connection; requests share the rest.
MAX_CONNECTIONS = 64
CONNECT_TIMEOUT_SECONDS = 5.0
DEFAULT_COMMAND_TIMEOUT_SECONDS = 5.0
# The longest BLOCK of any XREAD/XREADGROUP (chat/streams/reader.py and control.py: 2 s; the
# projector's: 1 s). coredis has one reply timeout per connection, blocking commands included,
# so the command timeout must exceed the longest block by a margin for the reply to travel;
# tests/streams/test_client.py holds the readers to it.
LONGEST_BLOCK_SECONDS = 2.0
BLOCK_MARGIN_SECONDS = 0.5
MIN_COMMAND_TIMEOUT_SECONDS = LONGEST_BLOCK_SECONDS + BLOCK_MARGIN_SECONDS


# A command whose connection was lost is retried on a fresh one, as coredis does by default (a
# restarted server leaves stale connections behind), at most RETRIES times. Only if it failed
# fast: a lost connection shows at once, while an attempt slower than this met a slow or hung
# server (its handshake timed out, say), and retrying would multiply the command timeout.
RETRIES = 2
RETRY_DELAY_SECONDS = 0.01
FAST_FAILURE_SECONDS = 0.5
# A cluster: how long a command keeps retrying while a master fails over to its replica (the
# nodes' cluster-node-timeout plus the election), and how often.
FAILOVER_RETRY_SECONDS = 4.0
CLUSTER_RETRY_DELAY_SECONDS = 0.1


class RetryLostConnections(RetryPolicy):
    """coredis' retry policy for this client: see RETRIES. A timeout is never retried."""

    def __init__(self) -> None:
        super().__init__((coredis.exceptions.ConnectionError,), RETRIES)

    def delay(self, attempt_number: int) -> float:
        return RETRY_DELAY_SECONDS

    async def call_with_retries(
        self,
        func: Callable[..., Awaitable[R]],
        before_hook: Callable[..., Awaitable[Any] | None] | None = None,
        failure_hook: Any = None,  # coredis' telemetry hook; not used here
    ) -> R:
        for attempt in range(RETRIES + 1):
            started = trio.current_time()
            try:
                if before_hook is not None and (pending := before_hook()) is not None:
                    await pending
                return await func()
            except coredis.exceptions.ConnectionError:
                slow = trio.current_time() - started > FAST_FAILURE_SECONDS
                if slow or attempt == RETRIES:
                    raise
            await trio.sleep(self.delay(attempt))
        raise AssertionError("unreachable: the last attempt returns or raises")


@asynccontextmanager
async def open_redis(
    url: str, *, command_timeout: float = DEFAULT_COMMAND_TIMEOUT_SECONDS
) -> AsyncIterator[Redis]:
    """A connection pool to `url`, closed on exit.

    Every command's reply is awaited at most `command_timeout` seconds (coredis' per-connection
    `stream_timeout`, which also bounds the HELLO of a new connection), and so is the wait for a
    free pooled connection. Past it the command raises the builtin `TimeoutError`: the command
    may or may not have run on the server (see each `do_*` of chat/streams/log.py for what that
    means). Raises ValueError when `command_timeout` leaves no room for the blocking reads.
    """
    if command_timeout < MIN_COMMAND_TIMEOUT_SECONDS:
        raise ValueError(
            f"the Redis command timeout must be at least {MIN_COMMAND_TIMEOUT_SECONDS} s"
            f" (the blocking reads wait {LONGEST_BLOCK_SECONDS} s), not {command_timeout}"
        )
    seed = cluster_seed_url(url)
    client: Redis
    if seed is not None:
        # coredis follows MOVED and ASK itself and refreshes its slot map on errors (a reshard,
        # a failover); the retry policy also rides out the seconds a failed master's slots are
        # down (CLUSTERDOWN) or refuse connections until its replica takes over.
        parts = urlsplit(seed)
        # Built from the URL's parts: coredis' own from_url passes its seed in a deprecated
        # form (a DeprecationWarning on every connection).
        cluster = coredis.RedisCluster(
            startup_nodes=[TCPLocation(parts.hostname or "127.0.0.1", parts.port or 6379)],
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            ssl=parts.scheme == "rediss",
            decode_responses=True,
            max_connections=CLUSTER_MAX_CONNECTIONS_PER_NODE,
            max_connections_per_node=True,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            stream_timeout=command_timeout,
            pool_timeout=command_timeout,
            retry_policy=ClusterRetries(),
        )
        client = cast(Redis, cluster)  # same command methods; see `Redis`
    else:
        client = coredis.Redis.from_url(
            url,
            decode_responses=True,
            max_connections=MAX_CONNECTIONS,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            stream_timeout=command_timeout,
            pool_timeout=command_timeout,
            retry_policy=RetryLostConnections(),
        )
    async with client:
        yield client


def cluster_seed_url(url: str) -> str | None:
    """The plain URL of a cluster's seed node when `url` names a cluster, else None."""
    parts = urlsplit(url)
    if not parts.scheme.endswith(CLUSTER_SCHEME_SUFFIX):
        return None
    return urlunsplit(parts._replace(scheme=parts.scheme.removesuffix(CLUSTER_SCHEME_SUFFIX)))


def is_cluster(redis: Redis) -> bool:
    return isinstance(redis, coredis.RedisCluster)


def slot_of(key: str) -> int:
    """The cluster slot of `key` (its hash tag's, when it has one)."""
    return hash_slot(key.encode())


def by_slot(keys: list[str]) -> list[list[str]]:
    """`keys` grouped by cluster slot (order kept within a group): what one multi-key command
    may name in a cluster."""
    groups: dict[int, list[str]] = {}
    for key in keys:
        groups.setdefault(slot_of(key), []).append(key)
    return list(groups.values())


async def ping_every_node(redis: Redis) -> None:
    """PING the server, or every master of a cluster: raises when any does not answer (a shard
    down is a part of the log down, so /readyz fails)."""
    if not is_cluster(redis):
        await redis.ping()
        return
    cluster = cast(coredis.RedisCluster[str], redis)
    # The slot map as the cluster has it now (not coredis' copy, which it refreshes only after
    # errors of commands): every slot must have a master, and every master must answer.
    covered, masters = 0, set[tuple[str, int]]()
    for shard in await cluster.cluster_shards():
        ranges = [int(bound) for bound in cast(list[Any], shard["slots"])]
        if not ranges:
            continue  # a shard without slots (a node being added) serves nothing
        # A master the cluster has marked failed stays listed (as a master) until it rejoins:
        # the shard's master is the one online, and the shard is down without one.
        online = [
            (str(node.get("endpoint") or node["ip"]), int(node["port"]))
            for node in cast(list[dict[str, Any]], shard["nodes"])
            if node.get("role") == "master" and node.get("health") == "online"
        ]
        if not online:
            raise coredis.exceptions.ClusterDownError("a shard has no master online")
        pairs = zip(ranges[::2], ranges[1::2], strict=True)
        covered += sum(end - start + 1 for start, end in pairs)
        masters.update(online)
    if covered < CLUSTER_SLOTS:
        raise coredis.exceptions.ClusterDownError("some slots have no master")
    kwargs = cluster.connection_pool.connection_kwargs

    async def ping(host: str, port: int) -> None:
        async with ClusterNodeLocation(host, port).as_client(**kwargs) as node:
            await node.ping()

    async with trio.open_nursery() as nursery:
        for host, port in masters:
            nursery.start_soon(ping, host, port)


class ClusterRetries(RetryLostConnections):
    """A cluster's retry policy: lost connections and a slot that is down (CLUSTERDOWN, or a
    master that refuses connections until its replica is promoted) are retried for up to
    FAILOVER_RETRY_SECONDS, giving coredis the time to learn the new master; a timeout never."""

    def __init__(self) -> None:
        RetryPolicy.__init__(
            self,
            (coredis.exceptions.ConnectionError, coredis.exceptions.ClusterDownError),
            None,
        )

    async def call_with_retries(
        self,
        func: Callable[..., Awaitable[R]],
        before_hook: Callable[..., Awaitable[Any] | None] | None = None,
        failure_hook: Any = None,
    ) -> R:
        deadline = trio.current_time() + FAILOVER_RETRY_SECONDS
        while True:
            try:
                if before_hook is not None and (pending := before_hook()) is not None:
                    await pending
                return await func()
            except (
                coredis.exceptions.ConnectionError,
                coredis.exceptions.ClusterDownError,
                coredis.exceptions.ClusterError,
            ):
                if trio.current_time() >= deadline:
                    raise
                if failure_hook is not None:
                    with contextlib.suppress(Exception):
                        await failure_hook(sys.exc_info()[1])
            await trio.sleep(CLUSTER_RETRY_DELAY_SECONDS)
