"""Versioned migrations (migrations/ at the repository's root), applied with yoyo-migrations.

schema.sql holds the current shape and is applied first (idempotently); a migration brings a
database created by an older schema.sql to that shape, so each is written to be idempotent too.
yoyo records what it applied in its own tables (`_yoyo_migration`, ...) and takes a lock, so two
processes starting at once apply each migration once. Why yoyo: it is maintained, speaks psycopg 3
(`postgresql+psycopg://`), reads plain SQL files, and needs no models (alembic wants SQLAlchemy).
"""

from __future__ import annotations

from pathlib import Path

from yoyo import get_backend, read_migrations

MIGRATIONS_PATH = Path(__file__).resolve().parents[2] / "migrations"


def apply_migrations(url: str) -> list[str]:
    """Apply the migrations this database has not had yet; the ids applied, oldest first."""
    backend = get_backend(_yoyo_url(url))
    migrations = read_migrations(str(MIGRATIONS_PATH))
    try:
        with backend.lock():
            pending = backend.to_apply(migrations)
            backend.apply_migrations(pending)
    finally:
        backend.connection.close()  # yoyo leaves its connection open
    return [m.id for m in pending]


def _yoyo_url(url: str) -> str:
    """A libpq URL as yoyo names the psycopg 3 driver."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("postgres", "postgresql"):
        raise ValueError("DATABASE_URL must be a postgresql:// URL to apply migrations")
    return "postgresql+psycopg://" + rest
