"""apply_schema at a start beside servers that are live on the same database.

A CI run saw a restarted server's schema.sql deadlock with its live twin: the file is one
transaction, its `CREATE INDEX IF NOT EXISTS` takes a SHARE lock on each table even when the
index is there, and a live transaction wrote two of those tables in the other order. Now a start
whose schema is already applied runs no DDL, and a start that must apply it gives way to live
writers (a short lock_timeout, then again) instead of becoming a deadlock's party."""

from __future__ import annotations

import threading
from collections.abc import Callable

import psycopg

from chat.config import Settings
from chat.db.schema import apply_schema

WAITS_ON_RATINGS = (
    "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'ratings'::regclass"
)


def _in_thread(work: Callable[[], None]) -> tuple[threading.Thread, list[BaseException]]:
    failures: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - collected and asserted by the test
            failures.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, failures


def test_a_start_on_a_current_schema_takes_no_table_lock(settings: Settings) -> None:
    url = settings.database_url  # schema.sql and every migration applied, fingerprint recorded
    with psycopg.connect(url) as live:
        # A live transaction holding every write lock there is on two tables the file indexes.
        live.execute("LOCK TABLE agents, ratings IN ACCESS EXCLUSIVE MODE")
        start, failures = _in_thread(lambda: apply_schema(url))
        start.join(timeout=60)
        finished = not start.is_alive()
        live.rollback()  # let a start that blocked go, whatever the outcome
    start.join(timeout=60)
    assert finished, "a start on a current schema waited on a live transaction's lock"
    assert failures == []


def test_a_start_that_applies_the_file_gives_way_to_a_live_writer(settings: Settings) -> None:
    url = settings.database_url
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM schema_applied")  # as if schema.sql had changed
    with psycopg.connect(url) as live, psycopg.connect(url, autocommit=True) as watch:
        # A live writer in the middle of a transaction that touches ratings, then agents; the
        # file indexes agents near its top and ratings at its end.
        live.execute("LOCK TABLE ratings IN ROW EXCLUSIVE MODE")
        start, failures = _in_thread(lambda: apply_schema(url))
        while watch.execute(WAITS_ON_RATINGS).fetchone() != (1,):  # the file holds agents now
            assert start.is_alive(), failures
        live.execute("LOCK TABLE agents IN ROW EXCLUSIVE MODE")  # waits on the file: a cycle
        live.commit()  # the live writer was not the one to give up
    start.join(timeout=120)
    assert not start.is_alive()
    assert failures == []
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM schema_applied").fetchone() == (1,)
