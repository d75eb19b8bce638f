"""The stream reader on a Valkey Cluster: connections per master, not per followed slot.

One blocked XREAD may only name keys of one slot, and a blocked read holds its connection, so
blocking per slot would hold one connection per slot a process follows: hundreds per master for a
process following a thousand spaces, past any pool. Instead the reader waits in this process:

- every append publishes its id on its space's shard channel (chat/streams/lua_wake.py), and one
  subscriber here holds one connection per master, subscribed to the channel of each followed
  space (SSUBSCRIBE, however many slots);
- a message marks its space to read; the reader reads every marked space in one pipelined round
  trip of non-blocking XREADs (one per slot: nothing names keys of two slots; coredis sends each
  master its commands on one connection), from the router's position, and hands the entries to
  the router, which keeps them in order and each once;
- every PASS_SECONDS it reads every followed space anyway: a message lost with the subscriber's
  connection, or a space whose slot moved (its subscription ends), waits at most that long.

A subscription confirmed (SSUBSCRIBE's reply) also marks its space: anything appended between the
position the router read and the subscription is read then. So nothing is missed: an entry is
either before the subscription (read after its confirmation) or after (its message comes), and
the reads go from the router's position, so nothing is handed over twice. See structures.md,
"Valkey Cluster".
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

import anyio
import coredis.exceptions
import trio
from coredis.connection import TCPLocation
from coredis.patterns.pubsub import ShardedPubSub
from coredis.pool import ClusterConnectionPool

from chat.backoff import Backoff
from chat.events import LogEntry, decode_entries
from chat.ids import id_key
from chat.streams.client import Redis, by_slot
from chat.streams.health import LoopHealth
from chat.streams.log import StreamLog

logger = logging.getLogger(__name__)

# Every followed space is read at least this often, messages or not: the longest wait for an
# entry whose message was lost (the subscriber's connection failed, a slot moved). A pass is one
# pipelined XREAD per followed slot (1,000 spaces: about 1,000 cheap commands, one round trip per
# master), so this is also that cost's period. The same bound as a blocked read's on one server.
PASS_SECONDS = 2.0
# A pipelined read of the marked spaces that takes longer failed (its connection hung).
READ_TIMEOUT_SECONDS = 10.0
# How long a subscription (or an unsubscription) waits for the server's confirmation.
SUBSCRIBE_TIMEOUT_SECONDS = 5.0
# The subscriber's own pool: one connection per master for the subscriptions, one spare (its
# keepalive PINGs ride the same connection).
SUBSCRIBER_CONNECTIONS_PER_NODE = 2


class StreamRouter(Protocol):
    """What this reader needs of chat.streams.reader.StreamRouter (which imports this module)."""

    stream_log: StreamLog
    positions: dict[str, str]  # followed space -> the last id handed over
    on_follow_change: Callable[[], None] | None

    def deliver(self, space_id: str, entries: Iterable[LogEntry]) -> None: ...


@dataclass
class _Signal:
    """A wake-up that can be cleared: set() wakes the current wait(); clear() starts afresh."""

    _event: trio.Event = field(default_factory=trio.Event)

    def set(self) -> None:
        self._event.set()

    def clear(self) -> None:
        self._event = trio.Event()

    async def wait(self) -> None:
        await self._event.wait()


@dataclass
class _Marks:
    """What the subscriber tells the reader: the spaces to read, and a wake-up."""

    spaces: set[str] = field(default_factory=set)
    woken: _Signal = field(default_factory=_Signal)

    def mark(self, spaces: set[str] | list[str]) -> None:
        self.spaces.update(spaces)
        self.woken.set()


async def run_cluster_reader(
    redis: Redis,
    router: StreamRouter,
    health: LoopHealth,
    *,
    read_count: int,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Read every space the router follows and hand the entries to it, until cancelled.

    Args:
      redis: a cluster's client (coredis.RedisCluster).
      router: whose followed spaces (`positions`) are read; its `on_follow_change` is set here,
        and called by the router when a space is followed or let go.
      health: marked after every read, succeeded or failed (for /readyz).
      read_count: at most this many entries of a space per read; a space that had more is read
        again at once.

    Resource handling: the subscriber holds one connection per master of the cluster; the reads
    share the client's pool (they do not block). Everything is released on cancellation.

    Error handling: a failed read is retried after a backoff, from the same positions. A failed
    subscriber (a lost connection, a master failing over) is started again after a backoff,
    subscribing to every followed space afresh; meanwhile the periodic pass keeps reading.
    """
    marks = _Marks()
    follow_changed = _Signal()
    async with trio.open_nursery() as nursery:
        router.on_follow_change = follow_changed.set
        try:
            nursery.start_soon(_run_subscriber, redis, router, marks, follow_changed)
            task_status.started()
            await _read_loop(redis, router, marks, health, read_count)
        finally:
            router.on_follow_change = None


