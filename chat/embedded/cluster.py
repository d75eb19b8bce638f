"""A real local Valkey Cluster from the same valkey-server binary: N masters (and optionally a
replica each), one process and folder per node, for `chat services up --cluster N`, the tests
(tests/cluster/) and the bench. Set up with the server's own CLUSTER commands over raw RESP, so
this needs neither valkey-cli nor a client library.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Literal, NamedTuple

from chat.embedded import valkey
from chat.embedded._support import (
    LOOPBACK,
    EmbeddedServiceError,
    choose_port,
    private_secret,
    process_alive,
    read_int,
    spawn_detached,
    terminate,
    write_text_atomic,
)
from chat.embedded.resp import RespError, call

SLOTS = 16384
START_TIMEOUT = 30.0
# How long a master may be unreachable before its replica takes over. Valkey's default is 15 s;
# one machine's local cluster has no network to wait out, and a test of a failover wants it fast.
DEFAULT_NODE_TIMEOUT_MS = 2000
_STATE_FILE = "cluster.json"


class ClusterNode(NamedTuple):
    number: int
    port: int
    pid: int
    folder: Path
    replica_of: int | None  # the index of its master, None for a master


class LocalCluster(NamedTuple):
    url: str  # redis+cluster://:<password>@127.0.0.1:<first master's port>
    password: str
    nodes: tuple[ClusterNode, ...]

    @property
    def masters(self) -> tuple[ClusterNode, ...]:
        return tuple(n for n in self.nodes if n.replica_of is None)


def start_cluster(
    data_dir: Path,
    *,
    masters: int = 3,
    replicas: int = 0,
    appendfsync: Literal["everysec", "always"] = "everysec",
    node_timeout_ms: int = DEFAULT_NODE_TIMEOUT_MS,
    maxmemory: str | None = None,
) -> LocalCluster:
    """Start a cluster of `masters` masters with `replicas` replicas each in
    `data_dir/valkey-cluster`, or return the one already serving it (as it is). Each node
    refuses writes past `maxmemory` (chat/embedded/valkey.py, default_maxmemory())."""
    if masters < 1 or replicas < 0:
        raise ValueError("a cluster needs at least one master")
    root = data_dir.resolve() / "valkey-cluster"
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    password = private_secret(root / "password")
    running = read_cluster(data_dir)
    if running is not None:
        return running
    nodes: list[ClusterNode] = []
    count = masters * (1 + replicas)
    # Started before and stopped since: every node finds its place again in its nodes.conf.
    formed = all((root / f"node-{i}" / "nodes.conf").exists() for i in range(count))
    # Ports handed out in this call: a node spawned a moment ago may not listen yet, so the
    # kernel can offer its port again for the next node (node 1's bus port once met node 0's).
    taken: set[int] = set()

    def unique_port(recorded: int | None) -> int:
        port = choose_port(None, recorded)
        while port in taken:
            port = choose_port(None, None)
        taken.add(port)
        return port

    for index in range(count):
        folder = root / f"node-{index}"
        folder.mkdir(mode=0o700, exist_ok=True)
        port = unique_port(read_int(folder / "port"))
        write_text_atomic(folder / "port", f"{port}\n")
        # The bus port is set, not left at port + 10000, which overflows for high free ports.
        bus = unique_port(read_int(folder / "bus-port"))
        write_text_atomic(folder / "bus-port", f"{bus}\n")
        limit = maxmemory or valkey.default_maxmemory()
        config = _config(folder, port, bus, password, appendfsync, node_timeout_ms, limit)
        write_text_atomic(folder / "valkey.conf", config, mode=0o600)
        pid = spawn_detached([valkey._server_binary(), str(folder / "valkey.conf")], folder / "log")
        replica_of = None if index < masters else (index - masters) % masters
        nodes.append(ClusterNode(index, port, pid, folder, replica_of))
    try:
        for node in nodes:
            _wait(lambda n=node: _answers(n, password), f"node {node.number} did not start", node)
        if formed:
            for node in nodes:
                _wait(lambda n=node: cluster_ok(n.port, password), "the cluster is not ok", node)
        else:
            _form(nodes, masters, password)
    except BaseException:
        for node in nodes:
            terminate(node.pid, valkey.PROCESS_NAME, 5.0)
        raise
    cluster = LocalCluster(_url(nodes[0].port, password), password, tuple(nodes))
    state = {"password": password, "nodes": [_node_state(n) for n in nodes]}
    write_text_atomic(root / _STATE_FILE, json.dumps(state, indent=2) + "\n", mode=0o600)
    return cluster


def stop_cluster(data_dir: Path, *, timeout: float = 15.0) -> bool:
    """Stop every node (SIGTERM: each fsyncs its AOF); False if no cluster was recorded."""
    root = data_dir.resolve() / "valkey-cluster"
    nodes = _recorded_nodes(root)
    if nodes is None:
        return False
    (root / _STATE_FILE).unlink(missing_ok=True)
    for node in nodes:
        if process_alive(node.pid, valkey.PROCESS_NAME):
            terminate(node.pid, valkey.PROCESS_NAME, timeout)
    return True


def read_cluster(data_dir: Path) -> LocalCluster | None:
    """The recorded cluster, if every one of its nodes is alive."""
    root = data_dir.resolve() / "valkey-cluster"
    nodes = _recorded_nodes(root)
    if not nodes or not all(process_alive(n.pid, valkey.PROCESS_NAME) for n in nodes):
        return None
    password = (root / "password").read_text().strip()
    return LocalCluster(_url(nodes[0].port, password), password, tuple(nodes))


def restart_node(cluster: LocalCluster, index: int) -> ClusterNode:
    """Start a stopped (killed) node again on its port and folder: it rejoins from its
    nodes.conf, as a replica when its master failed over meanwhile. Its new pid is recorded."""
    node = cluster.nodes[index]
    pid = spawn_detached(
        [valkey._server_binary(), str(node.folder / "valkey.conf")], node.folder / "log"
    )
    restarted = node._replace(pid=pid)
    _wait(lambda: _answers(restarted, cluster.password), "node did not restart", restarted)
    root = node.folder.parent
    nodes = list(_recorded_nodes(root) or cluster.nodes)
    nodes[index] = restarted
    state = {"password": cluster.password, "nodes": [_node_state(n) for n in nodes]}
    write_text_atomic(root / _STATE_FILE, json.dumps(state, indent=2) + "\n", mode=0o600)
    return restarted


def node_role(port: int, password: str) -> str:
    """ "master" or "slave" as the node says (ROLE)."""
    reply = call(LOOPBACK, port, password, "ROLE")
    assert isinstance(reply, list)
    return str(reply[0])


def cluster_ok(port: int, password: str) -> bool:
    info = call(LOOPBACK, port, password, "CLUSTER", "INFO")
    return "cluster_state:ok" in str(info)


def _form(nodes: list[ClusterNode], masters: int, password: str) -> None:
    per = SLOTS // masters
    for node in nodes[:masters]:
        first = node.number * per
        last = SLOTS - 1 if node.number == masters - 1 else first + per - 1
        call(LOOPBACK, node.port, password, "CLUSTER", "ADDSLOTSRANGE", str(first), str(last))
    for node in nodes[1:]:
        bus = str(read_int(node.folder / "bus-port"))
        call(LOOPBACK, nodes[0].port, password, "CLUSTER", "MEET", LOOPBACK, str(node.port), bus)
    ids = [str(call(LOOPBACK, n.port, password, "CLUSTER", "MYID")) for n in nodes]

    def knows_all(node: ClusterNode) -> bool:
        listing = str(call(LOOPBACK, node.port, password, "CLUSTER", "NODES"))
        return all(i in listing for i in ids)

    for node in nodes:
        _wait(lambda n=node: knows_all(n), "the nodes did not meet", node)
    for node in nodes[masters:]:
        assert node.replica_of is not None
        call(LOOPBACK, node.port, password, "CLUSTER", "REPLICATE", ids[node.replica_of])
    for node in nodes:
        _wait(lambda n=node: cluster_ok(n.port, password), "the cluster is not ok", node)
    for node in nodes[masters:]:
        _wait(lambda n=node: _replica_in_sync(n, password), "a replica did not sync", node)


def _replica_in_sync(node: ClusterNode, password: str) -> bool:
    info = str(call(LOOPBACK, node.port, password, "INFO", "replication"))
    return "master_link_status:up" in info


def _answers(node: ClusterNode, password: str) -> bool:
    try:
        return call(LOOPBACK, node.port, password, "PING") == "PONG"
    except (OSError, RespError):
        return False


def _wait(check: object, message: str, node: ClusterNode) -> None:
    assert callable(check)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (OSError, RespError):
            pass
        if not process_alive(node.pid, valkey.PROCESS_NAME):
            break
        time.sleep(0.05)
    tail = (node.folder / "log").read_text()[-2000:] if (node.folder / "log").exists() else ""
    raise EmbeddedServiceError(f"{message} (node {node.number}, port {node.port}):\n{tail}")


def _config(
    folder: Path,
    port: int,
    bus: int,
    password: str,
    appendfsync: str,
    node_timeout_ms: int,
    maxmemory: str,
) -> str:
    quote = valkey._quote
    lines = [
        f"bind {LOOPBACK}",
        "protected-mode yes",
        f"port {port}",
        f"requirepass {password}",
        # A replica authenticates to its master with the same password.
        f"masterauth {password}",
        f"dir {quote(folder)}",
        f"logfile {quote(folder / 'log')}",
        f"pidfile {quote(folder / 'valkey.pid')}",
        "daemonize no",
        "cluster-enabled yes",
        "cluster-config-file nodes.conf",
        f"cluster-port {bus}",
        f"cluster-node-timeout {node_timeout_ms}",
        "appendonly yes",
        f"appendfsync {appendfsync}",
        'save ""',
        "hz 100",
        *valkey.memory_config(maxmemory),
    ]
    return "\n".join(lines) + "\n"


def _url(port: int, password: str) -> str:
    return f"redis+cluster://:{password}@{LOOPBACK}:{port}"


def _node_state(node: ClusterNode) -> dict[str, object]:
    return {
        "number": node.number,
        "port": node.port,
        "pid": node.pid,
        "folder": str(node.folder),
        "replica_of": node.replica_of,
    }


def _recorded_nodes(root: Path) -> list[ClusterNode] | None:
    try:
        state = json.loads((root / _STATE_FILE).read_text())
        return [
            ClusterNode(
                int(n["number"]),
                int(n["port"]),
                int(n["pid"]),
                Path(n["folder"]),
                None if n["replica_of"] is None else int(n["replica_of"]),
            )
            for n in state["nodes"]
        ]
    except (OSError, ValueError, KeyError, TypeError):
        return None
