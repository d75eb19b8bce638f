"""Thread commands (chat/commands/threads.py) against the real Valkey and PostgreSQL: the one
lookup of a thread's space, and claim, close and transfer as both REST and sockets call them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
import pytest
import trio

from chat.commands.directory import Directory
from chat.commands.threads import Actor, ThreadCommands
from chat.config import Settings
from chat.db import accounts
from chat.db.pool import open_database
from chat.db.rows import AgentRow
from chat.errors import (
    AgentAtCapacityError,
    AgentUnavailableError,
    AlreadyClaimedError,
    ChatError,
    ForbiddenError,
    NotFoundError,
    ThreadClosedError,
)
from chat.streams.client import open_redis
from chat.streams.log import StreamLog
from chat.streams.routing import RoutingLog
from tests.helpers.rows import make_org_rows, open_thread

CLAIMERS = 8


@asynccontextmanager
async def _commands(settings: Settings) -> AsyncIterator[ThreadCommands]:
    async with (
        open_redis(settings.redis_url) as redis,
        open_database(settings.database_url, settings.db_pool_size) as db,
    ):
        yield ThreadCommands(
            StreamLog(redis, settings.key_prefix, "written"),
            db,
            RoutingLog(redis, settings.key_prefix),
            Directory(db),
        )


async def test_of_concurrent_claims_exactly_one_wins(settings: Settings) -> None:
    with trio.fail_after(30):
        org = make_org_rows(settings.database_url, agents=CLAIMERS)
        async with _commands(settings) as commands:
            thread_id = await open_thread(commands.stream_log, org.space.id)
            won: list[str] = []
            refused: list[ChatError] = []

            async def claim(agent: AgentRow) -> None:
                space_id = await commands.space_of(org.id, thread_id)
                try:
                    thread = await commands.do_claim(space_id, thread_id, actor=Actor.of(agent))
                except AlreadyClaimedError as err:
                    refused.append(err)
                else:
                    assert thread.assigned_agent_id == agent.id
                    won.append(agent.id)

            async with trio.open_nursery() as nursery:
                for agent in org.agents:
                    nursery.start_soon(claim, agent)
            assert len(won) == 1 and len(refused) == CLAIMERS - 1
            # The holder's repeated claim is answered again; a close (by the admin) ends it; a
            # second close is thread_closed.
            holder = next(a for a in org.agents if a.id == won[0])
            again = await commands.do_claim(org.space.id, thread_id, actor=Actor.of(holder))
            assert (again.status, again.assigned_agent_id) == ("active", won[0])
            admin = Actor.of(org.agents[0])
            closed = await commands.do_close(org.space.id, thread_id, actor=admin)
            assert closed.status == "closed" and closed.closed is not None
            with pytest.raises(ThreadClosedError):
                await commands.do_close(org.space.id, thread_id, actor=admin)


async def test_transfer_needs_a_live_agent_of_the_organization(settings: Settings) -> None:
    with trio.fail_after(30):
        org = make_org_rows(settings.database_url, agents=3)
        other = make_org_rows(settings.database_url)
        ada = Actor.of(org.agents[0])  # the admin: may assign a waiting thread
        bob, cleo = (a.id for a in org.agents[1:])
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            assert accounts.delete_agent(conn, org.id, cleo)
        async with _commands(settings) as commands:
            thread_id = await open_thread(commands.stream_log, org.space.id)
            for target in (str(uuid.uuid4()), other.agents[0].id, cleo):
                with pytest.raises(NotFoundError, match="no such agent"):
                    await commands.do_transfer(
                        org.space.id, thread_id, actor=ada, target_agent_id=target
                    )
            state = await commands.stream_log.thread_state(org.space.id, thread_id)
            assert state is not None and state.status == "unassigned"
            moved = await commands.do_transfer(
                org.space.id, thread_id, actor=ada, target_agent_id=bob
            )
            assert (moved.status, moved.assigned_agent_id) == ("active", bob)


async def test_another_organizations_thread_is_not_found(settings: Settings) -> None:
    with trio.fail_after(30):
        org = make_org_rows(settings.database_url)
        other = make_org_rows(settings.database_url)
        async with _commands(settings) as commands:
            thread_id = await open_thread(commands.stream_log, org.space.id)
            assert await commands.space_of(org.id, thread_id) == org.space.id
            assert await commands.space_of(org.id, thread_id, [org.space.id]) == org.space.id
            with pytest.raises(NotFoundError, match="no such thread"):
                await commands.space_of(other.id, thread_id)
            with pytest.raises(NotFoundError):
                await commands.space_of(other.id, thread_id, [other.space.id])
            with pytest.raises(NotFoundError):
                await commands.space_of(org.id, str(uuid.uuid4()))


async def test_a_thread_only_postgresql_knows_is_found_and_its_commands_not_found(
    settings: Settings,
) -> None:
    """An old thread whose log state is gone: REST still serves its history, so the lookup
    finds it in PostgreSQL; a command's script then answers not_found."""
    with trio.fail_after(30):
        org = make_org_rows(settings.database_url)
        other = make_org_rows(settings.database_url)
        thread_id, visitor_id = str(uuid.uuid4()), str(uuid.uuid4())
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO threads (id, space_id, visitor_id, status, last_activity_at,"
                " created_at, closed_at, entry_ms, entry_seq)"
                " VALUES (%s, %s, %s, 'expired', now(), now(), now(), 1, 0)",
                (thread_id, org.space.id, visitor_id),
            )
        async with _commands(settings) as commands:
            assert await commands.space_of(org.id, thread_id) == org.space.id
            with pytest.raises(NotFoundError):
                await commands.space_of(other.id, thread_id)
            with pytest.raises(NotFoundError):  # the caller's spaces exclude it (deleted since)
                await commands.space_of(org.id, thread_id, [])
            with pytest.raises(NotFoundError):
                await commands.do_claim(org.space.id, thread_id, actor=Actor.of(org.agents[0]))