async def _read_loop(
    redis: Redis, router: StreamRouter, marks: _Marks, health: LoopHealth, read_count: int
) -> None:
    backoff = Backoff("stream reader")
    next_pass = trio.current_time()
    while True:
        marks.woken.clear()
        a_pass = trio.current_time() >= next_pass
        if a_pass:
            marks.spaces.clear()
            spaces = set(router.positions)
            next_pass = trio.current_time() + PASS_SECONDS
        else:
            spaces, marks.spaces = marks.spaces, set()
        spaces.intersection_update(router.positions)  # unfollowed since they were marked
        if not spaces:
            if a_pass:
                health.succeeded()  # going round with nothing to read: not stalled (/readyz)
            with trio.move_on_at(next_pass):
                await marks.woken.wait()
            continue
        try:
            with trio.fail_after(READ_TIMEOUT_SECONDS):
                found = await _read_spaces(redis, router, spaces, read_count)
            backoff.reset()
            health.succeeded()
        except (coredis.exceptions.RedisError, OSError, trio.TooSlowError) as exc:
            health.failed()
            marks.mark(spaces)
            await backoff.wait(logger, exc)
            continue
        for space_id, entries in found.items():
            if len(entries) >= read_count:
                marks.mark([space_id])  # more wait: read on at once
            _deliver_new(router, space_id, entries)


def _deliver_new(router: StreamRouter, space_id: str, entries: list[Any]) -> None:
    """Hand the router what follows its position (a space followed again while its read was on
    the way has a newer position; what it already has is not handed over twice)."""
    position = router.positions.get(space_id)
    if position is None:
        return  # nobody here follows it any more
    after = id_key(position)
    parsed = [e for e in decode_entries(entries) if id_key(e.id) > after]
    router.deliver(space_id, parsed)


async def _read_spaces(
    redis: Redis, router: StreamRouter, spaces: set[str], count: int
) -> dict[str, list[Any]]:
    """One non-blocking XREAD per slot over `spaces` from their positions, pipelined (one round
    trip per master): the raw entries of each space that has new ones."""
    space_of = {router.stream_log.keys(s).events: s for s in spaces}
    async with redis.pipeline(transaction=False) as pipe:
        for keys in by_slot(list(space_of)):
            pipe.xread({key: router.positions[space_of[key]] for key in keys}, count=count)
    found: dict[str, list[Any]] = {}
    for reply in pipe.results or ():
        for key, entries in dict(reply or {}).items():
            found[space_of[key]] = list(entries)
    return found


async def _run_subscriber(
    redis: Redis, router: StreamRouter, marks: _Marks, follow_changed: _Signal
) -> None:
    """Keep a sharded subscriber on the channel of every followed space, and mark the spaces
    its messages name. Started again after any failure; never returns."""
    backoff = Backoff("stream reader's subscriber")
    while True:
        try:
            async with _open_subscriber(redis) as pubsub, trio.open_nursery() as nursery:
                subscribed: dict[str, str] = {}  # channel -> space, asked or held
                nursery.start_soon(_listen, pubsub, router, marks, subscribed)
                await _keep_subscribed(pubsub, router, subscribed, follow_changed, backoff)
        except* (coredis.exceptions.RedisError, OSError, anyio.ClosedResourceError) as failed:
            # coredis' subscriber runs its connections in a task group of its own, so their
            # failures come as a group. What was published meanwhile is read by the next pass.
            # ClosedResourceError: on its way out coredis unsubscribes on connections that the
            # same cancellation (a shutdown) may have closed already: nothing to report then.
            await trio.lowlevel.checkpoint_if_cancelled()
            first: BaseException = failed
            while isinstance(first, BaseExceptionGroup):
                first = first.exceptions[0]
            await backoff.wait(logger, first)


