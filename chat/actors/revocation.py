"""Which live sockets of this process each revocation ends: the session registry.

Every agent and widget session holds a watch for its lifetime. The control follower
(chat/streams/control.py) dispatches each entry of the control stream here; the registry marks
the watches it revokes, and each session, waiting on its watch inside its nursery, ends itself
by raising `Closing` (4001 for agents, 4004 for widgets). A deleted space also ends agents' feeds
of it, without closing their sockets.

The handshake race: a handshake reads PostgreSQL, then registers. A revocation that commits
after that read but is dispatched before the registration would reach neither. So the registry
counts the entries it has dispatched (`generation`); `open_*_watch` notes the count before the
check, registers, and checks again only when the count moved in between. From then on every
later entry reaches the watch. That costs no extra query unless a revocation was dispatched
during this very handshake. See structures.md, "Revocation".
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar

import trio

from chat.actors.socket import Closing
from chat.db.rows import AgentRow, SpaceRow
from chat.errors import CLOSE_KEY_REVOKED, CLOSE_UNAUTHORIZED
from chat.streams.control import (
    AgentDeleted,
    AgentRoleChanged,
    AllSignInsEnded,
    ControlEntry,
    RoutingChanged,
    SignInsEnded,
    SpaceCreated,
    SpaceDeleted,
    SpaceUpdated,
    WidgetKeyRotated,
)

logger = logging.getLogger(__name__)

_Found = TypeVar("_Found")
_W = TypeVar("_W", bound="Watch")


@dataclass(frozen=True, slots=True)
class Revoked:
    code: int
    reason: str


class Watch:
    """One session's view of the revocations that concern it."""

    __slots__ = ("index_key", "revoked", "_stop", "_changed", "_pending")

    def __init__(self, index_key: str) -> None:
        self.index_key = index_key  # what the registry files it under: agent id or space id
        self.revoked: Revoked | None = None
        # Stops the session's reader (run_session, chat/actors/socket.py).
        self._stop: Callable[[], None] | None = None
        # For wait_changed, made when something waits: most watches never wait (a widget
        # session is stopped through `_stop`), and an Event is ~430 bytes (issue 19).
        self._changed: trio.Event | None = None
        self._pending = False  # something was dispatched since wait_changed last returned

    def revoke(self, code: int, reason: str) -> None:
        if self.revoked is None:
            self.revoked = Revoked(code, reason)
            self._notify()
            if self._stop is not None:
                self._stop()

    def on_revoked(self, stop: Callable[[], None]) -> None:
        """Call `stop` at the revocation (at once if it came already)."""
        self._stop = stop
        if self.revoked is not None:
            stop()

    def closing(self) -> Closing | None:
        """The revocation as the session's way out, if there was one."""
        revoked = self.revoked
        return None if revoked is None else Closing(revoked.code, revoked.reason)

    def _notify(self) -> None:
        self._pending = True
        if self._changed is not None:
            self._changed.set()

    async def wait_changed(self) -> None:
        """Until something was dispatched to this watch since the last call returned."""
        if not self._pending:
            self._changed = trio.Event()
            await self._changed.wait()
            self._changed = None
        self._pending = False


class AgentWatch(Watch):
    __slots__ = ("agent_id", "session_id", "_gone_spaces")

    def __init__(self, agent_id: str, session_id: str) -> None:
        super().__init__(agent_id)
        self.agent_id = agent_id
        self.session_id = session_id
        self._gone_spaces: set[str] = set()

    def space_gone(self, space_id: str) -> None:
        self._gone_spaces.add(space_id)
        self._notify()

    def take_gone_spaces(self) -> set[str]:
        """Spaces deleted since the last call (any space: the session ignores foreign ones)."""
        gone, self._gone_spaces = self._gone_spaces, set()
        return gone


class WidgetWatch(Watch):
    __slots__ = ("space_id", "widget_key")

    def __init__(self, space_id: str, widget_key: str) -> None:
        super().__init__(space_id)
        self.space_id = space_id
        self.widget_key = widget_key


class Admission(Generic[_Found, _W]):
    """`async with`: run `check`, file the watch `make` builds from its answer in `index`, and
    take it out again on exit (SessionRegistry.open_widget_watch). A class rather than an
    @asynccontextmanager: one object per widget socket instead of two context managers, their
    generators' frames and trio's record of each generator (issue 19: memory per socket)."""

    __slots__ = ("_registry", "_check", "_make", "_index", "_watch")

    def __init__(
        self,
        registry: SessionRegistry,
        check: Callable[[], Awaitable[_Found]],
        make: Callable[[_Found], _W],
        index: dict[str, set[_W]],
    ) -> None:
        self._registry = registry
        self._check = check
        self._make = make
        self._index = index
        self._watch: _W | None = None

    async def __aenter__(self) -> tuple[_Found, _W]:
        registry = self._registry
        since = registry.generation
        found = await self._check()
        watch = self._watch = self._make(found)
        self._index.setdefault(watch.index_key, set()).add(watch)
        if registry._closing_new is not None:
            watch.revoke(registry._closing_new.code, registry._closing_new.reason)
        try:
            if registry.generation != since:
                # Dispatched while `check` ran: maybe committed after its read, and it did not
                # reach this watch. Every later entry will, so one more check closes the gap.
                found = await self._check()
        except BaseException:
            registry._forget(self._index, watch)
            raise
        return found, watch

    async def __aexit__(self, *_exc: object) -> None:
        if self._watch is not None:
            self._registry._forget(self._index, self._watch)
            self._watch = None


