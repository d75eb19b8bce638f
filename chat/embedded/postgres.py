"""Run the PostgreSQL 16 binaries shipped by the pgserver wheel, one cluster per data folder.

pgserver's own PostgresServer is not used: it listens on unix sockets only and
coordinates through global lock files. We call initdb/pg_ctl directly instead.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import pwd
import shlex
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote

from chat.embedded._support import (
    LOOPBACK,
    EmbeddedServiceError,
    choose_port,
    log_tail,
    private_secret,
    process_alive,
    read_int,
    write_text_atomic,
)

PROCESS_NAME = "postgres"
SUPERUSER = "postgres"
# PostgreSQL refuses to run as root; when we are root, the cluster belongs to this account.
SYSTEM_USER = "chatpg"
READY_TIMEOUT = 30.0
# Unix socket paths are limited to 107 bytes (sun_path incl. NUL).
_MAX_SOCKET_PATH = 107


@functools.cache
def postgres_bin_path() -> Path:
    """pgserver._commands.POSTGRES_BIN_PATH, located without importing pgserver.

    Importing pgserver runs its PostgresServer module, which creates lock directories
    and emits a RuntimeDirWarning when XDG_RUNTIME_DIR is unset; we need neither.
    """
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServiceError("the pgserver package (PostgreSQL binaries) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


class PostgresProcess(NamedTuple):
    url: str
    pid: int
    port: int


class _Account(NamedTuple):
    uid: int
    gid: int


def start_postgres(
    data_dir: Path, *, port: int | None = None, database: str = "chat"
) -> PostgresProcess:
    """Start PostgreSQL for `data_dir` (initdb on first use), or reuse the running one."""
    data_dir = data_dir.resolve()
    data_dir.mkdir(mode=0o711, parents=True, exist_ok=True)
    pgdata = data_dir / "postgres"
    # The superuser's password: with trust, any local account could connect as superuser.
    password = private_secret(data_dir / "postgres.password")
    account = _account()
    if account is not None:
        _prepare_permissions(data_dir)
    if not (pgdata / "PG_VERSION").exists():
        _initdb(pgdata, account, password)

    running = _running(pgdata)
    if running is None:
        chosen = choose_port(port, read_int(_portfile(data_dir)))
        _pg_ctl_start(pgdata, chosen, account)
        write_text_atomic(_portfile(data_dir), f"{chosen}\n")
        running = _running(pgdata)
        if running is None:
            raise _failure(pgdata, "pg_ctl reported success but no postmaster is running")
    pid, actual_port = running
    _wait_ready(pgdata, pid)
    if _trusts_local_connections(pgdata):
        _require_password(pgdata, actual_port, account, password)
    _ensure_database(actual_port, database, account, password)
    url = f"postgresql://{SUPERUSER}:{password}@{LOOPBACK}:{actual_port}/{quote(database, safe='')}"
    return PostgresProcess(url, pid, actual_port)


def stop_postgres(data_dir: Path, *, timeout: float = 30.0) -> bool:
    """Fast shutdown (checkpoint, disconnect clients); False if nothing was running."""
    pgdata = data_dir.resolve() / "postgres"
    if _running(pgdata) is None:
        return False
    args = ["-D", str(pgdata), "-m", "fast", "-w", "-t", str(int(timeout)), "stop"]
    _run("pg_ctl", args, _account(), timeout=timeout + 10)
    return True


def _portfile(data_dir: Path) -> Path:
    # Outside PGDATA: postmaster.pid disappears on shutdown, this survives it.
    return data_dir / "postgres.port"


def _logfile(pgdata: Path) -> Path:
    # Not "log": that is PostgreSQL's default log_directory if logging_collector is enabled.
    return pgdata / "postgres.log"


def _running(pgdata: Path) -> tuple[int, int] | None:
    """(pid, port) from postmaster.pid (line 1 pid, line 4 port) if that process lives."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
    except (OSError, ValueError, IndexError):
        return None
    return (pid, port) if process_alive(pid, PROCESS_NAME) else None


