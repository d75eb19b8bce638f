"""The built-in rules bot's rules (`agents.bot_rules` of a bot agent; structures.md "Built-in
bot"). Configuration, written by the service directly. Scoped to the caller's organization and
to live bots: another organization's agent, a person, or a deleted bot is not found.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb


@dataclass(frozen=True, slots=True)
class RulesBotRow:
    id: str
    organization_id: str
    name: str
    rules: dict[str, Any] | None  # null: an external bot (it has no rules)


_LIVE_BOT = "kind = 'bot' AND deleted_at IS NULL"


def rules_bots(conn: psycopg.Connection) -> list[RulesBotRow]:
    """Every live bot that has rules: the bots the in-process rules bot answers for."""
    rows = conn.execute(
        "SELECT id::text, organization_id::text, name, bot_rules FROM agents"
        f" WHERE {_LIVE_BOT} AND bot_rules IS NOT NULL ORDER BY id"
    ).fetchall()
    return [RulesBotRow(*row) for row in rows]


def organization_bots(conn: psycopg.Connection, organization_id: str) -> list[RulesBotRow]:
    """The organization's live bots, with their rules or null, oldest first."""
    rows = conn.execute(
        "SELECT id::text, organization_id::text, name, bot_rules FROM agents"
        f" WHERE organization_id = %s AND {_LIVE_BOT} ORDER BY created_at, id",
        (organization_id,),
    ).fetchall()
    return [RulesBotRow(*row) for row in rows]


def bot_rules(conn: psycopg.Connection, organization_id: str, bot_id: str) -> RulesBotRow | None:
    """The organization's live bot `bot_id` (its rules may be null), or None."""
    row = conn.execute(
        "SELECT id::text, organization_id::text, name, bot_rules FROM agents"
        f" WHERE id = %s AND organization_id = %s AND {_LIVE_BOT}",
        (bot_id, organization_id),
    ).fetchone()
    return RulesBotRow(*row) if row else None


def set_bot_rules(
    conn: psycopg.Connection, organization_id: str, bot_id: str, rules: dict[str, Any] | None
) -> bool:
    """Replace the bot's rules (None: it becomes an external bot); False when not found."""
    cur = conn.execute(
        f"UPDATE agents SET bot_rules = %s WHERE id = %s AND organization_id = %s AND {_LIVE_BOT}",
        (Jsonb(rules) if rules is not None else None, bot_id, organization_id),
    )
    return cur.rowcount == 1


def followed_spaces(conn: psycopg.Connection) -> list[tuple[str, str, str]]:
    """(space, organization, widget locale) of every live space of an organization that has a
    live bot with rules: the spaces the rules bot follows. One query, however many spaces the
    deployment has elsewhere."""
    rows = conn.execute(
        "SELECT s.id::text, s.organization_id::text, coalesce(s.settings->>'locale', 'auto')"
        " FROM spaces s WHERE s.deleted_at IS NULL AND EXISTS (SELECT 1 FROM agents a"
        " WHERE a.organization_id = s.organization_id AND a.kind = 'bot'"
        " AND a.deleted_at IS NULL AND a.bot_rules IS NOT NULL)"
    ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]
