"""The `chat` command line: serve, services up/down, migrate, reset-two-factor, and the operator
commands."""

from __future__ import annotations

import argparse
import errno
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import trio
from prometheus_client.multiprocess import mark_process_dead

from chat.config import Settings, env_settings
from chat.db import two_factor_queries
from chat.db.schema import apply_schema
from chat.embedded.services import services_down, services_up
from chat.log_format import configure_logging
from chat.metrics.exposition import MULTIPROCESS_DIR_ENV
from chat.ops.commands import COMMANDS as OPS_COMMANDS
from chat.ops.commands import add_commands as add_ops_commands
from chat.ops.commands import run_command as run_ops_command

logger = logging.getLogger("chat")

# `serve --workers`: a worker that dies is started again, after this pause if it lived less
# than WORKER_MIN_LIFE_SECONDS (one that cannot start would otherwise be restarted in a loop).
WORKER_MIN_LIFE_SECONDS = 5.0
WORKER_RESTART_PAUSE_SECONDS = 1.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="chat", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--data-dir", type=Path, default=Path(".data"))
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--demo", action="store_true", help="create demo accounts and print them")
    serve.add_argument("--ack-durability", choices=["written", "fsync", "replicated"], default=None)
    serve.add_argument("--fd", type=int, default=None, help=argparse.SUPPRESS)

    up = commands.add_parser("services", help="the embedded Valkey and PostgreSQL")
    up.add_argument("action", choices=["up", "down"])
    up.add_argument("--data-dir", type=Path, default=Path(".data"))
    up.add_argument("--appendfsync", choices=["everysec", "always"], default="everysec")
    # A real local Valkey Cluster from the same binary (chat/embedded/cluster.py).
    up.add_argument("--cluster", type=int, default=0, metavar="MASTERS")
    up.add_argument(
        "--maxmemory",
        default=None,
        help="Valkey's memory limit (e.g. 2gb), past which writes are refused (noeviction);"
        " default: CHAT_VALKEY_MAXMEMORY, else half the machine's memory up to 1 GiB",
    )
    up.add_argument("--replicas", type=int, default=0, help="replicas per master (--cluster)")

    commands.add_parser("migrate", help="apply schema.sql and migrations/ to DATABASE_URL")
    # inspect, tail, dead-letters, projector (chat/ops/commands.py)
    add_ops_commands(commands)

    reset = commands.add_parser(
        "reset-two-factor",
        help="turn off an agent's two-factor sign-in (DATABASE_URL), for an admin locked out",
    )
    reset.add_argument("email")

    args = parser.parse_args(argv)
    configure_logging(
        os.environ.get("CHAT_LOG_LEVEL", "INFO"), os.environ.get("CHAT_LOG_FORMAT", "text")
    )
    match args.command:
        case "services":
            _services(args)
        case "migrate":
            apply_schema(os.environ["DATABASE_URL"])
            print("schema and migrations applied")
        case "serve":
            _serve(args)
        case "reset-two-factor":
            _reset_two_factor(os.environ["DATABASE_URL"], args.email)
        case command if command in OPS_COMMANDS:
            sys.exit(run_ops_command(args))


def _reset_two_factor(database_url: str, email: str) -> None:
    """The way back for an agent without a device or recovery codes whom no admin can reset
    (the only admin, say): with the database's credentials, which only operators hold. The
    agent then signs in with the password alone, or enrols anew where the organization requires
    it. Exits 1 when no live agent has that email."""
    with psycopg.connect(database_url) as conn:
        agent_id = two_factor_queries.live_agent_id_by_email(conn, email)
        if agent_id is None:
            print(f"no agent with the email {email}", file=sys.stderr)
            sys.exit(1)
        removed = two_factor_queries.remove(conn, agent_id)
    print(f"two-factor sign-in of {email}: {'turned off' if removed else 'was not on'}")


def _services(args: argparse.Namespace) -> None:
    if args.action == "up":
        found = services_up(
            args.data_dir.resolve(),
            appendfsync=args.appendfsync,
            cluster=args.cluster,
            replicas=args.replicas,
            maxmemory=args.maxmemory,
        )
        print(f"REDIS_URL={found.redis_url}")
        print(f"DATABASE_URL={found.database_url}")
    else:
        services_down(args.data_dir.resolve())
        print("stopped")


