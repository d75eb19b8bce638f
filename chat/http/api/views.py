"""What REST answers about agents beyond their row (online from presence), and 204 replies.
The JSON views themselves are chat/protocol/outbound.py's."""

from __future__ import annotations

from collections.abc import Iterable

from quart import Response

from chat.db.rows import AgentRow, CannedResponseRow, GroupRow, OrganizationRow, SpaceRow
from chat.http.sign_in_copy import org_spaces
from chat.json_types import Json
from chat.protocol.outbound import agent_json
from chat.services import Services


def no_content() -> Response:
    """204 with an empty bytes body. quart's Response(status=204) carries a body iterator that
    needs asyncio; under trio it broke the connection after the headers, hanging keep-alive
    clients (tests/http/test_keepalive.py)."""
    return Response(b"", status=204)


async def online_agent_ids(services: Services, space_ids: Iterable[str]) -> set[str]:
    """Agents with a live heartbeat in any of these spaces (presence is kept per space)."""
    online: set[str] = set()
    for space_id in space_ids:
        online.update(await services.stream_log.online_agents(space_id))
    return online


async def agent_reply(services: Services, agent: AgentRow) -> Json:
    """One agent as the API answers it, online from presence in its organization's spaces."""
    spaces = await org_spaces(services, agent.organization_id)
    return (await agents_json(services, [agent], spaces))[0]


async def agents_json(
    services: Services, agents: list[AgentRow], spaces: list[SpaceRow], *, loads: bool = False
) -> list[Json]:
    """With `loads`, each agent's `active_chats` (its reserved slots, structures.md "Routing"):
    the admins' list shows every agent's load against its capacity."""
    online = await online_agent_ids(services, (s.id for s in spaces))
    found = []
    for a in agents:
        item = agent_json(a, a.id in online)
        if loads:
            load = await services.routing_log.loads(a.organization_id, [a.id])
            item["active_chats"] = load[a.id]
        found.append(item)
    return found


def group_json(group: GroupRow) -> Json:
    return {
        "id": group.id,
        "organization_id": group.organization_id,
        "name": group.name,
        "strategy": group.strategy,
        "sticky": group.sticky,
        "auto_transfer_seconds": group.auto_transfer_seconds,
        "bot_agent_id": group.bot_agent_id,
        "agent_ids": list(group.agent_ids),
        "created_at": group.created_at.isoformat(),
    }


def organization_json(org: OrganizationRow) -> Json:
    return {
        "id": org.id,
        "name": org.name,
        "default_max_concurrent_chats": org.default_max_concurrent_chats,
        "require_two_factor": org.require_two_factor,
        "created_at": org.created_at.isoformat(),
        "time_zone": org.time_zone,
    }


def canned_json(row: CannedResponseRow) -> Json:
    return {
        "id": row.id,
        "organization_id": row.organization_id,
        "scope": "organization" if row.owner_agent_id is None else "personal",
        "owner_agent_id": row.owner_agent_id,
        "shortcut": row.shortcut,
        "title": row.title,
        "content": row.content,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }
