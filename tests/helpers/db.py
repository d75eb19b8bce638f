"""Reading PostgreSQL from tests, waiting for the projector with a deadline."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
import trio

from chat.db import space_queries

POLL_SECONDS = 0.1  # the projector has no event to wait on from outside: poll, under a deadline


@asynccontextmanager
async def table_locked(database_url: str, table: str) -> AsyncIterator[None]:
    """Another connection holds ACCESS EXCLUSIVE on `table` in an open transaction."""
    conn = await trio.to_thread.run_sync(psycopg.connect, database_url)
    try:
        await trio.to_thread.run_sync(
            conn.execute,
            f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE",  # noqa: S608 - a constant name
        )
        yield
    finally:
        await trio.to_thread.run_sync(conn.rollback)
        await trio.to_thread.run_sync(conn.close)


def refuse_connections(admin_url: str, database_url: str, *, allow: bool) -> None:
    """The test's database refuses every new connection (and drops those open), or takes them
    again: PostgreSQL is down as far as the service is concerned, the other tests' databases on
    the same server are untouched."""
    database = database_url.rsplit("/", 1)[1]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {str(allow).lower()}')
        if not allow:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (database,),
            )


@asynccontextmanager
async def database_down(admin_url: str, database_url: str) -> AsyncIterator[None]:
    """The test's database refuses every connection (and drops those open) until exit."""
    await trio.to_thread.run_sync(lambda: refuse_connections(admin_url, database_url, allow=False))
    try:
        yield
    finally:
        await trio.to_thread.run_sync(
            lambda: refuse_connections(admin_url, database_url, allow=True)
        )


def query(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]


def create_space(url: str) -> str:
    """A space of a new organization, written straight to PostgreSQL; its id."""
    with psycopg.connect(url, autocommit=True) as conn:
        org = conn.execute(
            "INSERT INTO organizations (id, name) VALUES (gen_random_uuid(), 'o') RETURNING id"
        ).fetchone()
        assert org is not None
        return space_queries.create_space(conn, str(org[0]), "s", ["example.com"], {}).id


async def wait_for_rows(
    url: str, sql: str, params: tuple[Any, ...], want: int, timeout: float = 30
):
    """Poll until the first column of the first row equals `want`; returns it."""
    with trio.fail_after(timeout):
        while True:
            rows = await trio.to_thread.run_sync(query, url, sql, params)
            if rows and rows[0][0] == want:
                return rows
            await trio.sleep(POLL_SECONDS)


async def wait_for_messages(url: str, thread_id: str, count: int, timeout: float = 30) -> None:
    """Until PostgreSQL holds `count` messages of the thread (the projector caught up)."""
    sql = "SELECT count(*) FROM messages WHERE thread_id = %s"
    await wait_for_rows(url, sql, (thread_id,), count, timeout=timeout)


async def stored_count(url: str, client_ids: list[str]) -> int:
    """How many messages PostgreSQL holds under these client_ids."""
    sql = "SELECT count(*) FROM messages WHERE client_id = ANY(%s)"
    rows = await trio.to_thread.run_sync(query, url, sql, (client_ids,))
    return int(rows[0][0])


async def assert_stored_once(url: str, client_id: str, *, after: str, timeout: float = 30) -> None:
    """The message sent (however often) under `client_id` is one row in PostgreSQL.

    `after` is the client_id of a message acked later in the same space: the projector follows
    the space's order, so once that one is stored, everything before it is too."""
    await _wait_stored(url, after, timeout)
    assert await stored_count(url, [client_id]) == 1


async def assert_never_stored(
    url: str, client_ids: list[str], *, after: str, timeout: float = 30
) -> None:
    """None of these (refused) messages reached PostgreSQL; `after` as for assert_stored_once."""
    await _wait_stored(url, after, timeout)
    assert await stored_count(url, client_ids) == 0


async def _wait_stored(url: str, client_id: str, timeout: float) -> None:
    sql = "SELECT count(*) FROM messages WHERE client_id = %s"
    await wait_for_rows(url, sql, (client_id,), 1, timeout=timeout)


async def peer_agent_token(base: str, org: Any, n: int) -> str:
    """Another agent of the org, made through POST /agents; its access token."""
    from tests.helpers.api import add_member

    return (await add_member(f"{base}/api/v1", org.token, f"Peer{n}")).token