def _serve(args: argparse.Namespace) -> None:
    data_dir: Path = args.data_dir.resolve()
    embedded = not (os.environ.get("REDIS_URL") and os.environ.get("DATABASE_URL"))
    durability = args.ack_durability or os.environ.get("CHAT_ACK_DURABILITY", "written")
    if args.fd is None and args.port != 0:
        _check_port_free(args.host, args.port)
    if embedded and args.fd is None:
        found = services_up(data_dir, appendfsync="always" if durability == "fsync" else "everysec")
        os.environ["REDIS_URL"], os.environ["DATABASE_URL"] = found.redis_url, found.database_url
        # The URLs carry the services' passwords: the banner (often a log) shows them masked;
        # `chat services up` prints them whole, and services.json (0600) keeps them.
        print(f"embedded Valkey:     REDIS_URL={_masked(found.redis_url)}", flush=True)
        print(f"embedded PostgreSQL: DATABASE_URL={_masked(found.database_url)}", flush=True)
    try:
        # The data folder keeps a generated secret only for the embedded, single-host setup.
        settings = env_settings(
            data_dir=data_dir if embedded else None, ack_durability=args.ack_durability
        )
        if args.fd is None:
            apply_schema(settings.database_url)
            if args.demo:
                from chat.demo import ensure_demo

                ensure_demo(settings, args.host, args.port)
        if args.workers > 1 and args.fd is None:
            _run_workers(args, settings)
        else:
            _run_one(settings, args.host, args.port, args.fd)
    finally:
        if embedded and args.fd is None:
            services_down(data_dir)
            print("embedded services stopped", flush=True)


def _run_one(settings: Settings, host: str, port: int, fd: int | None) -> None:
    from chat.server import serve

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            binds = await nursery.start(partial(serve, settings, host, port, fd=fd))
            for bind in binds:
                print(f"serving on {bind}", flush=True)

    trio.run(main)


def _run_workers(args: argparse.Namespace, settings: Settings) -> None:
    """N processes accept on one listening socket, each with its own trio loop and actors.

    A worker that exits is started again (after WORKER_RESTART_PAUSE_SECONDS if it lived less
    than WORKER_MIN_LIFE_SECONDS, so a worker that cannot start does not spin). SIGTERM/SIGINT
    stop them all; SIGUSR1 drains them all (chat/actors/drain.py) and exits once they have."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((args.host, args.port))
    listener.listen(2048)
    listener.set_inheritable(True)
    env = {
        **os.environ,
        "SECRET_KEY": settings.secret_key,
        "CHAT_PREVIOUS_SECRET_KEYS": settings.previous_secret_keys,
        "CHAT_ACK_DURABILITY": settings.ack_durability,
    }
    env.pop("CHAT_NODE_ID", None)  # every worker is its own node
    # Whichever worker answers /metrics answers for all of them (chat/metrics/exposition.py).
    metrics_dir = tempfile.TemporaryDirectory(prefix="chat-metrics-")
    env[MULTIPROCESS_DIR_ENV] = metrics_dir.name
    command = [
        *(sys.executable, "-m", "chat.cli", "serve", "--fd", str(listener.fileno())),
        *("--host", args.host, "--port", str(args.port)),
    ]

    def spawn() -> subprocess.Popen[bytes]:
        # our own interpreter and module
        return subprocess.Popen(command, pass_fds=[listener.fileno()], env=env)  # noqa: S603

    workers = {w.pid: (w, time.monotonic()) for w in (spawn() for _ in range(args.workers))}
    print(f"serving on http://{args.host}:{args.port} with {args.workers} workers", flush=True)
    draining = False

    def drain(signum: int, frame: object) -> None:
        nonlocal draining
        draining = True
        for worker, _ in workers.values():
            worker.send_signal(signal.SIGUSR1)

    # Both, explicitly: a shell starts background jobs with SIGINT ignored, and Python then
    # leaves it ignored, so `kill -INT` would not stop the workers.
    signal.signal(signal.SIGTERM, _stop_on_signal)
    signal.signal(signal.SIGINT, _stop_on_signal)
    signal.signal(signal.SIGUSR1, drain)
    try:
        while workers:
            pid, status = os.wait()  # a signal's handler runs meanwhile (PEP 475)
            if pid not in workers:
                continue
            worker, started = workers.pop(pid)
            worker.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
            # Its live gauges leave the merged scrape (counters and histograms stay summed).
            mark_process_dead(pid, metrics_dir.name)  # type: ignore[no-untyped-call]
            if draining:
                continue
            logger.warning("worker %d exited (%s); starting another", pid, worker.returncode)
            if time.monotonic() - started < WORKER_MIN_LIFE_SECONDS:
                time.sleep(WORKER_RESTART_PAUSE_SECONDS)
            fresh = spawn()
            workers[fresh.pid] = (fresh, time.monotonic())
    except (KeyboardInterrupt, _Stop):
        pass
    finally:
        for worker, _ in workers.values():
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker, _ in workers.values():
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
        listener.close()
        metrics_dir.cleanup()


class _Stop(Exception):
    """SIGTERM in the parent of workers: stop them and exit cleanly."""


def _stop_on_signal(signum: int, frame: object) -> None:
    raise _Stop()


def _masked(url: str) -> str:
    """The URL with its password, if any, replaced by ***."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)).geturl()


def _check_port_free(host: str, port: int) -> None:
    """Exit with one clear line when the address is taken, before any service is started (the
    bind error would otherwise surface as a traceback from inside the server's nursery)."""
    probe = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        probe.bind((host, port))
    except OSError as exc:
        reason = "is already in use" if exc.errno == errno.EADDRINUSE else f"cannot be used: {exc}"
        raise SystemExit(
            f"chat serve: {host}:{port} {reason}; choose another with --port (make run PORT=...)"
        ) from None
    finally:
        probe.close()


if __name__ == "__main__":
    main()
