"""Reading PostgreSQL from tests, waiting for the projector with a deadline."""

from __future__ import annotations

from typing import Any

import psycopg
import trio

from chat.db import space_queries

POLL_SECONDS = 0.1  # the projector has no event to wait on from outside: poll, under a deadline


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


async def peer_agent_token(base: str, org: Any, n: int) -> str:
    """Another agent of the org, made through POST /agents; its access token."""
    from tests.helpers.api import add_member

    return (await add_member(f"{base}/api/v1", org.token, f"Peer{n}")).token
