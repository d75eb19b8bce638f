"""The deployment's control stream: revocations that every process must act on within seconds,
changes of a space that its cached copies must see, and new spaces the projector must follow.

REST changes PostgreSQL first (deletes an agent, ends a sign-in, deletes a space, rotates a
widget key), commits, and only then appends here with one `do_*` call. Each process follows the
stream with `run_control_follower` (started by the supervisor) and hands every entry to its
session registry (chat/actors/revocation.py), which closes the sockets the entry revokes.
Committing before appending is what lets the handshake's database check and the registry close
every gap between them; see structures.md, "Revocation".

Deadlines: a `do_*` that is cancelled or raises (past the client's command timeout:
`TimeoutError`) may or may not have appended. The database change has committed by then: the
REST handler answers `unavailable`, and if the entry was not stored, sockets already open stay
open until they close (structures.md, "Revocation", Limits). Hearing an entry twice closes
nothing more. The follower's XREAD blocks CONTROL_BLOCK_MS, which the command timeout leaves
room for (chat/streams/client.py, LONGEST_BLOCK_SECONDS).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

import coredis.exceptions
import orjson
import trio
from coredis import PureToken
from pydantic import BaseModel, ConfigDict, Field

from chat.backoff import Backoff
from chat.streams.client import Redis
from chat.streams.health import LoopHealth
from chat.streams.keys import control_key

logger = logging.getLogger(__name__)

# The stream keeps about this many entries (XADD MAXLEN ~). Revocations are rare admin actions
# of ~150 bytes, so this is ~1.5 MB at most; a follower that is cut off from Redis resumes from
# its last id and misses nothing unless this many revocations happen while it is away.
CONTROL_MAXLEN = 10_000
# A follower's XREAD blocks at most this long, so shutdown never waits on it for long (an entry
# wakes it at once: the block bounds idle reads, not delivery).
CONTROL_BLOCK_MS = 2000
# An XREAD that has not answered this long after its block ran out is treated as a lost
# connection: back off and read again from the same id.
CONTROL_STUCK_SECONDS = 10.0
CONTROL_READ_COUNT = 100


class _Control(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AgentDeleted(_Control):
    """Every socket of the agent closes (4001)."""

    type: Literal["agent.deleted"] = "agent.deleted"
    agent_id: str


class AgentRoleChanged(_Control):
    """The agent's role changed: its sockets close (4001) and reconnect with the new role, since
    a socket decides by the row it connected with what reaches it (a whisper to another agent:
    structures.md, "Roles and supervisors"). Its sign-ins stay valid."""

    type: Literal["agent.role_changed"] = "agent.role_changed"
    agent_id: str


class SignInsEnded(_Control):
    """Sockets opened with an access token of these sign-ins (refresh families) close (4001)."""

    type: Literal["sign_ins.ended"] = "sign_ins.ended"
    agent_id: str
    session_ids: tuple[str, ...] = Field(min_length=1)


class AllSignInsEnded(_Control):
    """Every sign-in of the agent but `keep_session_id` (if given) ends (4001)."""

    type: Literal["sign_ins.all_ended"] = "sign_ins.all_ended"
    agent_id: str
    keep_session_id: str | None = None


class SpaceDeleted(_Control):
    """The space's widget sockets close (4004); agents' feeds of it end."""

    type: Literal["space.deleted"] = "space.deleted"
    space_id: str


class WidgetKeyRotated(_Control):
    """The space's key is now `widget_key`: its widget sockets on any other key close (4004)."""

    type: Literal["widget_key.rotated"] = "widget_key.rotated"
    space_id: str
    widget_key: str


class SpaceUpdated(_Control):
    """The space's name, allowed domains or settings changed: every process drops its cached
    copy (chat/actors/space_cache.py). No socket closes: open widgets keep what they started
    with."""

    type: Literal["space.updated"] = "space.updated"
    space_id: str


class SpaceCreated(_Control):
    """A new space: every projector follows its stream at once (chat/actors/projector.py),
    instead of at its next refresh of the list of spaces."""

    type: Literal["space.created"] = "space.created"
    space_id: str


class RoutingChanged(_Control):
    """An agent's accepting_chats, capacity or groups, or a group, of the organization changed:
    every process drops its copy (chat/commands/directory.py) and routes again."""

    type: Literal["routing.changed"] = "routing.changed"
    organization_id: str


ControlEvent = (
    AgentDeleted
    | AgentRoleChanged
    | SignInsEnded
    | AllSignInsEnded
    | SpaceDeleted
    | WidgetKeyRotated
    | SpaceUpdated
    | SpaceCreated
    | RoutingChanged
)

_KINDS: dict[str, type[ControlEvent]] = {
    "agent.deleted": AgentDeleted,
    "agent.role_changed": AgentRoleChanged,
    "sign_ins.ended": SignInsEnded,
    "sign_ins.all_ended": AllSignInsEnded,
    "space.deleted": SpaceDeleted,
    "widget_key.rotated": WidgetKeyRotated,
    "space.updated": SpaceUpdated,
    "space.created": SpaceCreated,
    "routing.changed": RoutingChanged,
}


@dataclass(frozen=True, slots=True)
class ControlEntry:
    id: str
    event: ControlEvent


