"""One reader per process: a single XREAD over the space streams this process cares about.

Thousands of idle threads must not each hold a connection or a blocked XREAD. Every entry of a
thread is also in its space's `events` stream, so the reader follows only space streams and routes
each entry by its routes (thread id, visitor) and kind to the subscriptions of this process. The
set of streams changes when a subscription needs a space nobody here followed; the reader is then
woken through its node's private wake stream. See structures.md, "Reading".

In a Valkey Cluster one XREAD may only name keys of one slot, and a blocked one holds a
connection, so the reader there waits in this process instead, woken by the appends' shard
channels, and reads the spaces named in one pipelined round trip (chat/streams/cluster_reader.py).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import coredis.exceptions
import trio

from chat.backoff import Backoff
from chat.events import QUEUE_ROUTE, LogEntry, decode_entries
from chat.streams.client import Redis, is_cluster
from chat.streams.cluster_reader import run_cluster_reader
from chat.streams.health import LoopHealth
from chat.streams.keys import node_wake_key
from chat.streams.log import StreamLog

logger = logging.getLogger(__name__)

# XREAD blocks at most this long so that shutdown and new streams are never waited on for long.
READ_BLOCK_MS = 2000
READ_COUNT = 500
# After a read that brought a few entries, the next waits this long, so that it brings the
# entries appended meanwhile in one round trip: under load the reader made about one XREAD per
# 1.6 entries (issue 19), each a round trip and a parse. A lone entry is not delayed (the read
# before it found nothing); one that follows another within this time waits at most this long.
READ_LINGER_SECONDS = 0.002
SMALL_READ = 8
# A subscription buffers this many entries; a consumer further behind is cut off and catches up
# from the log itself, rather than making every other subscriber wait.
SUBSCRIPTION_BUFFER = 512

# A wake stream outlives its process by at most this long: node ids are random per start, so
# each stopped process would leave its wake streams behind. Every wake renews it; a reader whose
# wake stream expired while it idled loses nothing (its XREAD waits on the missing key, and the
# next wake makes the stream again with a newer id).
WAKE_TTL_SECONDS = 3600
# KEYS[1] the wake stream; ARGV[1] its TTL. One step, so no wake stream is left without a TTL.
_WAKE = r"""
redis.call('XADD', KEYS[1], 'MAXLEN', 1, '*', 'w', '1')
return redis.call('EXPIRE', KEYS[1], ARGV[1])
"""

# A subscription's selector: (space, route) where route is a thread id, "v:<visitor>", "queue", or
# "*<kind>" / "*" for the whole space (optionally one kind of entry only).
_Selector = tuple[str, str]


@dataclass(eq=False)
class Subscription:
    space_id: str
    route: str
    send: trio.MemorySendChannel[LogEntry]
    receive: trio.MemoryReceiveChannel[LogEntry]
    overflowed: bool = False


@dataclass(eq=False)
class Listener:
    """Like a Subscription, but the reader calls `on_entry` with each entry, in the reader's
    task: for consumers whose handling is a few lines that never block (a visitor session's
    presence, own threads and queue). No channel, no task, and never cut off (issue 19: each
    widget socket held three subscriptions, each a channel and a task)."""

    space_id: str
    route: str
    on_entry: Callable[[LogEntry], None]


@dataclass
class StreamRouter:
    """The registry of subscriptions of this process, shared by the reader and the actors."""

    stream_log: StreamLog
    node_id: str
    positions: dict[str, str] = field(default_factory=dict)  # space id -> last id read
    # Subscriptions cut off for falling behind, by route kind (route_kind): a deliberate drop,
    # counted for /metrics. Each is re-subscribed by its owner and catches up from the log.
    overflows: Counter[str] = field(default_factory=Counter)
    _subs: dict[_Selector, set[Subscription | Listener]] = field(default_factory=dict)
    _followers: dict[str, int] = field(default_factory=dict)
    # A cluster: told when a space is followed or let go (set by the cluster reader, which waits
    # in this process rather than in Valkey). None on one server, where the wake stream tells.
    on_follow_change: Callable[[], None] | None = None

    def __post_init__(self) -> None:
        self._wake = self.stream_log.redis.register_script(_WAKE)

    @property
    def wake_key(self) -> str:
        return node_wake_key(self.stream_log.prefix, self.node_id)

    async def subscribe(
        self, space_id: str, *, route: str | None = None, kind: str | None = None
    ) -> Subscription:
        """Entries of a thread or visitor (`route`), else of the space (only `kind`, if given).

        Every matching entry appended after this returns is delivered; some earlier ones may be.
        """
        selector = route if route is not None else "*" + (kind or "")
        send, receive = trio.open_memory_channel[LogEntry](SUBSCRIPTION_BUFFER)
        sub = Subscription(space_id, selector, send, receive)
        await self._add(sub)
        return sub

    async def listen(
        self,
        space_id: str,
        on_entry: Callable[[LogEntry], None],
        *,
        route: str | None = None,
        kind: str | None = None,
    ) -> Listener:
        """`on_entry` called with the entries `subscribe` would deliver, from this return on.
        It runs in the reader's task: it must not block nor raise."""
        selector = route if route is not None else "*" + (kind or "")
        listener = Listener(space_id, selector, on_entry)
        await self._add(listener)
        return listener

    async def _add(self, sub: Subscription | Listener) -> None:
        space_id = sub.space_id
        self._subs.setdefault((space_id, sub.route), set()).add(sub)
        self._followers[space_id] = self._followers.get(space_id, 0) + 1
        if space_id not in self.positions:
            # The reader picks the new space up from its current last entry.
            last = await self.stream_log.last_id(self.stream_log.keys(space_id).events)
            if space_id in self.positions:
                # Another first subscriber's `_add` set it during that await, and the reader may
                # have delivered past it since: setting ours would move the reader back (entries
                # delivered twice) or, read later than the reader got, forward past entries
                # nobody was given yet (lost to every subscriber of the space). Ours, registered
                # before the await, gets everything after that position.
                return
            self.positions[space_id] = last
            if is_cluster(self.stream_log.redis):
                if self.on_follow_change is not None:
                    self.on_follow_change()
            else:
                await self._wake(keys=[self.wake_key], args=[str(WAKE_TTL_SECONDS)])

    def unsubscribe(self, sub: Subscription | Listener) -> None:
        subs = self._subs.get((sub.space_id, sub.route))
        if subs is None or sub not in subs:
            return
        subs.discard(sub)
        if not subs:
            del self._subs[(sub.space_id, sub.route)]
        self._followers[sub.space_id] -= 1
        if self._followers[sub.space_id] == 0:
            del self._followers[sub.space_id]
            self.positions.pop(sub.space_id, None)
            if self.on_follow_change is not None:
                self.on_follow_change()
        if isinstance(sub, Subscription):
            sub.send.close()

    def deliver(self, space_id: str, entries: Iterable[LogEntry]) -> None:
        for entry in entries:
            if space_id not in self.positions:
                # Its last subscription left (or overflowed) earlier in this batch: setting the
                # position again would keep the reader on a stream nobody here follows.
                return
            self.positions[space_id] = entry.id
            for selector in ("*", "*" + entry.event.type, *entry.routes):
                for sub in list(self._subs.get((space_id, selector), ())):
                    self._offer(sub, entry)

    def _offer(self, sub: Subscription | Listener, entry: LogEntry) -> None:
        if isinstance(sub, Listener):
            try:
                sub.on_entry(entry)
            except Exception:
                # A listener's bug ends that listener, never the reader every session shares.
                logger.exception("a listener of space %s failed; it is dropped", sub.space_id)
                self.unsubscribe(sub)
            return
        try:
            sub.send.send_nowait(entry)
        except trio.WouldBlock:
            logger.warning("a subscription of space %s fell behind; it catches up", sub.space_id)
            sub.overflowed = True
            self.overflows[route_kind(sub.route)] += 1
            self.unsubscribe(sub)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            self.unsubscribe(sub)