async def _state(commands: ThreadCommands, space_id: str, thread_id: str) -> tuple[str, str | None]:
    state = await commands.stream_log.thread_state(space_id, thread_id)
    assert state is not None
    return state.status, state.assigned_agent_id


async def test_only_the_holder_or_an_admin_closes_or_transfers_an_assigned_thread(
    settings: Settings,
) -> None:
    """Issue 15, finding 4: an agent who lost a claim took the thread by transferring it to
    themselves, and any agent closed a colleague's conversation."""
    with trio.fail_after(30):
        org = make_org_rows(settings.database_url, agents=3)
        ada, bob, cleo = (Actor.of(a) for a in org.agents)  # ada is the admin
        space = org.space.id
        async with _commands(settings) as commands:
            thread_id = await open_thread(commands.stream_log, space)
            await commands.do_claim(space, thread_id, actor=bob)
            with pytest.raises(AlreadyClaimedError):
                await commands.do_claim(space, thread_id, actor=cleo)
            with pytest.raises(ForbiddenError) as refused:
                await commands.do_transfer(
                    space, thread_id, actor=cleo, target_agent_id=cleo.agent_id
                )
            assert refused.value.code == "forbidden"
            with pytest.raises(ForbiddenError):
                await commands.do_close(space, thread_id, actor=cleo)
            assert await _state(commands, space, thread_id) == ("active", bob.agent_id)
            # The holder hands it on; the new holder, not the old one, may then close it.
            await commands.do_transfer(space, thread_id, actor=bob, target_agent_id=cleo.agent_id)
            with pytest.raises(ForbiddenError):
                await commands.do_close(space, thread_id, actor=bob)
            # An admin transfers and closes whoever holds it.
            await commands.do_transfer(space, thread_id, actor=ada, target_agent_id=bob.agent_id)
            assert await _state(commands, space, thread_id) == ("active", bob.agent_id)
            closed = await commands.do_close(space, thread_id, actor=ada)
            assert closed.status == "closed"

            # A waiting thread: agents claim it (a transfer is an admin's assignment), and any
            # agent may close it (spam in the queue).
            waiting = await open_thread(commands.stream_log, space)
            with pytest.raises(ForbiddenError):
                await commands.do_transfer(space, waiting, actor=bob, target_agent_id=cleo.agent_id)
            assigned = await commands.do_transfer(
                space, waiting, actor=ada, target_agent_id=cleo.agent_id
            )
            assert (assigned.status, assigned.assigned_agent_id) == ("active", cleo.agent_id)
            spam = await open_thread(commands.stream_log, space)
            assert (await commands.do_close(space, spam, actor=bob)).status == "closed"


