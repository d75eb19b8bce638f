"""Appends (`do_*`) and reads of the durable log, one space at a time.

Every append is one Lua script, so it is atomic. The appends that acks wait for (messages, thread
changes, visitor updates) are group-committed: those of one process that arrive while a batch is
in flight travel together in the next pipeline on one connection, and with
`ack_durability = "fsync"` one `WAITAOF 1 0` after the batch's scripts confirms them all. See
structures.md, "Atomicity" and "Durability and acks".

Deadlines and cancellation (structures.md, "Deadlines and cancellation"): every command waits
at most the client's command timeout (chat/streams/client.py), then raises the builtin
`TimeoutError`; a lost connection raises `coredis.exceptions.ConnectionError`. Each append is
one script, so it is stored whole or not at all, but a caller that was cancelled, or that got
one of those errors, cannot tell which: the script may have run. Each `do_*` says what a retry
then does.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from coredis import PureToken
from coredis.commands.script import Script

from chat.clock import now_ms
from chat.config import AckDurability
from chat.errors import (
    AlreadyClaimedError,
    ChatError,
    InvalidError,
    NotHolderError,
    QueueFullError,
    RateLimitedError,
    ThreadClosedError,
    ThreadNotFoundError,
    VisitorBusyError,
)
from chat.events import (
    AttachmentRef,
    LogEntry,
    QuickReply,
    ThreadSnapshot,
    VisitorInfo,
    decode_entries,
)
from chat.ids import entry_time, format_id, is_stream_id, parse_id
from chat.streams import lua, lua_queue, lua_wake
from chat.streams.bots import BotsLog
from chat.streams.client import Redis, ping_every_node
from chat.streams.group_commit import Append, GroupCommit
from chat.streams.identity import IdentityLog
from chat.streams.keys import SpaceKeys
from chat.streams.lifecycle import Lifecycle
from chat.streams.limits import Rate
from chat.streams.notes import NotesLog
from chat.streams.ratings import RatingsLog
from chat.streams.read_state import ReadState
from chat.streams.viewing import Viewing
from chat.streams.visitor_join import VisitorJoins

# A sender's client_ids are remembered at least this long after each send, and at most twice
# as long (chat/streams/lua.py, DEDUPE_FUNCTIONS): the resume window unless the caller says
# (Settings' resume_window_seconds), since a client that resends an unacked message does so
# when it reconnects. PostgreSQL's unique (thread_id, sender_id, client_id) catches any replay
# older than that.
DEFAULT_DEDUPE_WINDOW_SECONDS = 3600
# A visitor's hash lives this long after an update unless the caller says (Settings'
# visitor_active_ttl_seconds).
DEFAULT_VISITOR_TTL_SECONDS = 30 * 86400
HOUR_SECONDS = 3600.0
# The contract's default presence TTL (Settings.presence_ttl_seconds).
DEFAULT_PRESENCE_TTL_SECONDS = 60

_SCRIPT_ERRORS: dict[str, type[ChatError]] = {
    "rate_limited": RateLimitedError,
    "queue_full": QueueFullError,
    "thread_closed": ThreadClosedError,
    "not_found": ThreadNotFoundError,
    "already_claimed": AlreadyClaimedError,
    "forbidden": NotHolderError,
    "invalid": InvalidError,
    "visitor_busy": VisitorBusyError,
}

ThreadAction = Literal["claim", "close", "transfer", "expire", "idle", "reopen"]


@dataclass(frozen=True, slots=True)
class Ack:
    """What a sender hears once its message is in the log."""

    client_id: str
    id: str
    thread_id: str
    # A visitor's message in a conversation its bot holds (structures.md, "Bots"): that bot, and
    # the visitor's messages in a row it has not answered, this one included. Not in the frame.
    bot_id: str = ""
    bot_unanswered: int = 0

    @property
    def created_at(self) -> str:
        return entry_time(self.id)


@dataclass(frozen=True, slots=True)
class OpenThread:
    """An open thread as the log holds it, with its visitor's hash (None when it expired)."""

    thread: ThreadSnapshot
    visitor: VisitorInfo | None


@dataclass(frozen=True, slots=True)
class OpenSnapshot:
    """A space's open threads exactly as they were at `cursor`, the events stream's last id
    then: a replay of the entries after `cursor` carries every later change, none twice."""

    cursor: str
    threads: list[OpenThread]


@dataclass(frozen=True, slots=True)
class RateLimit:
    per_second: float
    burst: int


@dataclass(frozen=True, slots=True)
class AddressBudget:
    """What one client address may do in a space across its visitor ids (Settings'
    `visitor_*_per_address*`; a count of 0 turns that budget off)."""

    address: str
    open_threads: int = 0
    threads_per_hour: int = 0
    messages_per_second: float = 0.0
    messages_burst: int = 1

    def script_args(self) -> list[str]:
        """POST_MESSAGE's address arguments: address, open cap, then two GCRA buckets."""
        threads = (
            Rate(self.threads_per_hour, HOUR_SECONDS, self.threads_per_hour)
            if self.threads_per_hour
            else None
        )
        messages = (
            Rate(1, 1 / self.messages_per_second, self.messages_burst)
            if self.messages_per_second
            else None
        )
        return [
            self.address,
            str(self.open_threads),
            *_gcra_args(threads),
            *_gcra_args(messages),
        ]


def _gcra_args(rate: Rate | None) -> list[str]:
    return [f"{rate.interval_ms:.3f}", str(rate.burst)] if rate else ["0", "0"]


class StreamLog:
    """The log's operations. Holds the pool and the registered scripts; does no I/O on init."""

    def __init__(
        self,
        redis: Redis,
        prefix: str,
        durability: AckDurability,
        *,
        presence_ttl_seconds: int = DEFAULT_PRESENCE_TTL_SECONDS,
        dedupe_window_seconds: int = DEFAULT_DEDUPE_WINDOW_SECONDS,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.durability = durability
        # A resend of a client_id within this long of its first send is answered the first ack.
        self.dedupe_window_seconds = max(1, dedupe_window_seconds)
        # An agent is online while one of its sockets heartbeated within this time.
        self.presence_ttl_ms = presence_ttl_seconds * 1000
        self._post_message = redis.register_script(lua.POST_MESSAGE)
        self._change_thread = redis.register_script(lua.CHANGE_THREAD)
        self._update_visitor = redis.register_script(lua.UPDATE_VISITOR)
        self._heartbeat = redis.register_script(lua.HEARTBEAT)
        self._agent_gone = redis.register_script(lua.AGENT_GONE)
        self._open_snapshot = redis.register_script(lua.OPEN_SNAPSHOT)
        self._expire_finished = redis.register_script(lua_queue.EXPIRE_FINISHED)
        self._queue_position = redis.register_script(lua_queue.QUEUE_POSITION)
        self._typing = redis.register_script(lua_wake.TYPING)
        self._group = GroupCommit(redis, durability)
        self.viewing = Viewing(redis, prefix, self.presence_ttl_ms)
        # Private notes and tag changes share the group commit (chat/streams/notes.py).
        self.notes = NotesLog(redis, prefix, self._group, self.dedupe_window_seconds)
        # Visitors' ratings of finished conversations (chat/streams/ratings.py).
        self.ratings = RatingsLog(redis, prefix, self._group)
        # Bots' handover and presence (chat/streams/bots.py; structures.md, "Bots").
        self.bots = BotsLog(redis, prefix, self._group, self.presence_ttl_ms)
        self.read_state = ReadState(redis, prefix)
        self.lifecycle = Lifecycle(redis, prefix)
        # Signed visitor identity (chat/streams/identity.py), group-committed like updates.
        self.identity = IdentityLog(redis, prefix, self._group)
        # A widget socket's reads on joining, in one call (chat/streams/visitor_join.py).
        self.joins = VisitorJoins(redis, prefix, self.presence_cutoff)

    def keys(self, space_id: str) -> SpaceKeys:
        return SpaceKeys(self.prefix, space_id)

    async def ping(self) -> None:
        """Raises when Redis (in a cluster: any master) does not answer (the readiness check)."""
        await ping_every_node(self.redis)

    async def _durable(self, script: Script[str], keys: list[str], args: list[str]) -> Any:
        """Run an append script in the next group commit; its own reply, or its own error."""
        return await self._group.submit(Append(script, keys, args))

    async def do_post_message(
        self,
        space_id: str,
        *,
        sender_type: Literal["visitor", "agent", "system"],
        sender_id: str,
        sender_name: str,
        content: str,
        client_id: str,
        thread_id: str = "",
        rate: RateLimit | None = None,
        max_open_threads: int = 0,
        address: AddressBudget | None = None,
        visitor_ttl_seconds: int = 0,
        channel: Literal["email"] | None = None,
        email: str = "",
        reopen_window_seconds: int = 0,
        group_id: str = "",
        attachment: AttachmentRef | None = None,
        bot_id: str = "",
        bot_name: str = "",
        quick_replies: Sequence[QuickReply] = (),
    ) -> Ack:
        """Append a message. A visitor's message opens a thread when none is open.

        The same (sender, client_id) is stored once; a repeat within the dedupe window (at
        least `dedupe_window_seconds` after the first send) returns the first ack.

        Cancellation and timeouts: if this call is cancelled, or raises `TimeoutError`,
        `coredis.exceptions.RedisError` or `UnavailableError`, the message may or may not be
        stored (once its batch is sent it runs to its end on the server, whatever happens to the
        caller). Sending it again with the same client_id is always safe: it is stored once, and
        the ack names the first append's entry if there was one. That is why a session answers
        such a failure `unavailable` and leaves the retry to the client.

        A visitor's message also spends `address`'s budgets (refused `rate_limited`), stores the
        visitor if it is not, and keeps its hash at least `visitor_ttl_seconds` more. Without
        an open thread it reopens the visitor's last one if that closed (or expired) within
        `reopen_window_seconds`, else opens a new one; either joins the waiting queue, refused
        `queue_full` when `max_open_threads` threads wait already. A new thread belongs to
        `group_id` ('' for none: the whole team). `attachment`: the file the message carries.
        `bot_id`: a new live-chat thread is held by this bot (named `bot_name`) from its opening
        step on (structures.md, "Bots"). `quick_replies`: the buttons offered under the message
        (structures.md, "Quick replies").
        """
        budget = address or AddressBudget("")
        k = self.keys(space_id)
        reply = await self._durable(
            self._post_message,
            [k.events],
            [
                k.base,
                sender_type,
                sender_id,
                sender_name,
                content,
                client_id,
                thread_id,
                str(uuid.uuid4()),
                str(rate.per_second if rate else 0),
                str(rate.burst if rate else 0),
                str(max_open_threads),
                space_id,
                str(self.dedupe_window_seconds),
                *budget.script_args(),
                str(visitor_ttl_seconds),
                channel or "",
                email,
                str(reopen_window_seconds),
                group_id,
                attachment.model_dump_json() if attachment else "",
                bot_id,
                bot_name,
                _json_list(quick_replies) if quick_replies else "",
            ],
        )
        status, value = reply[0], reply[1]
        if status == "err":
            raise _SCRIPT_ERRORS[value](*reply[2:3])
        stored_thread, entry_id = value.split(" ")
        if len(reply) >= 4:
            return Ack(client_id, entry_id, stored_thread, str(reply[2]), int(reply[3]))
        return Ack(client_id=client_id, id=entry_id, thread_id=stored_thread)

    async def do_change_thread(
        self,
        space_id: str,
        thread_id: str,
        action: ThreadAction,
        *,
        agent_id: str = "",
        target_agent_id: str = "",
        expire_before_ms: int = 0,
        holder_only: bool = False,
        text: str = "",
        agent_name: str = "",
    ) -> ThreadSnapshot | None:
        """Claim, close, transfer, expire, idle-close or reopen a thread; None when an expiry
        or an idle close no longer applies.

        `idle`: close a thread whose agent answered before `expire_before_ms` and whose visitor
        has not written since, after a system message `text` (one step, so a reply that lands
        first keeps it open). `reopen`: a closed or expired thread is held by `agent_id` again
        (VisitorBusyError when its visitor has another open thread; an open one is answered
        as it is).

        `holder_only`: close an assigned thread, or transfer any, only if `agent_id` holds it
        (ForbiddenError otherwise), checked in the same script as the change.

        Cancellation and timeouts: as for `do_post_message`, a cancelled or failed change may or
        may not be stored. A retry then tells by its answer: a claim by the same agent answers
        the current thread again (nothing appended twice); a repeated close answers
        thread_closed; a repeated transfer appends a second, identical transfer.
        """
        k = self.keys(space_id)
        reply = await self._durable(
            self._change_thread,
            [k.events],
            [
                k.base,
                thread_id,
                action,
                agent_id,
                target_agent_id,
                str(expire_before_ms),
                "1" if holder_only else "0",
                text,
                agent_name,
            ],
        )
        match reply[0]:
            case "err":
                raise _SCRIPT_ERRORS[reply[1]]()
            case "skip":
                return None
            case "same":
                return ThreadSnapshot.model_validate_json(reply[1])
        return ThreadSnapshot.model_validate_json(reply[2])

    async def do_update_visitor(
        self,
        space_id: str,
        visitor_id: str,
        fields: dict[str, str],
        *,
        ttl_seconds: int = DEFAULT_VISITOR_TTL_SECONDS,
    ) -> str:
        """Set the visitor's fields, storing the visitor (`created`) if it is not; the entry id.
        The visitor's hash then lives at least `ttl_seconds` more.

        A cancelled or failed update may or may not be stored; setting the same fields again is
        harmless (one more identical entry)."""
        k = self.keys(space_id)
        flat = [part for pair in fields.items() for part in pair]
        entry_id: str = await self._durable(
            self._update_visitor, [k.events], [k.base, visitor_id, str(ttl_seconds), *flat]
        )
        return entry_id

    async def do_typing(
        self, space_id: str, thread_id: str, sender_type: str, sender_id: str, active: bool
    ) -> None:
        """Typing is ephemeral: one XADD to the space stream (never to a thread stream), and its
        wake (chat/streams/lua_wake.py).

        Not group-committed and never retried: a lost or doubled typing entry is harmless."""
        data = {
            "thread_id": thread_id,
            "sender_type": sender_type,
            "sender_id": sender_id,
            "active": active,
        }
        k = self.keys(space_id)
        await self._typing(keys=[k.events], args=[k.base, _json(data)])

    async def do_heartbeat(self, space_id: str, agent_id: str, socket_id: str) -> None:
        """The socket is alive. Idempotent: a cancelled or timed-out one is sent at the next
        beat (the presence TTL spans several beats)."""
        k = self.keys(space_id)
        ttl = str(self.presence_ttl_ms)
        await self._heartbeat(keys=[k.events], args=[k.base, agent_id, socket_id, ttl])

    async def do_agent_gone(self, space_id: str, agent_id: str, socket_id: str) -> None:
        """A socket closed (or, with socket_id '', stale sockets are swept): maybe offline.

        Idempotent; if it is cancelled or times out, the presence sweeper finds the socket
        stale after the presence TTL and does it then."""
        k = self.keys(space_id)
        ttl = str(self.presence_ttl_ms)
        await self._agent_gone(keys=[k.events], args=[k.base, agent_id, socket_id, ttl])

    async def open_snapshot(self, space_id: str) -> OpenSnapshot:
        """The space's open threads and the cursor they are consistent with (one script, so
        atomic; read only). Oldest activity first."""
        k = self.keys(space_id)
        reply: list[str] = await self._open_snapshot(keys=[k.events], args=[k.base])
        cursor, raw = str(reply[0]), orjson.loads(reply[1])
        threads = [
            OpenThread(
                ThreadSnapshot.model_validate(item["thread"]),
                VisitorInfo.model_validate(item["visitor"]) if item.get("visitor") else None,
            )
            for item in raw
        ]
        return OpenSnapshot(cursor, threads)

    async def queue_position(self, space_id: str, thread_id: str) -> tuple[int, int] | None:
        """The thread's place in its space's waiting queue (1 is next) and the queue's length;
        None when it is not waiting. Read only."""
        k = self.keys(space_id)
        reply: list[int] | None = await self._queue_position(
            keys=[k.events], args=[k.base, thread_id]
        )
        if not reply:
            return None
        return int(reply[0]), int(reply[1])

    async def expire_finished(
        self, space_id: str, thread_ids: list[str], stream_ttl: int, state_ttl: int
    ) -> None:
        """Let Redis forget these threads' stream (after `stream_ttl` s) and state (after
        `state_ttl` s), each only if it is still closed or expired: one that reopened since its
        close was projected keeps its keys. Idempotent."""
        if thread_ids:
            k = self.keys(space_id)
            args = [k.base, str(stream_ttl), str(state_ttl), *thread_ids]
            await self._expire_finished(keys=[k.events], args=args)

    async def read_range(self, key: str, after: str | None, count: int) -> list[LogEntry]:
        """Entries of `key` strictly after `after` (from the start when None), oldest first."""
        start = f"({after}" if after else "-"
        entries = await self.redis.xrange(key, start, "+", count=count)
        return decode_entries(entries)

    async def read_latest(self, key: str, count: int) -> list[LogEntry]:
        return await self.read_before(key, None, count)

    async def read_before(self, key: str, before: str | None, count: int) -> list[LogEntry]:
        """The newest `count` entries of `key` strictly before `before` (the newest of all when
        None), oldest first."""
        if before is not None and parse_id(before) == (0, 0):
            return []  # nothing is before 0-0, and Valkey refuses "(0-0" as an end
        end = f"({before}" if before else "+"
        entries = await self.redis.xrevrange(key, end, "-", count=count)
        return decode_entries(reversed(entries))

    async def last_id(self, key: str) -> str:
        """The stream's newest entry id, or 0-0 when it is empty or missing."""
        entries = await self.redis.xrevrange(key, "+", "-", count=1)
        return str(entries[0].identifier) if entries else "0-0"

    async def trimmed_before(self, key: str) -> str:
        """The highest id that may have been removed from the stream (0-0 when none was)."""
        if not await self.redis.exists([key]):
            return "0-0"
        info = await self.redis.xinfo_stream(key)
        deleted = str(info.get("max-deleted-entry-id"))
        bound = parse_id(deleted) if is_stream_id(deleted) else (0, 0)
        # XDEL sets max-deleted-entry-id, but XTRIM (how the projector trims, MINID) does not:
        # when fewer entries remain than were ever added, everything before the first one may
        # be gone. Redis 6.2 reports neither: assume the same.
        added, length = info.get("entries-added"), info.get("length")
        if not isinstance(added, int) or not isinstance(length, int) or added > length:
            first = info.get("first-entry")
            if first is not None:
                ms, seq = parse_id(str(first.identifier))
                bound = max(bound, (ms, seq - 1) if seq else (ms - 1, 2**63 - 1))
            elif is_stream_id(last := str(info.get("last-generated-id"))):
                bound = max(bound, parse_id(last))  # emptied: all it ever held is gone
        return format_id(bound)

    async def thread_state(self, space_id: str, thread_id: str) -> ThreadSnapshot | None:
        raw = await self.redis.hgetall(self.keys(space_id).thread_state(thread_id))
        if not raw:
            return None
        return ThreadSnapshot.model_validate({"id": thread_id, **raw})

    async def space_holding_thread(self, space_ids: Iterable[str], thread_id: str) -> str | None:
        """Which of these spaces holds the thread in the log (callers pass only their own)."""
        for space_id in space_ids:
            if await self.redis.exists([self.keys(space_id).thread_state(thread_id)]):
                return space_id
        return None

    async def visitor(self, space_id: str, visitor_id: str) -> VisitorInfo | None:
        raw = await self.redis.hgetall(self.keys(space_id).visitor(visitor_id))
        if not raw:
            return None
        return VisitorInfo.model_validate({"id": visitor_id, **raw})

    async def online_agents(self, space_id: str) -> list[str]:
        """Agents of the space with a socket that heartbeated within the presence TTL."""
        return await self.scored_between(self.keys(space_id).online, self.presence_cutoff(), "+inf")

    async def stale_agents_of(self, space_ids: list[str]) -> dict[str, list[str]]:
        """The agents of each space (those with any) whose every socket stopped heartbeating, to
        be swept offline: one pipelined round trip for all of them, split by node in a cluster."""
        cutoff = self.presence_cutoff()
        found = await self.scored_below_each([(self.keys(s).online, cutoff) for s in space_ids])
        found_of = zip(space_ids, found, strict=True)
        return {space_id: members for space_id, members in found_of if members}

    async def scored_below_each(self, queries: list[tuple[str, int]]) -> list[list[str]]:
        """For each (sorted set, cutoff), its members scored at most the cutoff, in one pipelined
        round trip (split by node in a cluster): the sweeps' candidates over every space cost one
        round trip, not one or two per space (issue 19)."""
        if not queries:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for key, cutoff in queries:
                pipe.zrange(key, "-inf", cutoff, sortby=PureToken.BYSCORE)
        return [[str(m) for m in members] for members in pipe.results or ()]

    def presence_cutoff(self) -> int:
        """Heartbeats older than this (epoch ms) no longer count."""
        return now_ms() - self.presence_ttl_ms

    async def scored_between(self, key: str, low: int | str, high: int | str) -> list[str]:
        """Members of a sorted set with low <= score <= high."""
        members = await self.redis.zrange(key, low, high, sortby=PureToken.BYSCORE)
        return [str(m) for m in members]


def _json_list(items: Sequence[QuickReply]) -> str:
    return orjson.dumps([q.model_dump() for q in items]).decode()


def _json(data: dict[str, object]) -> str:
    return orjson.dumps(data).decode()


def new_socket_id() -> str:
    return secrets.token_hex(6)
