"""Accounts, spaces and threads made straight in PostgreSQL and the log, for tests below HTTP
(commands, sessions) that need real rows without a server."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import psycopg

from chat.db import accounts, space_queries
from chat.db.rows import AgentRow, SpaceRow
from chat.streams.log import StreamLog


@dataclass(frozen=True)
class OrgRows:
    id: str
    agents: list[AgentRow]  # the first is the admin
    space: SpaceRow


def make_org_rows(url: str, agents: int = 1) -> OrgRows:
    """An organization with `agents` live agents and one space."""
    with psycopg.connect(url, autocommit=True) as conn:
        suffix = uuid.uuid4().hex[:8]
        org, admin = accounts.create_organization_with_admin(
            conn, "Acme", "Ada", f"ada-{suffix}@example.com", "x"
        )
        made = [admin]
        for n in range(1, agents):
            email = f"a{n}-{suffix}@example.com"
            made.append(accounts.create_agent(conn, org.id, f"A{n}", email, "x", "agent"))
        space = space_queries.create_space(conn, org.id, "Shop", ["shop.example.com"], {})
    return OrgRows(org.id, made, space)


async def open_thread(stream_log: StreamLog, space_id: str) -> str:
    """A visitor's first message, which opens a thread in the log; the thread's id."""
    ack = await stream_log.do_post_message(
        space_id,
        sender_type="visitor",
        sender_id=str(uuid.uuid4()),
        sender_name="Vera",
        content="hello",
        client_id="c1",
        max_open_threads=10,
    )
    return ack.thread_id
