"""The cluster suite's fixtures: the session's Valkey is a real local cluster of three masters
(chat/embedded/cluster.py, the same valkey-server binary), so every fixture built on `embedded`
(settings, base_url, server_processes, stream_log) runs the service against it unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chat.embedded.cluster import LocalCluster, read_cluster
from chat.embedded.services import EmbeddedServices, services_down, services_up

MASTERS = 3


@pytest.fixture(scope="session")
def cluster_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    data_dir = tmp_path_factory.mktemp("cluster-services")
    services_up(data_dir, cluster=MASTERS)
    try:
        yield data_dir
    finally:
        services_down(data_dir)


@pytest.fixture(scope="session")
def embedded(cluster_dir: Path) -> EmbeddedServices:
    """Overrides the root conftest's: PostgreSQL as usual, Valkey a 3-master cluster."""
    found = services_up(cluster_dir, cluster=MASTERS)  # already up: reused
    assert found.redis_url.startswith("redis+cluster://")
    return found


@pytest.fixture(scope="session")
def local_cluster(cluster_dir: Path, embedded: EmbeddedServices) -> LocalCluster:
    found = read_cluster(cluster_dir)
    assert found is not None and len(found.masters) == MASTERS
    return found