async def test_losers_of_a_claim_race_cannot_take_the_thread_by_transfer(
    settings: Settings,
) -> None:
    """Every agent claims, then transfers to itself, at once: the holder check is made in the
    same script as the change, so whoever won the claim keeps the thread."""
    with trio.fail_after(30):
        org = make_org_rows(settings.database_url, agents=CLAIMERS)
        agents = [Actor.of(a) for a in org.agents[1:]]  # not the admin
        space = org.space.id
        async with _commands(settings) as commands:
            thread_id = await open_thread(commands.stream_log, space)
            won: list[str] = []
            forbidden: list[str] = []

            async def grab(actor: Actor) -> None:
                try:
                    await commands.do_claim(space, thread_id, actor=actor)
                    won.append(actor.agent_id)
                except AlreadyClaimedError:
                    pass
                try:
                    await commands.do_transfer(
                        space, thread_id, actor=actor, target_agent_id=actor.agent_id
                    )
                except ForbiddenError:
                    forbidden.append(actor.agent_id)

            async with trio.open_nursery() as nursery:
                for actor in agents:
                    nursery.start_soon(grab, actor)
            assert len(won) == 1
            assert sorted(forbidden) == sorted(a.agent_id for a in agents if a.agent_id not in won)
            assert await _state(commands, space, thread_id) == ("active", won[0])


async def test_a_transfer_respects_availability_and_capacity_unless_an_admin_forces_it(
    settings: Settings,
) -> None:
    with trio.fail_after(30):
        org = make_org_rows(settings.database_url, agents=4)
        ada, bob, cleo, dan = (Actor.of(a) for a in org.agents)
        space = org.space.id
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            accounts.update_agent(conn, org.id, cleo.agent_id, {"accepting_chats": False})
            accounts.update_agent(conn, org.id, dan.agent_id, {"max_concurrent_chats": 1})
        async with _commands(settings) as commands:
            # Dan's one slot is taken (capacity counts the log's assignments, across spaces).
            await commands.do_claim(space, await open_thread(commands.stream_log, space), actor=dan)
            thread_id = await open_thread(commands.stream_log, space)
            await commands.do_claim(space, thread_id, actor=bob)
            with pytest.raises(AgentUnavailableError) as unavailable:
                await commands.do_transfer(
                    space, thread_id, actor=bob, target_agent_id=cleo.agent_id
                )
            assert (unavailable.value.code, unavailable.value.status) == ("agent_unavailable", 409)
            with pytest.raises(AgentAtCapacityError) as full:
                await commands.do_transfer(
                    space, thread_id, actor=bob, target_agent_id=dan.agent_id
                )
            assert (full.value.code, full.value.status) == ("agent_at_capacity", 409)
            with pytest.raises(ForbiddenError, match="only a supervisor or an admin"):
                await commands.do_transfer(
                    space, thread_id, actor=bob, target_agent_id=dan.agent_id, force=True
                )
            assert await _state(commands, space, thread_id) == ("active", bob.agent_id)
            forced = await commands.do_transfer(
                space, thread_id, actor=ada, target_agent_id=dan.agent_id, force=True
            )
            assert forced.assigned_agent_id == dan.agent_id
            # Without force, an admin meets the same checks.
            with pytest.raises(AgentUnavailableError):
                await commands.do_transfer(
                    space, thread_id, actor=ada, target_agent_id=cleo.agent_id
                )
