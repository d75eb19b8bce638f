"""Reading PostgreSQL from tests, waiting for the projector with a deadline."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import trio

POLL_SECONDS = 0.1  # the projector has no event to wait on from outside: poll, under a deadline


def query(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]


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


async def peer_agent_token(base: str, database_url: str, org: Any, n: int) -> str:
    """Another agent of the org, written directly until REST /agents exists; its access token."""
    from chat.auth.passwords import hash_password
    from chat.db import accounts
    from tests.helpers.http import call

    email = f"peer{n}-{uuid.uuid4().hex[:6]}@example.com"
    password_hash = await hash_password("correct horse")

    def create() -> None:
        with psycopg.connect(database_url, autocommit=True) as conn:
            accounts.create_agent(
                conn, org.agent["organization_id"], f"Peer{n}", email, password_hash, "agent"
            )

    await trio.to_thread.run_sync(create)
    login = await call(
        "POST", f"{base}/api/v1/auth/login", {"email": email, "password": "correct horse"}
    )
    assert login.status == 200, login.body
    return str(login.body["access_token"])
