"""migrations/0007.search.sql brings a database of the shape before it (schema.sql less the
search columns) to what schema.sql describes, and running it again changes nothing; schema.sql
itself still runs on such a database (its index creation waits for the columns)."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from chat.config import Settings
from chat.db.migrations import MIGRATIONS_PATH
from chat.embedded.services import EmbeddedServices

MIGRATION = MIGRATIONS_PATH / "0007.search.sql"
TABLES = ("messages", "visitors")


def _shape(url: str) -> dict[str, Any]:
    with psycopg.connect(url) as conn:
        columns = conn.execute(
            "SELECT table_name, column_name, data_type, is_generated, generation_expression"
            " FROM information_schema.columns WHERE table_name = ANY(%s) ORDER BY 1, 2",
            (list(TABLES),),
        ).fetchall()
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) ORDER BY 1",
            (list(TABLES),),
        ).fetchall()
    return {"columns": columns, "indexes": indexes}


def test_0007_creates_what_schema_sql_describes(
    embedded: EmbeddedServices, settings: Settings
) -> None:
    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(embedded.database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = embedded.database_url.rsplit("/", 1)[0] + "/" + name
    schema = (MIGRATIONS_PATH.parent / "schema.sql").read_text()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(schema)  # type: ignore[arg-type]
        for table in TABLES:
            conn.execute(f"DROP INDEX {table}_search")
            conn.execute(f"ALTER TABLE {table} DROP COLUMN search_vector")
        conn.execute(schema)  # type: ignore[arg-type]  # as at every start, before migrations
        assert "search_vector" not in str(_shape(url)["columns"])  # really without them
        for _ in range(2):  # idempotent
            conn.execute(MIGRATION.read_text())  # type: ignore[arg-type]
    made = _shape(url)
    assert {"messages_search", "visitors_search"} <= {i[0] for i in made["indexes"]}
    assert made == _shape(settings.database_url)
