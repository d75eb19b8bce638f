"""Bringing a database to the shape this code expects: schema.sql, then the pending migrations.

Run at every start (`chat serve`, `chat migrate`) and from several processes at once, often
beside servers that are already live on the same database. schema.sql's `CREATE INDEX IF NOT
EXISTS` takes a SHARE lock on its table even when the index is there, and the whole file is one
transaction, so applying it beside live writers can deadlock with them (a CI run saw a restarted
server's schema.sql and its live twin's transaction each wait for the other). Hence:
- a start whose schema is already applied (the fingerprint of schema.sql and migrations/ is
  recorded and every migration is in yoyo's record) runs no DDL at all: reads only;
- otherwise the file is applied under a short lock_timeout, so it is the one that gives up
  (and retries) rather than a live writer, and under an advisory lock so that processes
  starting together apply it one at a time.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from pathlib import Path

import psycopg
import psycopg.errors

from chat.db.migrations import MIGRATIONS_PATH, apply_migrations

logger = logging.getLogger(__name__)

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schema.sql"
SCHEMA_LOCK_KEY = 715517  # pg_advisory_lock key: one process applies the schema at a time
# Shorter than PostgreSQL's deadlock_timeout (1 s): a lock the schema cannot get soon is given
# up by the schema, before a live writer waiting on it is picked as a deadlock's victim.
LOCK_TIMEOUT = "200ms"
APPLY_ATTEMPTS = 50
RETRY_PAUSE_SECONDS = (0.05, 0.25)  # a random pause in this range between attempts


def apply_schema(url: str) -> None:
    """Create what is missing, then apply the versioned migrations (chat/db/migrations.py); safe
    to run at every start, from several processes, beside live servers."""
    fingerprint = schema_fingerprint()
    with psycopg.connect(url, autocommit=True) as conn:
        if _is_current(conn, fingerprint):
            return
        conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK_KEY,))
        try:
            if _is_current(conn, fingerprint):  # another process applied it while we waited
                return
            _apply_schema_file(conn)
            apply_migrations(url)
            conn.execute(
                "INSERT INTO schema_applied (fingerprint) VALUES (%s) ON CONFLICT DO NOTHING",
                (fingerprint,),
            )
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK_KEY,))


def schema_fingerprint() -> str:
    """A digest of schema.sql and every migration file: what this code's schema is."""
    digest = hashlib.sha256(SCHEMA_PATH.read_bytes())
    for path in sorted(MIGRATIONS_PATH.glob("*.sql")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _migration_ids() -> set[str]:
    return {path.stem for path in MIGRATIONS_PATH.glob("*.sql")}  # yoyo's ids: the file stems


def _is_current(conn: psycopg.Connection, fingerprint: str) -> bool:
    """Whether this code's schema was applied here and no migration's record is missing."""
    present = conn.execute(
        "SELECT to_regclass('schema_applied') IS NOT NULL,"
        " to_regclass('_yoyo_migration') IS NOT NULL"
    ).fetchone()
    if present is None or not all(present):
        return False
    recorded = conn.execute(
        "SELECT 1 FROM schema_applied WHERE fingerprint = %s", (fingerprint,)
    ).fetchone()
    if recorded is None:
        return False
    applied = {row[0] for row in conn.execute("SELECT migration_id FROM _yoyo_migration")}
    return _migration_ids() <= applied


def _apply_schema_file(conn: psycopg.Connection) -> None:
    """schema.sql in one transaction that gives up a lock it cannot get soon, and tries again."""
    text = SCHEMA_PATH.read_text()
    for attempt in range(1, APPLY_ATTEMPTS + 1):
        try:
            with conn.transaction():
                conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                conn.execute(text)
            return
        except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected) as exc:
            if attempt == APPLY_ATTEMPTS:
                raise
            cause = type(exc).__name__
            logger.info("schema.sql gave way to a live lock (%s); attempt %d", cause, attempt + 1)
            time.sleep(random.uniform(*RETRY_PAUSE_SECONDS))  # noqa: S311 - jitter, not a secret