def route_kind(route: str) -> str:
    """What a subscription follows, without ids: "space", a kind ("presence"), "visitor" or
    "thread". Labels for /metrics, where a label per space or thread would be unbounded."""
    if route == "*":
        return "space"
    if route.startswith("*"):
        return route[1:]
    if route == QUEUE_ROUTE:
        return "queue"
    return "visitor" if route.startswith("v:") else "thread"


async def run_stream_reader(
    redis: Redis,
    router: StreamRouter,
    health: LoopHealth | None = None,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Read every followed space stream and route entries. Redis errors: back off and go on.

    `health` (for /readyz) is marked after every read: succeeded or failed. On one server this
    is one blocked XREAD; in a cluster, chat/streams/cluster_reader.py."""
    health = health or LoopHealth()
    if is_cluster(redis):
        await run_cluster_reader(
            redis, router, health, read_count=READ_COUNT, task_status=task_status
        )
        return
    wake_position = await router.stream_log.last_id(router.wake_key)
    task_status.started()
    await _read_loop(redis, router, health, router.wake_key, wake_position)


async def _read_loop(
    redis: Redis, router: StreamRouter, health: LoopHealth, wake_key: str, wake_position: str
) -> None:
    """XREAD the wake stream and the followed spaces until cancelled."""
    key_of: dict[str, str] = {}
    space_of: dict[str, str] = {}
    backoff = Backoff("stream reader")
    while True:
        streams = {wake_key: wake_position}
        for space_id, position in router.positions.items():
            if space_id not in key_of:
                key_of[space_id] = router.stream_log.keys(space_id).events
                space_of[key_of[space_id]] = space_id
            streams[key_of[space_id]] = position
        try:
            with trio.fail_after(READ_BLOCK_MS / 1000 + 10):
                reply = await redis.xread(streams, count=READ_COUNT, block=READ_BLOCK_MS)
            backoff.reset()
            health.succeeded()
        except (coredis.exceptions.RedisError, OSError, trio.TooSlowError) as exc:
            health.failed()
            await backoff.wait(logger, exc)
            continue
        read = 0
        for key, entries in (reply or {}).items():
            if key == wake_key:
                wake_position = str(entries[-1].identifier)
                continue
            read += len(entries)
            space_id = space_of[key]
            if space_id in router.positions:  # else nobody here follows it any more
                parsed = decode_entries(entries)
                router.deliver(space_id, parsed)
        if 0 < read < SMALL_READ:
            await trio.sleep(READ_LINGER_SECONDS)