def _wait_ready(pgdata: Path, pid: int) -> None:
    # A postmaster we reuse may still be starting (crash recovery); line 8 says when done.
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if not process_alive(pid, PROCESS_NAME):
            raise _failure(pgdata, "postgres exited during startup")
        try:
            lines = (pgdata / "postmaster.pid").read_text().splitlines()
        except OSError:
            lines = []
        if len(lines) >= 8 and lines[7].strip() == "ready":
            return
        time.sleep(0.05)
    raise _failure(pgdata, "postgres did not become ready")


def _initdb(pgdata: Path, account: _Account | None, password: str) -> None:
    pgdata.mkdir(mode=0o700, exist_ok=True)
    if account is not None:
        os.chown(pgdata, account.uid, account.gid)
    # initdb reads the password from a file the cluster owner can read, removed right after.
    with tempfile.TemporaryDirectory() as folder:
        pwfile = Path(folder) / "pwfile"
        pwfile.write_text(password + "\n")
        if account is not None:
            for path in (Path(folder), pwfile):
                os.chown(path, account.uid, account.gid)
        args = ["-D", str(pgdata), "--auth=scram-sha-256", f"--pwfile={pwfile}"]
        args += ["--encoding=UTF8", "--locale=C", "-U", SUPERUSER]
        _run("initdb", args, account, timeout=180)


def _trusts_local_connections(pgdata: Path) -> bool:
    """A cluster made before the embedded PostgreSQL had a password (initdb --auth=trust)."""
    hba = (pgdata / "pg_hba.conf").read_text()
    return any(_hba_method(line) == "trust" for line in hba.splitlines())


def _hba_method(line: str) -> str | None:
    fields = line.split("#", 1)[0].split()
    if not fields:
        return None
    return fields[4] if fields[0] == "host" and len(fields) > 4 else fields[-1]


def _require_password(pgdata: Path, port: int, account: _Account | None, password: str) -> None:
    """Set the superuser's password (trust still lets us in), then require it everywhere."""
    connect = ["-X", "-q", "-h", LOOPBACK, "-p", str(port), "-U", SUPERUSER, "-d", "postgres"]
    # On stdin, not the command line (which every local account can read in ps); the secret is
    # URL-safe base64, so it needs no quoting inside the literal.
    statement = f"ALTER ROLE postgres PASSWORD '{password}';\n"
    _run("psql", [*connect, "-f", "-"], account, timeout=30, stdin=statement)
    hba = pgdata / "pg_hba.conf"
    lines = [
        line.replace("trust", "scram-sha-256") if _hba_method(line) == "trust" else line
        for line in hba.read_text().splitlines()
    ]
    hba.write_text("\n".join(lines) + "\n")  # in place: the cluster owner keeps the file
    _run("pg_ctl", ["-D", str(pgdata), "reload"], account, timeout=30)


def _pg_ctl_start(pgdata: Path, port: int, account: _Account | None) -> None:
    socket_dir = pgdata if _socket_fits(pgdata, port) else None
    options = [
        f"-h {LOOPBACK}",
        f"-p {port}",
        # The socket lives in PGDATA because only the cluster owner can write there; an
        # empty -k disables unix sockets when the path is too long (TCP still works).
        f"-k {shlex.quote(str(socket_dir) if socket_dir else '')}",
        "-c fsync=on",
        "-c max_connections=200",
    ]
    args = ["-w", "-t", str(int(READY_TIMEOUT)), "-D", str(pgdata), "-l", str(_logfile(pgdata))]
    args += ["-o", " ".join(options), "start"]
    try:
        _run("pg_ctl", args, account, timeout=READY_TIMEOUT + 30)
    except EmbeddedServiceError as exc:
        # pg_ctl only says "could not start server"; the reason is in the server log.
        raise _failure(pgdata, str(exc)) from exc


def _socket_fits(pgdata: Path, port: int) -> bool:
    return len(os.fsencode(pgdata / f".s.PGSQL.{port}")) <= _MAX_SOCKET_PATH


def _ensure_database(port: int, database: str, account: _Account | None, password: str) -> None:
    connect = ["-h", LOOPBACK, "-p", str(port), "-U", SUPERUSER]
    # The name travels as a psql variable; :'name' quotes it as a literal for us.
    psql = ["-X", "-q", "-tA", *connect, "-d", "postgres", "-v", f"name={database}", "-f", "-"]
    query = "SELECT 1 FROM pg_database WHERE datname = :'name';\n"
    found = _run("psql", psql, account, timeout=30, stdin=query, password=password)
    if found.strip() != "1":
        _run("createdb", [*connect, "--", database], account, timeout=30, password=password)