class SessionRegistry:
    """This process's live sessions, by what can revoke them. Kept in Services; no I/O."""

    def __init__(self) -> None:
        # Entries dispatched so far: a handshake whose check straddles a change re-checks.
        self.generation = 0
        self._agents: dict[str, set[AgentWatch]] = {}  # by agent id
        self._widgets: dict[str, set[WidgetWatch]] = {}  # by space id
        # A drain (chat/actors/drain.py): sessions admitted from now on close at once, and
        # `wait_empty` wakes when the last one leaves.
        self._closing_new: Revoked | None = None
        self._emptied = trio.Event()

    @asynccontextmanager
    async def open_agent_watch(
        self, check: Callable[[], Awaitable[tuple[AgentRow, str]]]
    ) -> AsyncIterator[tuple[AgentRow, AgentWatch]]:
        """Check an agent's sign-in (`check` answers the live agent and the sign-in's session id,
        or raises), then watch that sign-in until exit. A revocation dispatched while `check`
        ran makes it check once more."""
        async with Admission(
            self, check, lambda found: AgentWatch(found[0].id, found[1]), self._agents
        ) as (found, watch):
            yield found[0], watch

    def open_widget_watch(
        self, widget_key: str, check: Callable[[], Awaitable[SpaceRow]]
    ) -> Admission[SpaceRow, WidgetWatch]:
        """`async with`: check that `widget_key` names a live space (`check` raises otherwise),
        then watch that space and key until exit, as open_agent_watch."""
        return Admission(
            self, check, lambda space: WidgetWatch(space.id, widget_key), self._widgets
        )

    def _forget(self, index: dict[str, set[_W]], watch: _W) -> None:
        watches = index.get(watch.index_key)
        if watches is not None:
            watches.discard(watch)
            if not watches:
                del index[watch.index_key]
        if not self.size():
            self._emptied.set()

    def dispatch(self, entry: ControlEntry) -> None:
        """Mark the watches this entry revokes; their sessions close themselves."""
        self.generation += 1
        match entry.event:
            case AgentDeleted(agent_id=agent_id):
                hit = self._revoke_agent(agent_id, lambda _: True, "the agent was deleted")
            case AgentRoleChanged(agent_id=agent_id):
                reason = "the agent's role changed: reconnect"
                hit = self._revoke_agent(agent_id, lambda _: True, reason)
            case SignInsEnded(agent_id=agent_id, session_ids=ended):
                hit = self._revoke_agent(agent_id, lambda s: s in ended, "this sign-in has ended")
            case AllSignInsEnded(agent_id=agent_id, keep_session_id=keep):
                hit = self._revoke_agent(agent_id, lambda s: s != keep, "this sign-in has ended")
            case SpaceDeleted(space_id=space_id):
                hit = self._revoke_widgets(space_id, lambda _: True, "the space was deleted")
                for watches in self._agents.values():
                    for watch in watches:
                        watch.space_gone(space_id)
            case WidgetKeyRotated(space_id=space_id, widget_key=key):
                hit = self._revoke_widgets(space_id, lambda k: k != key, "the key was rotated")
            case SpaceUpdated() | SpaceCreated():
                hit = 0  # open widgets keep the settings they started with
            case RoutingChanged():
                hit = 0  # routing's cache (chat/commands/directory.py): nothing to revoke
        logger.info("control entry %s (%s): %d socket(s) revoked", entry.id, entry.event.type, hit)

    def close_all(self, code: int, reason: str) -> int:
        """Every session of this process closes itself with `code` (the process is stopping:
        clients hear it at once and reconnect elsewhere, instead of waiting for a timeout)."""
        hit = 0
        for index in (self._agents, self._widgets):
            for watches in index.values():
                for watch in watches:
                    watch.revoke(code, reason)
                    hit += 1
        return hit

    def size(self) -> int:
        """How many sessions this process holds."""
        return sum(len(w) for index in (self._agents, self._widgets) for w in index.values())

    def watches(self) -> list[Watch]:
        """Every session's watch, for closing them one by one (a drain)."""
        return [w for index in (self._agents, self._widgets) for ws in index.values() for w in ws]

    def close_new(self, code: int, reason: str) -> None:
        """Close every session admitted from now on, as soon as it is admitted (a drain)."""
        self._closing_new = Revoked(code, reason)

    async def wait_empty(self) -> None:
        """Until no session is left."""
        while self.size():
            self._emptied = trio.Event()
            await self._emptied.wait()

    def _revoke_agent(self, agent_id: str, ends: Callable[[str], bool], reason: str) -> int:
        hit = [w for w in self._agents.get(agent_id, ()) if ends(w.session_id)]
        for watch in hit:
            watch.revoke(CLOSE_UNAUTHORIZED, reason)
        return len(hit)

    def _revoke_widgets(self, space_id: str, ends: Callable[[str], bool], reason: str) -> int:
        hit = [w for w in self._widgets.get(space_id, ()) if ends(w.widget_key)]
        for watch in hit:
            watch.revoke(CLOSE_KEY_REVOKED, reason)
        return len(hit)
