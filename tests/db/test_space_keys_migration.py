"""migrations/0020.space-keys-removed.sql: a database from before it (the column dropped, its
record gone) upgrades to what today's schema.sql makes; a space deleted before it has no
`keys_removed_at`, so the projector follows it again and the retention sweep removes its keys."""

from __future__ import annotations

import uuid

import psycopg

from chat.config import Settings
from chat.db import space_queries
from chat.db.schema import apply_schema

COLUMN = (
    "SELECT data_type, is_nullable FROM information_schema.columns"
    " WHERE table_name = 'spaces' AND column_name = 'keys_removed_at'"
)


def test_0020_upgrades_a_database_from_before_it(settings: Settings) -> None:
    url = settings.database_url  # today's schema.sql and every migration, fresh
    org_id, space_id = uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(url, autocommit=True) as conn:
        wanted = conn.execute(COLUMN).fetchall()
        assert wanted == [("timestamp with time zone", "YES")]
        conn.execute("ALTER TABLE spaces DROP COLUMN keys_removed_at")
        conn.execute("DELETE FROM _yoyo_migration WHERE migration_id = '0020.space-keys-removed'")
        conn.execute("INSERT INTO organizations (id, name) VALUES (%s, 'Old')", (org_id,))
        conn.execute(
            "INSERT INTO spaces (id, organization_id, name, widget_key, allowed_domains,"
            " deleted_at) VALUES (%s, %s, 'Gone', 'wk_old', '{}', now() - interval '1 day')",
            (space_id, org_id),
        )
        assert conn.execute(COLUMN).fetchall() == []  # really the old shape

    apply_schema(url)  # what `chat serve` and `chat migrate` do at start

    with psycopg.connect(url) as conn:
        assert conn.execute(COLUMN).fetchall() == wanted
        assert str(space_id) in space_queries.followed_space_ids(conn)
        assert space_queries.spaces_to_remove(conn, 60) == [(str(space_id), str(org_id))]
    apply_schema(url)  # and again: nothing left to do, nothing fails