@asynccontextmanager
async def _open_subscriber(redis: Redis) -> AsyncIterator[ShardedPubSub[str]]:
    """coredis' sharded subscriber (one connection per master) on a pool of its own, closed
    with it. Its own pool, because coredis 6.9's subscriber never hands its connections back:
    on the client's pool every restart would keep one of each master's 128 for good. A fresh
    pool also reads the cluster's slot map afresh (CLUSTER SLOTS), so a subscriber started
    after a failover or a slot move asks the right masters."""
    cluster = cast(coredis.RedisCluster[str], redis).connection_pool
    pool = ClusterConnectionPool(
        [TCPLocation(node.host, node.port) for node in cluster.cluster_layout.primaries],
        max_connections=SUBSCRIBER_CONNECTIONS_PER_NODE,
        max_connections_per_node=True,
        timeout=SUBSCRIBE_TIMEOUT_SECONDS,
        **cluster.connection_kwargs,
    )
    async with pool:
        pubsub = ShardedPubSub[str](
            pool,
            ignore_subscribe_messages=False,
            retry_policy=None,  # a failure ends the subscriber; _run_subscriber starts it again
            subscription_timeout=SUBSCRIBE_TIMEOUT_SECONDS,
            unsubscription_timeout=SUBSCRIBE_TIMEOUT_SECONDS,
        )
        async with pubsub:
            yield pubsub


async def _keep_subscribed(
    pubsub: ShardedPubSub[str],
    router: StreamRouter,
    subscribed: dict[str, str],
    follow_changed: _Signal,
    backoff: Backoff,
) -> None:
    """Subscribe to the channels of spaces followed since, unsubscribe from those let go;
    then wait for the router's next change."""
    while True:
        follow_changed.clear()  # before the diff: a change meanwhile is seen at the next wait
        wanted = {router.stream_log.keys(s).appended: s for s in router.positions}
        gone = [channel for channel in subscribed if channel not in wanted]
        new = [channel for channel in wanted if channel not in subscribed]
        for channel in gone:
            del subscribed[channel]  # before asking: its confirmation is then not a surprise
        subscribed.update((channel, wanted[channel]) for channel in new)
        try:
            if gone:
                await pubsub.unsubscribe(*gone)
            if new:
                await pubsub.subscribe(*new)
        except KeyError as exc:  # coredis knows no connection to the node of a channel's slot
            raise coredis.exceptions.PubSubError("the cluster's layout changed") from exc
        backoff.reset()
        await follow_changed.wait()


async def _listen(
    pubsub: ShardedPubSub[str],
    router: StreamRouter,
    marks: _Marks,
    subscribed: dict[str, str],
) -> None:
    """Mark the space of every message, and of every subscription confirmed. A subscription the
    server ended by itself means its slot moved to another master: the subscriber starts again
    (on a fresh slot map)."""
    while True:
        message = await pubsub.get_message()
        if message is None:
            continue
        channel = str(message["channel"])
        space_id = subscribed.get(channel)
        if space_id is None:
            continue  # a channel let go (its unsubscription's confirmation)
        match message["type"]:
            case "message":
                position = router.positions.get(space_id)
                if position is not None and id_key(str(message["data"])) > id_key(position):
                    marks.mark([space_id])
            case "ssubscribe":
                marks.mark([space_id])
            case "sunsubscribe":
                marks.mark([space_id])
                raise coredis.exceptions.PubSubError("a followed space's slot moved")
