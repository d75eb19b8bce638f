"""apply_schema from several processes at once (servers starting together, `chat serve
--workers`): schema.sql and the pending migrations run one process at a time, so a database
from before a migration upgrades once and no start fails. A CI run once saw two servers
deadlock, one's schema.sql beside the other's migration; that interleaving is narrow and this
test did not reproduce it in three runs without the fix, so it guards the outcome, not the
exact race."""

from __future__ import annotations

import threading

import psycopg

from chat.config import Settings
from chat.db.schema import apply_schema

COLUMN = (
    "SELECT count(*) FROM information_schema.columns"
    " WHERE table_name = 'spaces' AND column_name = 'keys_removed_at'"
)


def test_four_starts_at_once_upgrade_once_and_none_fails(settings: Settings) -> None:
    url = settings.database_url
    with psycopg.connect(url, autocommit=True) as conn:  # a database from before 0020
        conn.execute("ALTER TABLE spaces DROP COLUMN keys_removed_at")
        conn.execute("DELETE FROM _yoyo_migration WHERE migration_id = '0020.space-keys-removed'")
    failures: list[BaseException] = []
    go = threading.Barrier(4)

    def start() -> None:
        go.wait()
        try:
            apply_schema(url)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            failures.append(exc)

    starts = [threading.Thread(target=start) for _ in range(4)]
    for each in starts:
        each.start()
    for each in starts:
        each.join(timeout=120)
    assert failures == []
    with psycopg.connect(url) as conn:
        assert conn.execute(COLUMN).fetchone() == (1,)
        applied = conn.execute(
            "SELECT count(*) FROM _yoyo_migration WHERE migration_id = '0020.space-keys-removed'"
        ).fetchone()
        assert applied == (1,)
