"""Database.run: its deadlines, and what a cancelled call leaves behind."""

from __future__ import annotations

import psycopg
import psycopg.errors
import pytest
import trio
from psycopg_pool import PoolTimeout

from chat.config import Settings
from chat.db.pool import open_database

SLEEP = "SELECT pg_sleep(30)"


def _sleeping(conn: psycopg.Connection) -> None:
    conn.execute(SLEEP)


def _sleepers(conn: psycopg.Connection) -> int:
    row = conn.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE query = %s AND state = 'active'", (SLEEP,)
    ).fetchone()
    assert row is not None
    return int(row[0])


async def test_a_cancelled_run_returns_promptly_and_cancels_its_query(settings: Settings) -> None:
    with trio.fail_after(30):
        # One connection: the run after the cancelled one needs the very same connection back.
        async with open_database(settings.database_url, 1, statement_timeout=60) as db:
            started = trio.current_time()
            with trio.move_on_after(0.5):
                await db.run(_sleeping)
            assert trio.current_time() - started < 2.0
            with trio.fail_after(5):
                assert await db.run(_sleepers) == 0
            assert await db.run(lambda c: c.execute("SELECT 1").fetchall()) == [(1,)]


async def test_a_cancelled_write_is_rolled_back(settings: Settings) -> None:
    def write_then_sleep(conn: psycopg.Connection) -> None:
        conn.execute("CREATE TABLE written (n int)")
        conn.execute(SLEEP)

    with trio.fail_after(30):
        async with open_database(settings.database_url, 1, statement_timeout=60) as db:
            with trio.move_on_after(0.5):
                await db.run(write_then_sleep)
            found = await db.run(
                lambda c: c.execute("SELECT to_regclass('written') IS NULL").fetchone()
            )
            assert found == (True,)


async def test_a_statement_past_the_timeout_is_cancelled(settings: Settings) -> None:
    with trio.fail_after(30):
        async with open_database(settings.database_url, 2, statement_timeout=0.3) as db:
            started = trio.current_time()
            with pytest.raises(psycopg.errors.QueryCanceled):
                await db.run(_sleeping)
            assert trio.current_time() - started < 2.0
            assert await db.run(lambda c: c.execute("SELECT 1").fetchall()) == [(1,)]


async def test_the_wait_for_a_connection_is_bounded(settings: Settings) -> None:
    with trio.fail_after(30):
        async with (
            open_database(settings.database_url, 1, statement_timeout=60, pool_wait=0.3) as db,
            trio.open_nursery() as nursery,
        ):
            holding = trio.Event()

            def hold(conn: psycopg.Connection) -> None:
                trio.from_thread.run_sync(holding.set)
                conn.execute(SLEEP)

            nursery.start_soon(db.run, hold)
            await holding.wait()
            started = trio.current_time()
            with pytest.raises(PoolTimeout):
                await db.run(_sleepers)
            assert trio.current_time() - started < 2.0
            nursery.cancel_scope.cancel()


async def test_the_url_keeps_its_own_server_options(settings: Settings) -> None:
    url = settings.database_url + "?options=-c%20application_name%3Dmine"
    with trio.fail_after(30):
        async with open_database(url, 1, statement_timeout=1.5) as db:
            names = await db.run(
                lambda c: c.execute(
                    "SELECT current_setting('application_name'),"
                    " current_setting('statement_timeout')"
                ).fetchone()
            )
    assert names == ("mine", "1500ms")
