"""Thread commands (chat/commands/threads.py) against the real Valkey and PostgreSQL: the one
lookup of a thread's space, and claim, close and transfer as both REST and sockets call them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
import pytest
import trio

from chat.commands.threads import ThreadCommands
from chat.config import Settings
from chat.db import accounts
from chat.db.pool import open_database
from chat.errors import (
    AlreadyClaimedError,
    ChatError,
    NotFoundError,
    ThreadClosedError,
)
from chat.streams.client import open_redis
from chat.streams.log import StreamLog
from tests.helpers.rows import make_org_rows, open_thread

CLAIMERS = 8


@asynccontextmanager
async def _commands(settings: Settings) -> AsyncIterator[ThreadCommands]:
    async with (
        open_redis(settings.redis_url) as redis,
        open_database(settings.database_url, settings.db_pool_size) as db,
    ):
        yield ThreadCommands(StreamLog(redis, settings.key_prefix, "written"), db)


async def test_of_concurrent_claims_exactly_one_wins(settings: Settings) -> None:
    with trio.fail_after(30):
        org = make_org_rows(settings.database_url, agents=CLAIMERS)
        async with _commands(settings) as commands:
            thread_id = await open_thread(commands.stream_log, org.space.id)
            won: list[str] = []
            refused: list[ChatError] = []

            async def claim(agent_id: str) -> None:
                space_id = await commands.space_of(org.id, thread_id)
                try:
                    thread = await commands.do_claim(space_id, thread_id, agent_id=agent_id)
                except AlreadyClaimedError as err:
                    refused.append(err)
                else:
                    assert thread.assigned_agent_id == agent_id
                    won.append(agent_id)

            async with trio.open_nursery() as nursery:
                for agent_id in (a.id for a in org.agents):
                    nursery.start_soon(claim, agent_id)
            assert len(won) == 1 and len(refused) == CLAIMERS - 1
            # The holder's repeated claim is answered again; a close ends it; a second close
            # is thread_closed.
            again = await commands.do_claim(org.space.id, thread_id, agent_id=won[0])
            assert (again.status, again.assigned_agent_id) == ("active", won[0])
            closed = await commands.do_close(org.space.id, thread_id, agent_id=org.agents[0].id)
            assert closed.status == "closed" and closed.closed is not None
            with pytest.raises(ThreadClosedError):
                await commands.do_close(org.space.id, thread_id, agent_id=org.agents[0].id)


async def test_transfer_needs_a_live_agent_of_the_organization(settings: Settings) -> None:
    with trio.fail_after(30):
        org = make_org_rows(settings.database_url, agents=3)
        other = make_org_rows(settings.database_url)
        ada, bob, cleo = (a.id for a in org.agents)
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            assert accounts.delete_agent(conn, org.id, cleo)
        async with _commands(settings) as commands:
            thread_id = await open_thread(commands.stream_log, org.space.id)
            for target in (str(uuid.uuid4()), other.agents[0].id, cleo):
                with pytest.raises(NotFoundError, match="no such agent"):
                    await commands.do_transfer(
                        org.space.id,
                        thread_id,
                        agent_id=ada,
                        organization_id=org.id,
                        target_agent_id=target,
                    )
            state = await commands.stream_log.thread_state(org.space.id, thread_id)
            assert state is not None and state.status == "unassigned"
            moved = await commands.do_transfer(
                org.space.id, thread_id, agent_id=ada, organization_id=org.id, target_agent_id=bob
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
                await commands.do_claim(org.space.id, thread_id, agent_id=org.agents[0].id)
