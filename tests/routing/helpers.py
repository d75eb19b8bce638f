"""A team to route to: an organization whose space sends its conversations to one group."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from tests.helpers.api import Member, add_member
from tests.helpers.chat import Client, Org, agent_socket, make_org
from tests.helpers.http import call


@dataclass
class Team:
    org: Org
    members: list[Member]
    group_id: str

    @property
    def api(self) -> str:
        return f"{self.org.base}/api/v1"


async def make_team(
    base: str, agents: int, strategy: str, *, cap: int, sticky: bool = False, **settings: Any
) -> Team:
    """An organization with `agents` agents of capacity `cap` in one group of `strategy`, the
    space's default group."""
    org = await make_org(base, settings=settings or None)
    api = f"{base}/api/v1"
    members = [await add_member(api, org.token, f"Agent{n}") for n in range(agents)]
    for m in members:
        reply = await call(
            "PATCH", f"{api}/agents/{m.agent['id']}", {"max_concurrent_chats": cap}, token=org.token
        )
        assert reply.status == 200, reply.body
    group = await call(
        "POST",
        f"{api}/groups",
        {"name": "Sales", "strategy": strategy, "sticky": sticky},
        token=org.token,
    )
    assert group.status == 201, group.body
    gid = group.body["id"]
    ids = [m.agent["id"] for m in members]
    put = await call("PUT", f"{api}/groups/{gid}/members", {"agent_ids": ids}, token=org.token)
    assert put.status == 200, put.body
    patch = await call(
        "PATCH",
        f"{api}/spaces/{org.space['id']}",
        {"settings": {"default_group_id": gid}},
        token=org.token,
    )
    assert patch.status == 200, patch.body
    return Team(org, members, gid)


@asynccontextmanager
async def online(team: Team, members: list[Member] | None = None) -> AsyncIterator[list[Client]]:
    """The members' agent sockets, subscribed to the space and online (one heartbeat)."""
    space_id = team.org.space["id"]
    async with AsyncExitStack() as stack:
        clients = []
        for m in members if members is not None else team.members:
            client, _ = await stack.enter_async_context(
                agent_socket(team.org.base, m.token, subscribe=space_id)
            )
            await client.send({"type": "heartbeat"})
            clients.append(client)
        yield clients
