"""The live floor view: one actor per organization with viewers in this process, fed by the same
space streams the process's reader already reads, rendering one `floor` frame at most once a
pace for all its viewers (structures.md, "The floor view").

Cost per viewer: none beyond its socket. The organization's actor starts with its first viewer
here (one snapshot script per space and one PostgreSQL query for the hour's earlier first
responses) and stops with its last; in between it follows the log only. Every viewer gets the
same encoded text; a slow viewer skips to the latest frame (each frame is the whole floor), so
nothing queues up per viewer.

Crash policy: Redis and PostgreSQL errors back off and start the organization's floor again
(a fresh snapshot: nothing is missed, nothing doubled); a change of the organization's spaces
starts it again too; anything else ends that organization's floor only (its registry logs it
and its viewers get an `unavailable` error frame).
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import psycopg
import trio

from chat.actors.floor_state import WINDOW_MS, FloorState, Sample
from chat.actors.frame_outbox import Outbox
from chat.backoff import Backoff
from chat.clock import now_ms
from chat.commands.directory import Directory, OrgDirectory
from chat.db import floor_queries, space_queries
from chat.db.pool import Database
from chat.db.rows import SpaceRow
from chat.errors import UnavailableError
from chat.events import LogEntry
from chat.ids import format_id, id_key
from chat.protocol.outbound import dumps, error_frame
from chat.streams.errors import StreamLogError
from chat.streams.floor import FloorReads, SpaceFloorSnapshot
from chat.streams.follow import CATCH_UP_PAGE as PAGE
from chat.streams.reader import StreamRouter

logger = logging.getLogger(__name__)

# At most one frame per this long per organization: changes in between are coalesced (a burst of
# a hundred claims is one frame). The console redraws waiting times itself between frames.
FLOOR_PACE_SECONDS = 1.0
# Entries on their way from the spaces' follows to the floor: applying one is a few dict
# operations, so this only absorbs bursts; past it the follows wait (and, further behind, the
# reader cuts their subscriptions off and they catch up from the log).
FLOOR_BUFFER = 256


class FloorEndedError(UnavailableError):
    """The organization's floor stopped in this process (its actor failed)."""


@dataclass(eq=False)
class FloorHandle:
    """One organization's floor in this process: its latest frame, and its viewers' count."""

    organization_id: str
    spaces: dict[str, str]  # id -> name
    cancel_scope: trio.CancelScope = field(default_factory=trio.CancelScope)
    viewers: int = 0
    frame: str | None = None
    version: int = 0
    ended: bool = False
    # Set when the floor should render again: an entry changed it, an agent's availability
    # changed (which the log does not carry), or it started.
    dirty: trio.Event = field(default_factory=trio.Event)
    # Set when the organization's spaces may have changed: the actor starts over.
    respace: trio.Event = field(default_factory=trio.Event)
    _changed: trio.Event = field(default_factory=trio.Event)

    def publish(self, frame: str) -> None:
        self.frame = frame
        self.version += 1
        self._changed.set()
        self._changed = trio.Event()

    def end(self) -> None:
        self.ended = True
        self._changed.set()

    async def next_frame(self, seen: int) -> tuple[int, str]:
        """The latest frame once it is newer than version `seen`; FloorEndedError if the floor
        stopped. Cancellation: nothing to undo."""
        while True:
            if self.ended:
                raise FloorEndedError("the floor view stopped; subscribe again")
            if self.frame is not None and self.version != seen:
                return self.version, self.frame
            await self._changed.wait()


@dataclass(frozen=True)
class FloorDeps:
    router: StreamRouter
    reads: FloorReads
    db: Database
    directory: Directory
    pace_seconds: float = FLOOR_PACE_SECONDS


