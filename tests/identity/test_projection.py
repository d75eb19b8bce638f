"""The projection of verified identities (chat/db/projection.py) and migration 0014: a replayed
entry changes nothing; a user id is one visitor's per space even if the log mapped it to a
second visitor (Valkey lost its mapping): the newest entry wins and the batch never fails."""

from __future__ import annotations

import uuid

import psycopg

from chat.config import Settings
from chat.db.migrations import MIGRATIONS_PATH
from chat.db.projection import Batch
from chat.events import LogEntry, VisitorUpdated
from tests.helpers.db import query


def _write(url: str, space_id: str, entries: list[LogEntry]) -> None:
    batch = Batch()
    for entry in entries:
        batch.add(space_id, entry)
    with psycopg.connect(url) as conn:
        batch.write(conn)


def test_one_visitor_per_user_id_and_space(settings: Settings) -> None:
    url, space_id, other_space = settings.database_url, str(uuid.uuid4()), str(uuid.uuid4())
    first, second, elsewhere = (str(uuid.uuid4()) for _ in range(3))
    verified = [
        LogEntry("1700000000000-0", VisitorUpdated(visitor_id=first, external_id="u-1", name="A")),
        LogEntry("1700000000001-0", VisitorUpdated(visitor_id=first, current_url="https://x/")),
    ]
    for _ in range(2):  # a replay changes nothing
        _write(url, space_id, verified)
    _write(
        url,
        other_space,
        [LogEntry("1700000000002-0", VisitorUpdated(visitor_id=elsewhere, external_id="u-1"))],
    )
    rows = query(url, "SELECT id::text, external_id FROM visitors ORDER BY external_id, id", ())
    assert sorted(rows) == sorted([(first, "u-1"), (elsewhere, "u-1")])  # per space
    # A second visitor verified as the same user in the same space: it holds the id now.
    _write(
        url,
        space_id,
        [LogEntry("1700000000003-0", VisitorUpdated(visitor_id=second, external_id="u-1"))],
    )
    held = query(
        url,
        "SELECT id::text FROM visitors WHERE space_id = %s AND external_id = 'u-1'",
        (space_id,),
    )
    assert held == [(second,)]
    assert query(url, "SELECT name FROM visitors WHERE id = %s", (first,)) == [("A",)]


def test_the_migration_is_idempotent(settings: Settings) -> None:
    sql = (MIGRATIONS_PATH / "0014.visitor-identity.sql").read_text()
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        for _ in range(2):
            conn.execute(sql)  # type: ignore[arg-type]
        columns = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'visitors'"
            " AND column_name = 'external_id'"
        ).fetchall()
        assert columns == [("external_id",)]
        index = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'visitors_external_id'"
        ).fetchall()
        assert "UNIQUE" in index[0][0] and "external_id IS NOT NULL" in index[0][0]
