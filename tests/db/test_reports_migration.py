"""migrations/0021.reports.sql brings a database of the shape before it (organizations without
time_zone, threads and messages without the report indexes) to what schema.sql and the
migrations describe, and running it again changes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from chat.config import Settings
from chat.db.migrations import MIGRATIONS_PATH
from chat.embedded.services import EmbeddedServices

MIGRATION = MIGRATIONS_PATH / "0021.reports.sql"


def conn_triggers(url: str) -> list[Any]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger"
            " WHERE tgrelid = 'messages'::regclass AND NOT tgisinternal"
        ).fetchall()


def _shape(url: str) -> dict[str, Any]:
    with psycopg.connect(url) as conn:
        columns = conn.execute(
            "SELECT column_name, data_type, is_nullable, column_default"
            " FROM information_schema.columns WHERE table_name = 'organizations' ORDER BY 1"
        ).fetchall()
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes"
            " WHERE indexname IN ('threads_space_closed', 'conversation_stats_pkey') ORDER BY 1"
        ).fetchall()
    assert len(indexes) == 2, indexes
    triggers = conn_triggers(url)
    return {"columns": columns, "indexes": indexes, "triggers": triggers}


def test_0021_adds_the_time_zone_and_the_report_indexes(
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
        conn.execute("DROP TRIGGER messages_conversation_stats ON messages")
        conn.execute("DROP TABLE conversation_stats")
        # Messages stored before the rollup existed: the migration counts them.
        thread = uuid.uuid4()
        for seq, (kind, at) in enumerate(
            [("visitor", "10:00:00"), ("agent", "10:01:30"), ("agent", "10:02:00")]
        ):
            conn.execute(
                "INSERT INTO messages (thread_id, id_ms, id_seq, space_id, sender_type,"
                " sender_id, sender_name, content, client_id, created_at) VALUES (%s, 1, %s,"
                " %s, %s, 'x', 'x', 'hi', %s, %s)",
                (thread, seq, uuid.uuid4(), kind, f"c{seq}", f"2026-03-01 {at}+00"),
            )
        for _ in range(2):  # idempotent
            conn.execute(MIGRATION.read_text())  # type: ignore[arg-type]
        zone = conn.execute("SELECT time_zone FROM organizations").fetchone()
        stats = conn.execute(
            "SELECT visitor_messages, agent_messages, first_agent_message_at::text"
            " FROM conversation_stats"
        ).fetchall()
        # From then on the trigger keeps it: a replayed message (a conflict) adds nothing.
        conn.execute(
            "INSERT INTO messages (thread_id, id_ms, id_seq, space_id, sender_type, sender_id,"
            " sender_name, content, client_id, created_at) VALUES (%s, 1, 2, %s, 'agent', 'x',"
            " 'x', 'hi', 'c9', now()), (%s, 1, 3, %s, 'visitor', 'x', 'x', 'hi', 'c3', now())"
            " ON CONFLICT DO NOTHING",
            (thread, uuid.uuid4(), thread, uuid.uuid4()),
        )
        after = conn.execute(
            "SELECT visitor_messages, agent_messages FROM conversation_stats"
        ).fetchall()
    assert zone == ("UTC",)  # an organization that existed gets UTC, as a new one does
    assert stats == [(1, 2, "2026-03-01 10:01:30+00")]
    assert after == [(2, 2)]
    assert _shape(url) == _shape(settings.database_url)