def parse_control_entry(entry_id: str, fields: dict[str, str]) -> ControlEntry:
    """Decode an entry's `t` (kind) and `d` (JSON) fields; ValueError when it cannot be."""
    model = _KINDS.get(fields.get("t", ""))
    if model is None:
        raise ValueError(f"unknown control kind {fields.get('t')!r} in entry {entry_id}")
    try:
        data = orjson.loads(fields["d"])
    except (KeyError, orjson.JSONDecodeError) as exc:
        raise ValueError(f"control entry {entry_id} has no JSON data") from exc
    return ControlEntry(entry_id, model.model_validate(data))  # a ValidationError is a ValueError


class ControlLog:
    """Appends to and reads of the control stream. Does no I/O on init."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.key = control_key(prefix)

    async def do_revoke_agent(self, agent_id: str) -> str:
        """After the agent's `deleted_at` committed: close its sockets on every process."""
        return await self._append(AgentDeleted(agent_id=agent_id))

    async def do_role_changed(self, agent_id: str) -> str:
        """After the agent's new role committed: close its sockets on every process (they
        reconnect, with the new role)."""
        return await self._append(AgentRoleChanged(agent_id=agent_id))

    async def do_end_sign_ins(self, agent_id: str, session_ids: Iterable[str]) -> str | None:
        """After these refresh families' revocation committed (logout, refresh-token reuse):
        close the sockets opened with their access tokens. None (nothing appended) when empty."""
        ids = tuple(session_ids)
        if not ids:
            return None
        return await self._append(SignInsEnded(agent_id=agent_id, session_ids=ids))

    async def do_end_all_sign_ins(self, agent_id: str, *, keep_session_id: str | None) -> str:
        """After every other sign-in's revocation committed (a password change): close the
        agent's sockets of every sign-in but `keep_session_id` (None: all of them)."""
        return await self._append(
            AllSignInsEnded(agent_id=agent_id, keep_session_id=keep_session_id)
        )

    async def do_revoke_space(self, space_id: str) -> str:
        """After the space's `deleted_at` committed: close its widget sockets, end agents' feeds."""
        return await self._append(SpaceDeleted(space_id=space_id))

    async def do_rotate_widget_key(self, space_id: str, widget_key: str) -> str:
        """After the new key committed: close the space's widget sockets on any other key.

        The entry names the new key, not the old one, so it is right whatever order concurrent
        rotations commit or append in: no socket on a revoked key outlives the last entry.
        """
        return await self._append(WidgetKeyRotated(space_id=space_id, widget_key=widget_key))

    async def do_update_space(self, space_id: str) -> str:
        """After a change of the space's name, domains or settings committed: every process
        loads the space again on its next widget handshake."""
        return await self._append(SpaceUpdated(space_id=space_id))

    async def do_create_space(self, space_id: str) -> str:
        """After a new space committed: every projector follows its stream at once."""
        return await self._append(SpaceCreated(space_id=space_id))

    async def do_routing_changed(self, organization_id: str) -> str:
        """After a change of an agent's availability or capacity, or of a group, committed:
        every process reads the organization's routing configuration again."""
        return await self._append(RoutingChanged(organization_id=organization_id))

    async def _append(self, event: ControlEvent) -> str:
        entry_id = await self.redis.xadd(
            self.key,
            {"t": event.type, "d": event.model_dump_json(exclude={"type"})},
            trim_strategy=PureToken.MAXLEN,
            threshold=CONTROL_MAXLEN,
            trim_operator=PureToken.APPROXIMATELY,
        )
        return str(entry_id)

    async def last_id(self) -> str:
        """The newest entry's id, or 0-0 when the stream is empty or missing."""
        entries = await self.redis.xrevrange(self.key, "+", "-", count=1)
        return str(entries[0].identifier) if entries else "0-0"

    async def read_after(self, position: str, block_ms: int) -> tuple[str, list[ControlEntry]]:
        """Entries after `position`, waiting up to `block_ms` for one; the new position.

        An entry that cannot be decoded is logged and skipped (the position moves past it).
        """
        reply = await self.redis.xread(
            {self.key: position}, count=CONTROL_READ_COUNT, block=block_ms
        )
        decoded: list[ControlEntry] = []
        for raw in (reply or {}).get(self.key, ()):
            position = str(raw.identifier)
            fields = {str(k): str(v) for k, v in raw.field_values.items()}
            try:
                decoded.append(parse_control_entry(position, fields))
            except ValueError as exc:
                logger.warning("skipping undecodable control entry %s: %s", position, exc)
        return position, decoded


async def run_control_follower(
    control: ControlLog,
    dispatch: Callable[[ControlEntry], None],
    health: LoopHealth | None = None,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Follow the control stream from its last entry at start and dispatch each new entry.

    Reports started once the start position is known, so every entry appended after
    `nursery.start` returns is dispatched. Redis errors and a stuck read: back off and read again
    from the last id seen (nothing is skipped). Runs until cancelled; anything else propagates.
    `health` (for /readyz) is marked after every read: succeeded or failed.
    """
    health = health or LoopHealth()
    position = await control.last_id()
    task_status.started()
    backoff = Backoff("control follower")
    while True:
        try:
            with trio.fail_after(CONTROL_BLOCK_MS / 1000 + CONTROL_STUCK_SECONDS):
                position, entries = await control.read_after(position, CONTROL_BLOCK_MS)
            backoff.reset()
            health.succeeded()
        except (coredis.exceptions.RedisError, OSError, trio.TooSlowError) as exc:
            health.failed()
            await backoff.wait(logger, exc)
            continue
        for entry in entries:
            dispatch(entry)
