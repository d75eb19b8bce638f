"""What routing needs of an organization's configuration: its agents (accepting_chats,
max_concurrent_chats) and live groups (strategy, sticky, members), read from PostgreSQL and
cached per process (structures.md, "Routing").

Fresh within a moment of a change: REST appends `routing.changed` to the control stream after
committing a change of an agent or a group, and every process's control follower drops its copy
(`invalidate`). A copy is also reloaded after REFRESH_SECONDS, the fallback for an entry lost
while Redis failed. Bounded: at most MAX_ORGANIZATIONS copies, the least recently used dropped.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import psycopg
import trio

from chat.db import accounts, group_queries
from chat.db.pool import Database
from chat.db.rows import AgentRow, GroupRow
from chat.space_settings import SpaceSettings

REFRESH_SECONDS = 30.0
# Organizations whose copy a process keeps: each is a few KB (agents and groups), and a process
# serving more organizations than this at once reloads the least recently used on demand.
MAX_ORGANIZATIONS = 1000


@dataclass(frozen=True, slots=True)
class OrgDirectory:
    agents: dict[str, AgentRow]
    groups: dict[str, GroupRow]
    loaded_at: float

    def cap(self, agent_id: str) -> int:
        """The agent's max_concurrent_chats; 0 for an agent no longer live (takes nothing)."""
        agent = self.agents.get(agent_id)
        return agent.max_concurrent_chats if agent else 0

    def accepting(self, agent_id: str) -> bool:
        """Whether routing may offer it conversations: a live person accepting chats (a bot
        never: it gets its conversations first, structures.md "Bots")."""
        agent = self.agents.get(agent_id)
        return agent is not None and agent.accepting_chats and not agent.is_bot

    def is_bot(self, agent_id: str) -> bool:
        agent = self.agents.get(agent_id)
        return agent is not None and agent.is_bot


class Directory:
    """The per-process cache. No I/O on init."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._orgs: OrderedDict[str, OrgDirectory] = OrderedDict()
        # Bumped by each invalidation, so a load that started before it is not cached.
        self._generation: dict[str, int] = {}

    async def org(self, organization_id: str) -> OrgDirectory:
        """The organization's copy, loaded when missing or older than REFRESH_SECONDS."""
        found = self._orgs.get(organization_id)
        if found is not None and trio.current_time() - found.loaded_at < REFRESH_SECONDS:
            self._orgs.move_to_end(organization_id)
            return found
        generation = self._generation.get(organization_id, 0)
        try:
            agents, groups = await self._db.run(lambda c: _load(c, organization_id))
        except psycopg.OperationalError:
            if found is not None:
                return found  # PostgreSQL is down: route with what was known
            raise
        loaded = OrgDirectory(
            {a.id: a for a in agents}, {g.id: g for g in groups}, trio.current_time()
        )
        if self._generation.get(organization_id, 0) == generation:
            self._orgs[organization_id] = loaded
            self._orgs.move_to_end(organization_id)
            while len(self._orgs) > MAX_ORGANIZATIONS:
                self._orgs.popitem(last=False)
        return loaded

    async def agent(self, organization_id: str, agent_id: str) -> AgentRow | None:
        """The agent's row in the organization's copy, read again once when the copy does not
        have it: an agent created a moment ago acts before the control stream's invalidation
        reaches this process (a copy loaded before its row). None: no such live agent."""
        found = (await self.org(organization_id)).agents.get(agent_id)
        if found is None:
            self.invalidate(organization_id)
            found = (await self.org(organization_id)).agents.get(agent_id)
        return found

    async def group_for_visitor(
        self, organization_id: str, settings: SpaceSettings, picked: str | None
    ) -> str:
        """The group a conversation the visitor opens goes to: its pick when the space lets
        visitors pick and the group is live in the organization, else the space's default group
        when live, else '' (the whole team)."""
        default = str(settings.default_group_id or "")
        if not picked and not default:
            return ""
        try:
            groups = (await self.org(organization_id)).groups
        except psycopg.OperationalError:
            # PostgreSQL is down and this process knows none of the groups: a visitor's message
            # must still go through (structures.md, "Agents during a PostgreSQL outage"). The
            # default was checked when the space was saved; an unchecked pick is not trusted.
            return default
        if settings.visitor_picks_group and picked and picked.lower() in groups:
            return picked.lower()
        return default if default in groups else ""

    def invalidate(self, organization_id: str) -> None:
        """An agent or group of the organization changed: the next `org` reads it again."""
        self._orgs.pop(organization_id, None)
        self._generation[organization_id] = self._generation.get(organization_id, 0) + 1


def _load(conn: object, organization_id: str) -> tuple[list[AgentRow], list[GroupRow]]:
    return (
        accounts.list_agents(conn, organization_id),  # type: ignore[arg-type]
        group_queries.list_groups(conn, organization_id),  # type: ignore[arg-type]
    )
