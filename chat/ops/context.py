"""What an operator command runs with: the connections, the key prefix, and its errors."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from chat.db.pool import Database, open_database
from chat.embedded.services import read_services
from chat.streams.client import Redis, open_redis
from chat.streams.keys import SpaceKeys

# Operator commands are one-shot: a connection or two is all they use.
DB_POOL_SIZE = 2


class OpsError(Exception):
    """A refusal an operator can act on: printed as one line, exit code `exit_code` (2 for an
    unknown id or a bad argument, as argparse does)."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True, slots=True)
class Urls:
    redis_url: str
    database_url: str
    prefix: str


def find_urls(data_dir: Path) -> Urls:
    """REDIS_URL and DATABASE_URL from the environment, as `chat serve` reads them, else the
    embedded services running in `data_dir` (their services.json); the prefix from
    CHAT_KEY_PREFIX (default `chat`)."""
    prefix = os.environ.get("CHAT_KEY_PREFIX", "chat")
    redis_url, database_url = os.environ.get("REDIS_URL"), os.environ.get("DATABASE_URL")
    if redis_url and database_url:
        return Urls(redis_url, database_url, prefix)
    found = read_services(data_dir.resolve())
    if found is None:
        raise OpsError(
            "set REDIS_URL and DATABASE_URL, or start the embedded services"
            f" (none running recorded in {data_dir}/services.json; see --data-dir)",
            exit_code=1,
        )
    return Urls(found.redis_url, found.database_url, prefix)


@dataclass(frozen=True, slots=True)
class Ops:
    """The connections of one operator command; built by `open_ops`."""

    redis: Redis
    db: Database
    prefix: str

    def keys(self, space_id: str) -> SpaceKeys:
        return SpaceKeys(self.prefix, space_id)


@asynccontextmanager
async def open_ops(urls: Urls) -> AsyncIterator[Ops]:
    """Redis and PostgreSQL for one command; both closed on exit. Opening writes nothing."""
    async with (
        open_redis(urls.redis_url) as redis,
        open_database(urls.database_url, DB_POOL_SIZE) as db,
    ):
        yield Ops(redis, db, urls.prefix)
