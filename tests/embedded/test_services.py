"""End-to-end tests: real valkey-server and PostgreSQL processes in a temporary folder."""

from __future__ import annotations

import io
import json
import socket
import stat
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import psycopg
import pytest

from chat.embedded import (
    read_services,
    services_down,
    services_up,
    start_valkey,
    stop_postgres,
    stop_valkey,
)

RespValue = bytes | int | list["RespValue"] | None


def _resp(url: str, *args: str, auth: bool = True) -> RespValue:
    """One command over a raw socket (after AUTH with the URL's password, unless auth=False):
    enough RESP to avoid an event loop in sync tests."""
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    commands = [("AUTH", parts.password)] if auth and parts.password else []
    commands.append(args)
    payload = b""
    for command in commands:
        payload += f"*{len(command)}\r\n".encode()
        for arg in command:
            data = arg.encode()
            payload += b"$%d\r\n%s\r\n" % (len(data), data)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(payload)
        with sock.makefile("rb") as reply:
            if len(commands) == 2:
                assert _read_reply(reply) == b"OK"
            return _read_reply(reply)


def _read_reply(reply: io.BufferedReader) -> RespValue:
    line = reply.readline()
    kind, body = line[:1], line[1:-2]
    if kind == b"+":
        return bytes(body)
    if kind == b"-":
        raise AssertionError(f"valkey error: {body.decode()}")
    if kind == b":":
        return int(body)
    if kind == b"$":
        size = int(body)
        return None if size < 0 else bytes(reply.read(size + 2)[:-2])
    if kind == b"*":
        return [_read_reply(reply) for _ in range(int(body))]
    raise AssertionError(f"unexpected reply {line!r}")


def _gone(pid: int) -> bool:
    # Zombies count as gone: the container's PID 1 may never reap the postmaster.
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _state(data_dir: Path) -> dict[str, object]:
    state: dict[str, object] = json.loads((data_dir / "services.json").read_text())
    return state


