"""Bring the embedded Valkey and PostgreSQL up and down together for one data folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal, NamedTuple

from chat.embedded import cluster as valkey_cluster
from chat.embedded import postgres, valkey
from chat.embedded._support import EmbeddedServiceError, process_alive, write_text_atomic

__all__ = [
    "EmbeddedServiceError",
    "EmbeddedServices",
    "read_services",
    "services_down",
    "services_up",
]

_STATE_FILE = "services.json"


class EmbeddedServices(NamedTuple):
    redis_url: str
    database_url: str


def services_up(
    data_dir: Path,
    *,
    appendfsync: Literal["everysec", "always"] = "everysec",
    cluster: int = 0,
    replicas: int = 0,
    maxmemory: str | None = None,
) -> EmbeddedServices:
    """Start both services (reusing running ones) and record how to reach them. With `cluster`
    N, Valkey is a local cluster of N masters (and `replicas` replicas each) instead of one
    server (chat/embedded/cluster.py); its URL is a `redis+cluster://` one. `maxmemory`: each
    Valkey's memory limit (None: CHAT_VALKEY_MAXMEMORY, else half the memory up to 1 GiB)."""
    data_dir = _ensure_data_dir(data_dir)
    if cluster:
        nodes = valkey_cluster.start_cluster(
            data_dir,
            masters=cluster,
            replicas=replicas,
            appendfsync=appendfsync,
            maxmemory=maxmemory,
        )
        redis_url, valkey_pid = nodes.url, nodes.nodes[0].pid
    else:
        cache = valkey.start_valkey(data_dir, appendfsync=appendfsync, maxmemory=maxmemory)
        redis_url, valkey_pid = cache.url, cache.pid
    database = postgres.start_postgres(data_dir)
    state = {
        "redis_url": redis_url,
        "database_url": database.url,
        "valkey_pid": valkey_pid,
        "postgres_pid": database.pid,
    }
    # The URLs carry the services' passwords: readable by this account only.
    write_text_atomic(data_dir / _STATE_FILE, json.dumps(state, indent=2) + "\n", mode=0o600)
    return EmbeddedServices(redis_url, database.url)


def services_down(data_dir: Path) -> None:
    """Stop both services; the state file goes first so nobody trusts stale URLs."""
    (data_dir / _STATE_FILE).unlink(missing_ok=True)
    try:
        valkey.stop_valkey(data_dir)
        valkey_cluster.stop_cluster(data_dir)
    finally:
        postgres.stop_postgres(data_dir)


def read_services(data_dir: Path) -> EmbeddedServices | None:
    """The recorded URLs, if both recorded processes are still alive."""
    try:
        state = json.loads((data_dir / _STATE_FILE).read_text())
        urls = EmbeddedServices(str(state["redis_url"]), str(state["database_url"]))
        pids = int(state["valkey_pid"]), int(state["postgres_pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if process_alive(pids[0], valkey.PROCESS_NAME) and process_alive(
        pids[1], postgres.PROCESS_NAME
    ):
        return urls
    return None


def _ensure_data_dir(data_dir: Path) -> Path:
    data_dir = data_dir.resolve()
    if not data_dir.exists():
        data_dir.mkdir(parents=True)
        # Private to us, but traversable: the PostgreSQL account must reach data_dir/postgres.
        data_dir.chmod(0o711)
    return data_dir
