"""A bot agent for the rules bot's tests."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from chat.config import Settings
from tests.helpers.chat import Org


async def make_rules_bot(
    settings: Settings, org: Org, *, rules: dict[str, Any] | None, name: str = "Shopbot"
) -> str:
    """A bot agent of the organization (kind 'bot', no password) with these rules; its id."""
    bot_id = str(uuid.uuid4())
    with psycopg.connect(settings.database_url) as conn:
        conn.execute(
            "INSERT INTO agents (id, organization_id, email, name, role, password_hash, kind,"
            " bot_rules) VALUES (%s, %s, %s, %s, 'agent', '', 'bot', %s)",
            (
                bot_id,
                org.agent["organization_id"],
                f"bot-{bot_id}@bots.invalid",
                name,
                Jsonb(rules) if rules is not None else None,
            ),
        )
    return bot_id