def _run(
    program: str,
    args: Sequence[str],
    account: _Account | None,
    *,
    timeout: float,
    stdin: str | None = None,
    password: str | None = None,
) -> str:
    """Run a PostgreSQL client binary (as the cluster owner when we are root); return stdout.

    Output goes through temporary files, not pipes: `pg_ctl start` leaves a postmaster
    behind, and anything it inherits a pipe from would keep us waiting for EOF.
    """
    command = [str(postgres_bin_path() / program), *args]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            result = subprocess.run(  # noqa: S603 -- fixed binaries, our own arguments
                command,
                input=None if stdin is None else stdin.encode(),
                stdin=subprocess.DEVNULL if stdin is None else None,
                stdout=out,
                stderr=err,
                env=_environment(password),
                cwd="/",
                start_new_session=True,
                timeout=timeout,
                # extra_groups=[] drops root's supplementary groups along with the uid.
                user=account.uid if account else None,
                group=account.gid if account else None,
                extra_groups=[] if account else None,
            )
        except subprocess.TimeoutExpired as exc:
            raise EmbeddedServiceError(f"{program} timed out after {timeout:.0f}s") from exc
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    if result.returncode != 0:
        raise EmbeddedServiceError(
            f"{program} failed with exit code {result.returncode}:\n{stderr or stdout}"
        )
    return stdout


def _environment(password: str | None = None) -> dict[str, str]:
    # A developer's PGHOST/PGOPTIONS/PGDATA/... describe *their* server, not this one.
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    if password is not None:
        env["PGPASSWORD"] = password  # the environment of our own child, not a command line
    return env


def _account() -> _Account | None:
    """The unprivileged owner of the cluster when running as root, created on first use."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        _create_system_user()
        entry = pwd.getpwnam(SYSTEM_USER)
    return _Account(entry.pw_uid, entry.pw_gid)


def _create_system_user() -> None:
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    args = [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SYSTEM_USER]
    result = subprocess.run(args, capture_output=True, text=True, check=False)  # noqa: S603
    # A concurrent `up` may have created it between our lookup and useradd.
    if result.returncode != 0 and not _user_exists(SYSTEM_USER):
        raise EmbeddedServiceError(f"could not create user {SYSTEM_USER}: {result.stderr}")


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _prepare_permissions(data_dir: Path) -> None:
    """Let the unprivileged cluster owner reach its data and the bundled binaries."""
    _allow_traversal(data_dir)
    install_root = postgres_bin_path().parent
    _allow_traversal(install_root.parent)
    _allow_reading_tree(install_root)


def _allow_traversal(path: Path) -> None:
    """Add o+x to `path` and its ancestors where missing: search, not listing, rights."""
    for directory in (path, *path.parents):
        mode = directory.stat().st_mode
        if not mode & stat.S_IXOTH:
            directory.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)


def _allow_reading_tree(root: Path) -> None:
    # Wheels are normally installed world-readable; this only repairs restrictive umasks.
    _add_other_bits(root, stat.S_IROTH | stat.S_IXOTH)
    for parent, dirs, files in os.walk(root):
        for name in dirs:
            _add_other_bits(Path(parent, name), stat.S_IROTH | stat.S_IXOTH)
        for name in files:
            file = Path(parent, name)
            mode = file.lstat().st_mode
            wanted = stat.S_IROTH | (stat.S_IXOTH if mode & stat.S_IXUSR else 0)
            _add_other_bits(file, wanted)


def _add_other_bits(path: Path, bits: int) -> None:
    mode = path.lstat().st_mode
    if stat.S_ISLNK(mode) or mode & bits == bits:
        return
    path.chmod(stat.S_IMODE(mode) | bits)


def _failure(pgdata: Path, message: str) -> EmbeddedServiceError:
    log = _logfile(pgdata)
    return EmbeddedServiceError(f"{message}; log {log}:\n{log_tail(log)}")
