"""Migration 0013 brings a database made before webhooks to schema.sql's shape; twice is fine."""

from __future__ import annotations

import psycopg

from chat.config import Settings
from chat.db.migrations import MIGRATIONS_PATH

TABLES = ("webhook_deliveries", "webhook_events", "webhook_endpoints")


def _shape(conn: psycopg.Connection) -> list[tuple[str, str, str]]:
    return conn.execute(
        "SELECT table_name::text, column_name::text, data_type::text"
        " FROM information_schema.columns WHERE table_name = ANY (%s)"
        " ORDER BY table_name, column_name",
        (list(TABLES),),
    ).fetchall()


def test_0013_makes_the_webhook_tables(settings: Settings) -> None:
    sql = (MIGRATIONS_PATH / "0013.webhooks.sql").read_text()
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        current = _shape(conn)  # schema.sql's
        assert {t for t, _, _ in current} == set(TABLES)
        for table in TABLES:
            conn.execute(f"DROP TABLE {table}")  # type: ignore[arg-type]
        assert _shape(conn) == []
        for _ in range(2):
            conn.execute(sql)  # type: ignore[arg-type]
        assert _shape(conn) == current
