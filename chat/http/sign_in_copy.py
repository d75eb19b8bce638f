"""Agents keep working while PostgreSQL is down: the sign-in check and the organization's space
list fall back to the copy kept in Valkey (chat/streams/account_copies.py).

The rule (structures.md, "Agents during a PostgreSQL outage"):
- The copy is used only when PostgreSQL could not answer (`is_unavailable`: the breaker is open,
  no connection, a timeout); whenever PostgreSQL answers, its answer is the one used.
- It is written only from what PostgreSQL answered: a sign-in (login, register, refresh) and an
  agent handshake note the agent, the sign-in and the organization's spaces.
- Every change reaches it right after its commit: an agent changed (its row replaced), deleted
  (refused for good), sign-ins ended (never live again), a space changed (the list dropped and
  read again). Writers that read PostgreSQL take the copy's generation first and write nothing
  if a change landed meanwhile, so a read from before a change never overwrites it.
- What the copy cannot vouch for (no copy, a sign-in it never saw) is `unavailable`, never
  admitted; a deleted agent or an ended sign-in is `unauthorized`, as with PostgreSQL.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

import orjson
import psycopg

from chat.auth.tokens import AccessClaims
from chat.db import space_queries
from chat.db.breaker import is_unavailable
from chat.db.rows import AgentRow, SpaceRow
from chat.errors import UnauthorizedError, UnavailableError
from chat.protocol.outbound import agent_json, space_json
from chat.services import Services
from chat.streams.errors import StreamLogError

logger = logging.getLogger(__name__)

T = TypeVar("T")

# A sign-in seen live stays so in the copy this much longer than an access token lives, and an
# ended one stays refused as long: clocks of processes and Valkey differ by a little.
CLOCK_MARGIN_SECONDS = 60
_COPY_ERRORS = (StreamLogError, OSError)


def token_lifetime_ms(services: Services) -> int:
    return (services.settings.access_token_ttl_seconds + CLOCK_MARGIN_SECONDS) * 1000


async def remember_agent(
    services: Services,
    agent_id: str,
    session_id: str,
    read: Callable[[], Awaitable[AgentRow | None]],
) -> AgentRow | None:
    """`read()` the agent from PostgreSQL and note it, with its live sign-in, in the copy.
    A failure of the copy is logged, never the caller's: the copy is a fallback."""
    generation = await _quietly(services.accounts.agent_generation(agent_id))
    agent = await read()
    if agent is not None and generation is not None:
        await _quietly(
            services.accounts.note_agent(
                agent_id, generation, agent_to_json(agent), session_id, token_lifetime_ms(services)
            )
        )
    return agent


async def agent_from_copy(services: Services, claims: AccessClaims) -> AgentRow:
    """The agent of a valid access token as the copy has it; only while PostgreSQL is down."""
    try:
        found = await services.accounts.agent(claims.agent_id, claims.session_id)
    except _COPY_ERRORS as exc:
        raise UnavailableError("the sign-in cannot be checked now; retry shortly") from exc
    if found.deleted or found.session_ended:
        raise UnauthorizedError("the agent no longer exists or this sign-in has ended")
    if found.row is None or not found.session_live:
        raise UnavailableError("the sign-in cannot be checked now; retry shortly")
    agent = agent_from_json(found.row)
    if agent.id != claims.agent_id or agent.organization_id != claims.organization_id:
        raise UnauthorizedError("the agent no longer exists or this sign-in has ended")
    return agent


async def org_spaces(
    services: Services, organization_id: str, *, remember: bool = False
) -> list[SpaceRow]:
    """The organization's live spaces: PostgreSQL's, noted in the copy when `remember`; the
    copy's only while PostgreSQL is down (its error is raised when there is no copy)."""
    generation = None
    if remember:
        generation = await _quietly(services.accounts.spaces_generation(organization_id))
    try:
        rows = await services.db.run(lambda c: space_queries.list_spaces(c, organization_id))
    except psycopg.OperationalError as exc:
        if not is_unavailable(exc):
            raise
        copy = await _quietly(services.accounts.spaces(organization_id))
        if copy is None:
            raise exc from None
        return [space_from_json(s) for s in orjson.loads(copy)]
    if generation is not None:
        text = orjson.dumps([space_json(s) for s in rows]).decode()
        await _quietly(services.accounts.note_spaces(organization_id, generation, text))
    return rows


async def agent_changed(services: Services, agent: AgentRow) -> None:
    """After a change of the agent committed. Raises when Valkey fails (the change stands)."""
    await services.accounts.do_agent_changed(agent.id, agent_to_json(agent))
    await services.routing_changed(agent.organization_id)  # accepting or capacity may differ


async def agent_deleted(services: Services, agent_id: str) -> None:
    """After the agent's deletion committed: refused during outages too, from now on."""
    await services.accounts.do_agent_deleted(agent_id)


async def end_sign_ins(services: Services, agent_id: str, session_ids: list[str]) -> None:
    """After sign-ins ended: every process closes their sockets (the control stream), and the
    copy refuses them from now on."""
    await services.control.do_end_sign_ins(agent_id, session_ids)
    await services.accounts.do_sign_ins_ended(agent_id, session_ids, token_lifetime_ms(services))


async def spaces_changed(services: Services, organization_id: str) -> None:
    """After a change of one of the organization's spaces committed: drop the copy's list,
    then note it again from PostgreSQL (best effort: the next handshake notes it too)."""
    await services.accounts.do_spaces_changed(organization_id)
    try:
        await org_spaces(services, organization_id, remember=True)
    except psycopg.OperationalError as exc:
        logger.warning("could not note the spaces of %s again: %r", organization_id, exc)


def agent_to_json(agent: AgentRow) -> str:
    """The agent's public fields: never its password hash."""
    found = agent_json(agent)
    del found["is_online"]
    return orjson.dumps(found).decode()


def agent_from_json(text: str) -> AgentRow:
    found: dict[str, Any] = orjson.loads(text)
    seen = found.get("last_seen_at")
    return AgentRow(
        id=found["id"],
        organization_id=found["organization_id"],
        email=found["email"],
        name=found["name"],
        role=found["role"],
        accepting_chats=found["accepting_chats"],
        max_concurrent_chats=found["max_concurrent_chats"],
        last_seen_at=datetime.fromisoformat(seen) if seen else None,
        created_at=datetime.fromisoformat(found["created_at"]),
        password_hash="",  # not kept: a password check needs PostgreSQL
        group_ids=list(found.get("group_ids", [])),
        kind=found.get("kind", "human"),
    )


def space_from_json(found: dict[str, Any]) -> SpaceRow:
    return SpaceRow(
        id=found["id"],
        organization_id=found["organization_id"],
        name=found["name"],
        widget_key=found["widget_key"],
        allowed_domains=list(found["allowed_domains"]),
        settings=dict(found["settings"]),
        created_at=datetime.fromisoformat(found["created_at"]),
    )


async def _quietly(step: Awaitable[T]) -> T | None:
    """A step on the copy whose failure only costs the copy's freshness: logged, None."""
    try:
        return await step
    except _COPY_ERRORS as exc:
        logger.warning("the sign-in copy in Valkey was not read or written: %r", exc)
        return None