@dataclass
class Floors:
    """The registry of this process's floors, by organization. Owned by the supervisor, whose
    nursery runs them."""

    deps: FloorDeps
    nursery: trio.Nursery
    _handles: dict[str, FloorHandle] = field(default_factory=dict)
    _starting: trio.Lock = field(default_factory=trio.Lock)

    @asynccontextmanager
    async def open_view(
        self, organization_id: str, spaces: list[SpaceRow]
    ) -> AsyncIterator[FloorHandle]:
        """Watch the organization's floor for as long as this is open; the first viewer here
        starts it (with `spaces`, the organization's live spaces), the last one stops it."""
        async with self._starting:
            handle = self._handles.get(organization_id)
            if handle is None or handle.ended:
                named = {s.id: s.name for s in spaces if s.organization_id == organization_id}
                handle = FloorHandle(organization_id, named)
                await self.nursery.start(self._run_supervised, handle)
                self._handles[organization_id] = handle
            handle.viewers += 1
        try:
            yield handle
        finally:
            handle.viewers -= 1
            if handle.viewers == 0:
                handle.cancel_scope.cancel()
                if self._handles.get(organization_id) is handle:
                    del self._handles[organization_id]

    def touch(self, organization_id: str) -> None:
        """The organization's agents or groups changed (a `routing.changed` control entry)."""
        if (handle := self._handles.get(organization_id)) is not None:
            handle.dirty.set()

    def spaces_changed(self, space_id: str) -> None:
        """A space was created, renamed or deleted: every floor reads its organization's spaces
        again, and starts over if they changed (a new space's organization is not known here)."""
        for handle in self._handles.values():
            handle.respace.set()

    def __len__(self) -> int:
        return len(self._handles)

    def viewers(self) -> int:
        """The sockets of this process watching a floor (for /metrics)."""
        return sum(handle.viewers for handle in self._handles.values())

    async def _run_supervised(
        self, handle: FloorHandle, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """One organization's failure must not end the others: log it, tell its viewers."""
        try:
            with handle.cancel_scope:
                task_status.started()
                await run_floor(self.deps, handle)
        except* Exception:
            logger.exception("the floor of organization %s failed", handle.organization_id)
        finally:
            handle.end()
            if self._handles.get(handle.organization_id) is handle:
                del self._handles[handle.organization_id]


async def run_floor_view(
    floors: Floors,
    organization_id: str,
    spaces: list[SpaceRow],
    outbox: Outbox,
    *,
    task_status: trio.TaskStatus[trio.CancelScope] = trio.TASK_STATUS_IGNORED,
) -> None:
    """One socket's view: the organization's floor frames into `outbox`, the latest each time
    (a slow socket skips those it missed: each frame is the whole floor), until cancelled
    through the scope reported by task_status (`floor.unsubscribe`) or the socket closes. An
    ended floor is told with an `unavailable` error frame (`ref: floor.subscribe`)."""
    with trio.CancelScope() as scope:
        task_status.started(scope)
        try:
            async with floors.open_view(organization_id, spaces) as floor:
                seen = 0
                while True:
                    seen, frame = await floor.next_frame(seen)
                    await outbox.send(frame)
        except FloorEndedError as err:
            await outbox.send(error_frame(err, ref="floor.subscribe"))
        scope.cancel()  # ended: a later floor.subscribe starts afresh


async def run_floor(deps: FloorDeps, handle: FloorHandle) -> None:
    """Keep `handle`'s frame current until cancelled: snapshot, then the log. Never returns."""
    backoff = Backoff(f"floor of {handle.organization_id}")
    while True:
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(_watch_spaces, deps, handle, nursery.cancel_scope)
                await _run_generation(deps, handle, backoff)
        except* (StreamLogError, OSError, psycopg.OperationalError) as group:
            await backoff.wait(logger, group.exceptions[0])


async def _watch_spaces(deps: FloorDeps, handle: FloorHandle, generation: trio.CancelScope) -> None:
    """Start the floor over when its organization's spaces changed (one query per space change
    in the deployment: a control entry names the space, not its organization)."""
    org = handle.organization_id
    while True:
        await handle.respace.wait()
        handle.respace = trio.Event()
        try:
            rows = await deps.db.run(lambda c: space_queries.list_spaces(c, org))
        except psycopg.OperationalError:
            logger.warning("the floor of %s keeps its spaces: PostgreSQL is down", org)
            continue
        spaces = {s.id: s.name for s in rows}
        if spaces != handle.spaces:
            handle.spaces = spaces
            generation.cancel()
            return


async def _run_generation(deps: FloorDeps, handle: FloorHandle, backoff: Backoff) -> None:
    """Snapshot every space, seed the first responses of the hour, then follow and publish."""
    state = FloorState(dict(handle.spaces))
    send, receive = trio.open_memory_channel[tuple[str, LogEntry]](FLOOR_BUFFER)
    async with trio.open_nursery() as nursery, receive:
        async with send:
            for space_id in state.spaces:
                snap = await nursery.start(_follow, deps, space_id, send.clone())
                state.seed(space_id, snap, ())
        try:
            await _seed_answers(deps, state)
        except psycopg.OperationalError:
            # PostgreSQL is down: the floor goes on from the log, without the hour's earlier
            # first responses (and taking reopened conversations as unanswered before).
            logger.warning(
                "the floor of %s starts without the hour's earlier answers", handle.organization_id
            )
        handle.dirty.set()  # the first frame: the snapshot
        nursery.start_soon(_publish, deps, handle, state)
        backoff.reset()
        async for space_id, entry in receive:
            if state.apply(space_id, entry):
                handle.dirty.set()


async def _seed_answers(deps: FloorDeps, state: FloorState) -> None:
    """The first responses of the last hour given before this floor started, and which open
    conversations were ever answered, from the projected log."""
    since_ms = now_ms() - WINDOW_MS
    since = datetime.fromtimestamp(since_ms / 1000, UTC)
    spaces, open_ids = list(state.spaces), list(state.threads)
    rows = await deps.db.run(lambda c: floor_queries.answered_threads(c, spaces, open_ids, since))
    for row in rows:
        if (t := state.threads.get(row.thread_id)) is not None:
            t.answered = True
        if row.first_answer_ms > since_ms:
            seconds = (row.first_answer_ms - row.created_ms) / 1000
            state.add_sample(
                Sample(row.first_answer_ms, seconds, row.space_id, row.group_id, row.thread_id)
            )


async def _follow(
    deps: FloorDeps,
    space_id: str,
    out: trio.MemorySendChannel[tuple[str, LogEntry]],
    *,
    task_status: trio.TaskStatus[SpaceFloorSnapshot] = trio.TASK_STATUS_IGNORED,
) -> None:
    """The space's snapshot (reported through task_status), then every later entry of its
    stream once, in order, tagged with the space. Subscribed before the snapshot is read, so
    nothing falls between; a subscription cut off for falling behind catches up from the log
    (as chat/streams/follow.py does)."""
    router = deps.router
    events = router.stream_log.keys(space_id).events
    async with out:
        sub = await router.subscribe(space_id)
        try:
            snap = await deps.reads.snapshot(space_id)
            task_status.started(snap)
            last = id_key(snap.cursor)
            while True:
                async for entry in sub.receive:
                    if (key := id_key(entry.id)) > last:
                        await out.send((space_id, entry))
                        last = key
                if not sub.overflowed:
                    return
                router.unsubscribe(sub)
                sub = await router.subscribe(space_id)
                while True:
                    page = await router.stream_log.read_range(events, format_id(last), PAGE)
                    for entry in page:
                        await out.send((space_id, entry))
                        last = id_key(entry.id)
                    if len(page) < PAGE:
                        break
        finally:
            router.unsubscribe(sub)


async def _publish(deps: FloorDeps, handle: FloorHandle, state: FloorState) -> None:
    """Render the floor when it changed (or a first response left the window), then wait out
    the pace: changes meanwhile make the next frame. Never returns."""
    known: OrgDirectory | None = None
    unknown: set[str] = set()  # present agents the directory's copy lacked at the last render
    while True:
        expiry = state.next_expiry_ms()
        deadline = math.inf
        if expiry is not None:
            deadline = trio.current_time() + max(0.0, (expiry - now_ms()) / 1000)
        with trio.move_on_at(deadline):
            await handle.dirty.wait()
        handle.dirty = trio.Event()
        try:
            known = await deps.directory.org(handle.organization_id)
            # An agent created a moment ago is present before the copy has its row (its
            # creation appends no routing.changed): read the copy again, once per such agent.
            missing = state.present_agents() - known.agents.keys()
            if missing - unknown:
                deps.directory.invalidate(handle.organization_id)
                known = await deps.directory.org(handle.organization_id)
            unknown = missing
        except psycopg.OperationalError:
            if known is None:
                raise
            logger.warning("the floor of %s shows the agents it knew", handle.organization_id)
        handle.publish(dumps(state.view(now_ms(), known.agents, known.groups)))
        await trio.sleep(deps.pace_seconds)
