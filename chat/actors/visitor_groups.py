"""Whether the groups a visitor may be routed to have an eligible agent, for the visitor session
of chat/actors/visitor.py (structures.md, "Routing", "Group availability").

A conversation routed to a group waits for one of its members; when none is online and
accepting, the widget shows the offline (leave-a-message) form instead of a queue that never
moves. The session sends, in its welcome and in `agents` frames, `groups`: for each group the
visitor may land in (the space's default group, and every live group when the visitor picks),
whether a member is online by heartbeat in the space and accepting chats. Capacity is left out
on purpose: a group whose agents are all busy has a queue that moves.

When it is read again: at each presence entry of the space (an agent came or went), and every
`visitor_groups_recheck_seconds` (a setting), which bounds how late an accepting switch or a
membership change is seen (they reach the routers through the control stream, not the space
stream). At most one read a second per session. PostgreSQL down with no cached copy: the map
is null (the widget then goes by `agents_online` alone).
"""

from __future__ import annotations

from typing import NoReturn, Protocol

import psycopg
import trio

from chat.actors.frame_outbox import Outbox
from chat.actors.socket import STORAGE_ERRORS, SessionDeps
from chat.db.rows import SpaceRow
from chat.protocol.outbound import agents_frame
from chat.space_settings import SpaceSettings

# Reads of one session's map at most this often (a burst of presence entries is coalesced).
AVAILABILITY_INTERVAL_SECONDS = 1.0

Availability = dict[str, bool] | None


class GroupsSession(Protocol):
    deps: SessionDeps
    space: SpaceRow
    outbox: Outbox
    agents_online: bool
    available_groups: Availability
    availability_due: trio.Event


async def read_availability(
    deps: SessionDeps, space: SpaceRow, online_agents: list[str] | None = None
) -> Availability:
    """For each group a visitor of `space` may be routed to, whether it has an eligible agent
    (online in the space, accepting, a member); None when the directory cannot be read.
    `online_agents`: the space's agents online, when the caller has just read them."""
    settings = SpaceSettings.of(space.settings)
    if settings.default_group_id is None and not settings.visitor_picks_group:
        return {}
    try:
        org = await deps.commands.directory.org(space.organization_id)
    except psycopg.OperationalError:
        return None
    if online_agents is None:
        online_agents = await deps.stream_log.online_agents(space.id)
    online = set(online_agents)
    return {
        group.id: any(a in online and org.accepting(a) for a in group.agent_ids)
        for group in org.groups.values()
        if settings.visitor_picks_group or group.id == str(settings.default_group_id)
    }


async def follow_availability(session: GroupsSession) -> NoReturn:
    """Send an `agents` frame whenever the map changes, until cancelled (the session ends).
    A storage error keeps the map as it was until the next read."""
    while True:
        with trio.move_on_after(session.deps.settings.visitor_groups_recheck_seconds):
            await session.availability_due.wait()
        session.availability_due = trio.Event()
        try:
            found = await read_availability(session.deps, session.space)
        except STORAGE_ERRORS:  # the next turn reads again
            found = session.available_groups
        if found != session.available_groups:
            session.available_groups = found
            await session.outbox.send(agents_frame(session.agents_online, found))
        await trio.sleep(AVAILABILITY_INTERVAL_SECONDS)
