"""Bots (structures.md, "Bots"): agents of kind 'bot', their tokens, and where they answer first.

Configuration, written by the service directly. Every query is scoped to the caller's
organization and to live bots: another organization's bot, a deleted one, or a person is not
found.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import class_row

from chat.auth.bot_tokens import NewBotToken, new_bot_token
from chat.db import accounts
from chat.db.rows import AgentRow
from chat.errors import EmailTakenError

# A bot's row needs an email (agents.email is NOT NULL and unique among live agents); nobody
# mails it and nobody signs in with it: `.invalid` is reserved (RFC 2606) and never delivers.
BOT_EMAIL_DOMAIN = "bots.invalid"


@dataclass(frozen=True, slots=True)
class BotTokenInfo:
    """What an admin sees of a bot's token once it was shown: enough to tell tokens apart."""

    prefix: str
    last4: str
    created_at: datetime
    last_used_at: datetime | None


def create_bot(
    conn: psycopg.Connection, organization_id: str, name: str
) -> tuple[AgentRow, NewBotToken]:
    """A new bot (role agent, no password, capacity unused) and its first token."""
    bot_id = str(uuid.uuid4())
    email = f"bot-{uuid.UUID(bot_id).hex}@{BOT_EMAIL_DOMAIN}"
    try:
        with conn.transaction():
            conn.execute(
                "INSERT INTO agents (id, organization_id, email, name, role, password_hash, kind,"
                " accepting_chats) VALUES (%s, %s, %s, %s, 'agent', '', 'bot', false)",
                (bot_id, organization_id, email, name),
            )
    except psycopg.errors.UniqueViolation as exc:  # a UUID twice: not in this universe
        raise EmailTakenError() from exc
    token = _store_token(conn, bot_id)
    bot = accounts.agent_by_id(conn, organization_id, bot_id)
    assert bot is not None
    return bot, token


def _store_token(conn: psycopg.Connection, bot_id: str) -> NewBotToken:
    token = new_bot_token(bot_id)
    conn.execute(
        "INSERT INTO bot_tokens (agent_id, token_hash, prefix, last4) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (agent_id) DO UPDATE SET token_hash = EXCLUDED.token_hash,"
        " prefix = EXCLUDED.prefix, last4 = EXCLUDED.last4, created_at = now(),"
        " last_used_at = NULL",
        (bot_id, token.token_hash, token.prefix, token.last4),
    )
    return token


def bot_by_id(conn: psycopg.Connection, organization_id: str, bot_id: str) -> AgentRow | None:
    """A live bot of this organization; None for a person, another organization's or a deleted
    one."""
    agent = accounts.agent_by_id(conn, organization_id, bot_id)
    return agent if agent is not None and agent.is_bot else None


def list_bots(conn: psycopg.Connection, organization_id: str) -> list[AgentRow]:
    return [a for a in accounts.list_agents(conn, organization_id) if a.is_bot]


def rotate_token(conn: psycopg.Connection, organization_id: str, bot_id: str) -> NewBotToken | None:
    """A new token replaces the bot's (the old one stops working now); None: no such bot."""
    if bot_by_id(conn, organization_id, bot_id) is None:
        return None
    return _store_token(conn, bot_id)


def token_info(conn: psycopg.Connection, bot_id: str) -> BotTokenInfo | None:
    with conn.cursor(row_factory=class_row(BotTokenInfo)) as cur:
        return cur.execute(
            "SELECT prefix, last4, created_at, last_used_at FROM bot_tokens WHERE agent_id = %s",
            (bot_id,),
        ).fetchone()


def bot_with_token(conn: psycopg.Connection, bot_id: str) -> tuple[AgentRow, bytes] | None:
    """A live bot by id with its token's hash (the caller compares it); None otherwise."""
    agent = accounts.live_agent(conn, bot_id)
    if agent is None or not agent.is_bot:
        return None
    row = conn.execute(
        "SELECT token_hash FROM bot_tokens WHERE agent_id = %s", (bot_id,)
    ).fetchone()
    return (agent, bytes(row[0])) if row else None


def note_token_used(conn: psycopg.Connection, bot_id: str) -> None:
    """At most once a minute per bot, not on every request."""
    conn.execute(
        "UPDATE bot_tokens SET last_used_at = now() WHERE agent_id = %s"
        " AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
        (bot_id,),
    )


def hold_live_bot(conn: psycopg.Connection, organization_id: str, bot_id: str) -> bool:
    """Whether the bot is live in this organization; keeps it so until the transaction ends
    (FOR SHARE: a concurrent delete waits, then clears what named it)."""
    row = conn.execute(
        "SELECT 1 FROM agents WHERE id = %s AND organization_id = %s AND kind = 'bot'"
        " AND deleted_at IS NULL FOR SHARE",
        (bot_id, organization_id),
    ).fetchone()
    return row is not None


def delete_bot(conn: psycopg.Connection, organization_id: str, bot_id: str) -> list[str] | None:
    """Soft-delete a live bot, its token with it; the ids of the spaces that routed to it (their
    setting cleared, as the groups' column), or None when there is no such bot."""
    if bot_by_id(conn, organization_id, bot_id) is None:
        return None
    conn.execute("UPDATE agents SET deleted_at = now() WHERE id = %s", (bot_id,))
    conn.execute("DELETE FROM bot_tokens WHERE agent_id = %s", (bot_id,))
    conn.execute("UPDATE groups SET bot_agent_id = NULL WHERE bot_agent_id = %s", (bot_id,))
    rows = conn.execute(
        "UPDATE spaces SET settings = jsonb_set(settings, '{bot_agent_id}', 'null')"
        " WHERE organization_id = %s AND settings->>'bot_agent_id' = %s RETURNING id::text",
        (organization_id, bot_id),
    ).fetchall()
    return [r[0] for r in rows]