def test_services_up_starts_both(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    try:
        urls = services_up(data_dir)
        with psycopg.connect(urls.database_url) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
        assert _resp(urls.redis_url, "PING") == b"PONG"
        assert _resp(urls.redis_url, "SET", "k", "v") == b"OK"
        incr_files = list((data_dir / "valkey" / "appendonlydir").glob("*.incr.aof"))
        assert incr_files and b"SET" in incr_files[0].read_bytes()
        assert read_services(data_dir) == urls
        state = _state(data_dir)
        assert state["redis_url"] == urls.redis_url
        assert state["database_url"] == urls.database_url
    finally:
        services_down(data_dir)


def test_services_up_again_reuses_running(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    try:
        first = services_up(data_dir)
        first_state = _state(data_dir)
        again = services_up(data_dir)
        assert again == first
        assert _state(data_dir) == first_state
    finally:
        services_down(data_dir)


def test_data_survives_down_up(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    try:
        urls = services_up(data_dir, appendfsync="always")
        assert _resp(urls.redis_url, "CONFIG", "GET", "appendfsync") == [b"appendfsync", b"always"]
        with psycopg.connect(urls.database_url) as conn:
            conn.execute("create table notes (body text)")
            conn.execute("insert into notes values ('kept')")
        assert _resp(urls.redis_url, "SET", "greeting", "hello") == b"OK"

        services_down(data_dir)
        again = services_up(data_dir)

        # The ports recorded by the last run are free again, so the URLs stay stable.
        assert again == urls
        with psycopg.connect(again.database_url) as conn:
            assert conn.execute("select body from notes").fetchall() == [("kept",)]
        assert _resp(again.redis_url, "GET", "greeting") == b"hello"
    finally:
        services_down(data_dir)


def test_services_down_leaves_no_process(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    try:
        services_up(data_dir)
        state = _state(data_dir)
    finally:
        services_down(data_dir)
    assert isinstance(state["valkey_pid"], int) and isinstance(state["postgres_pid"], int)
    assert _gone(state["valkey_pid"])
    assert _gone(state["postgres_pid"])
    assert not (data_dir / "services.json").exists()
    assert read_services(data_dir) is None
    assert stop_valkey(data_dir) is False
    assert stop_postgres(data_dir) is False


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_both_services_refuse_a_local_account_without_the_password(tmp_path: Path) -> None:
    """Any local user could connect to the embedded PostgreSQL as superuser (trust) and to Valkey
    (no password), and read the password hashes or insert an admin."""
    data_dir = tmp_path / "data"
    try:
        urls = services_up(data_dir)
        bare_redis = urls.redis_url.replace(f":{urlsplit(urls.redis_url).password}@", "@")
        with pytest.raises(AssertionError, match="NOAUTH"):
            _resp(bare_redis, "PING", auth=False)
        parts = urlsplit(urls.database_url)
        bare_database = f"postgresql://postgres@{parts.hostname}:{parts.port}{parts.path}"
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(bare_database, connect_timeout=5)
        with psycopg.connect(urls.database_url) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
        # Where the passwords are kept, only this account reads them.
        for secret in (
            data_dir / "services.json",
            data_dir / "postgres.password",
            data_dir / "valkey" / "password",
            data_dir / "valkey" / "valkey.conf",
        ):
            assert _mode(secret) == 0o600, secret
        assert _mode(data_dir / "valkey") == 0o700
    finally:
        services_down(data_dir)


def test_services_started_without_passwords_get_them(tmp_path: Path) -> None:
    """A data folder from before the passwords: a trust cluster and a Valkey without requirepass
    are made to require them, keeping their data."""
    data_dir = tmp_path / "data"
    try:
        urls = services_up(data_dir)
        with psycopg.connect(urls.database_url) as conn:
            conn.execute("create table notes (body text)")
            conn.execute("insert into notes values ('kept')")
        assert _resp(urls.redis_url, "CONFIG", "SET", "requirepass", "") == b"OK"
        postgres = data_dir / "postgres"
        hba = postgres / "pg_hba.conf"
        hba.write_text(hba.read_text().replace("scram-sha-256", "trust"))
        stop_postgres(data_dir)

        again = services_up(data_dir)

        assert again == urls
        assert "trust" not in hba.read_text().split("# TYPE")[-1]
        parts = urlsplit(again.database_url)
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(f"postgresql://postgres@{parts.hostname}:{parts.port}/chat")
        with psycopg.connect(again.database_url) as conn:
            assert conn.execute("select body from notes").fetchall() == [("kept",)]
        bare_redis = again.redis_url.replace(f":{urlsplit(again.redis_url).password}@", "@")
        with pytest.raises(AssertionError, match="NOAUTH"):
            _resp(bare_redis, "PING", auth=False)
    finally:
        services_down(data_dir)


def test_valkey_has_a_memory_limit_and_refuses_writes_past_it(tmp_path: Path) -> None:
    """maxmemory with noeviction: past the limit a write is refused (OOM), nothing is evicted;
    a running server is given a new limit live when started again."""
    data_dir = tmp_path / "data"
    try:
        found = start_valkey(data_dir, maxmemory="64mb")
        assert _resp(found.url, "CONFIG", "GET", "maxmemory") == [b"maxmemory", b"67108864"]
        policy = _resp(found.url, "CONFIG", "GET", "maxmemory-policy")
        assert policy == [b"maxmemory-policy", b"noeviction"]
        assert _resp(found.url, "SET", "kept", "1") == b"OK"
        start_valkey(data_dir, maxmemory="1")  # reused: the limit is set live
        with pytest.raises(AssertionError, match="OOM"):
            _resp(found.url, "SET", "more", "1")
        assert _resp(found.url, "GET", "kept") == b"1"
    finally:
        stop_valkey(data_dir)
