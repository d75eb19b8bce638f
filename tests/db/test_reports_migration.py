"""migrations/0020.reports.sql brings a database of the shape before it (organizations without
time_zone, threads and messages without the report indexes) to what schema.sql and the
migrations describe, and running it again changes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from chat.config import Settings
from chat.db.migrations import MIGRATIONS_PATH
from chat.embedded.services import EmbeddedServices

MIGRATION = MIGRATIONS_PATH / "0020.reports.sql"


def _shape(url: str) -> dict[str, Any]:
    with psycopg.connect(url) as conn:
        columns = conn.execute(
            "SELECT column_name, data_type, is_nullable, column_default"
            " FROM information_schema.columns WHERE table_name = 'organizations' ORDER BY 1"
        ).fetchall()
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes"
            " WHERE indexname IN ('threads_space_closed', 'messages_agent_first') ORDER BY 1"
        ).fetchall()
    assert len(indexes) == 2, indexes
    return {"columns": columns, "indexes": indexes}


def test_0020_adds_the_time_zone_and_the_report_indexes(
    embedded: EmbeddedServices, settings: Settings
) -> None:
    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(embedded.database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = embedded.database_url.rsplit("/", 1)[0] + "/" + name
    schema = (MIGRATIONS_PATH.parent / "schema.sql").read_text()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(schema)  # type: ignore[arg-type]
        conn.execute("INSERT INTO organizations (id, name) VALUES (%s, 'Old')", (uuid.uuid4(),))
        conn.execute("ALTER TABLE organizations DROP COLUMN time_zone")
        conn.execute("DROP INDEX threads_space_closed")
        conn.execute("DROP INDEX messages_agent_first")
        for _ in range(2):  # idempotent
            conn.execute(MIGRATION.read_text())  # type: ignore[arg-type]
        zone = conn.execute("SELECT time_zone FROM organizations").fetchone()
    assert zone == ("UTC",)  # an organization that existed gets UTC, as a new one does
    assert _shape(url) == _shape(settings.database_url)
