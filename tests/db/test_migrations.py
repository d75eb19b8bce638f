"""Versioned migrations (migrations/) do what they say on a database that needs them."""

from __future__ import annotations

import json

import psycopg

from chat.config import Settings
from chat.db import space_queries
from chat.db.migrations import MIGRATIONS_PATH


def test_the_old_default_cap_is_raised_and_a_chosen_one_kept(settings: Settings) -> None:
    """0003: a space stored the old default max_open_threads (10) verbatim; it becomes the new
    default (100), and any other value stays. Run twice: idempotent."""
    sql = (MIGRATIONS_PATH / "0003.waiting-queue-cap.sql").read_text()
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        org = conn.execute(
            "INSERT INTO organizations (id, name) VALUES (gen_random_uuid(), 'o') RETURNING id"
        ).fetchone()
        assert org is not None
        made = {
            cap: space_queries.create_space(
                conn, str(org[0]), f"s{cap}", ["example.com"], {"max_open_threads": cap}
            ).id
            for cap in (10, 7)
        }
        for _ in range(2):
            conn.execute(sql)  # type: ignore[arg-type]
        caps = {}
        for cap, space_id in made.items():
            row = conn.execute("SELECT settings FROM spaces WHERE id = %s", (space_id,)).fetchone()
            assert row is not None
            stored = row[0] if isinstance(row[0], dict) else json.loads(row[0])
            caps[cap] = stored["max_open_threads"]
        assert caps == {10: 100, 7: 7}
