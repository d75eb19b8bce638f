"""The operator commands on the `chat` parser, and how each runs: connect, do it, print a
table (or JSON with `--json`), and exit 0; 2 with one line for an unknown id or a bad
argument, 1 with one line when Redis or PostgreSQL cannot be reached. Never a traceback for
either."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import psycopg
import psycopg_pool
import trio

from chat.json_types import Json
from chat.ops import dead_letters, inspect, projector, render, tail
from chat.ops.backup import SECRET_FILE, backup, restore
from chat.ops.context import Ops, OpsError, Urls, find_urls, open_ops
from chat.ops.drain import drain_process
from chat.ops.rotate import rotate
from chat.streams.errors import StreamLogError

COMMANDS = (
    "inspect",
    "tail",
    "dead-letters",
    "projector",
    "drain",
    "backup",
    "restore",
    "rotate-secret",
)
DEFAULT_ENTRIES = 10
# `chat drain` waits this long by default: the drain's own defaults (10 s for the balancer,
# 10 s of spread, 60 s at most) plus the shutdown's.
DRAIN_WAIT_SECONDS = 90.0


def add_commands(commands: Any) -> None:
    """Register the operator commands on `chat`'s subparsers."""

    def common(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        parser.add_argument("--json", action="store_true", help="JSON for tools")
        parser.add_argument(
            "--data-dir",
            type=Path,
            default=Path(".data"),
            help="the embedded services' folder, used when REDIS_URL/DATABASE_URL are unset",
        )
        return parser

    found = common(commands.add_parser("inspect", help="a space, thread or visitor, in detail"))
    found.add_argument("what", choices=["space", "thread", "visitor"])
    found.add_argument("ref", help="an id; a space also by its name or widget key")
    found.add_argument("--entries", type=int, default=DEFAULT_ENTRIES, help="recent entries")

    follow = common(commands.add_parser("tail", help="follow the log live"))
    follow.add_argument("space", nargs="?", help="id, name or widget key (default: all spaces)")
    follow.add_argument(
        "--kind", action="append", default=[], help="only these kinds: message,thread.*"
    )
    follow.add_argument("--last", type=int, default=0, help="print this many earlier entries")

    dead = common(commands.add_parser("dead-letters", help="entries the projector set aside"))
    dead.add_argument("action", choices=["list", "replay", "drop"])
    dead.add_argument("space", nargs="?", help="id, name or widget key (list: default all)")
    dead.add_argument("ids", nargs="*", help="dead letter ids (replay, drop)")
    dead.add_argument("--all", action="store_true", help="every dead letter of the space")

    proj = common(commands.add_parser("projector", help="projector lag and consumers"))
    proj.add_argument("action", choices=["status", "prune"])
    proj.add_argument(
        "--idle",
        type=float,
        default=projector.DEFAULT_IDLE_SECONDS,
        help="prune: consumers idle at least this many seconds",
    )
    proj.add_argument("--dry-run", action="store_true", help="prune: only say what it would do")

    drain = commands.add_parser("drain", help="drain a serve process (SIGUSR1) and wait")
    drain.add_argument("pid", type=int, help="a `chat serve` process, or a --workers parent")
    drain.add_argument("--timeout", type=float, default=DRAIN_WAIT_SECONDS, help="seconds")

    copy = commands.add_parser("backup", help="copy Valkey, then PostgreSQL, into a folder")
    copy.add_argument("out", type=Path, help="a new or empty folder")
    copy.add_argument("--data-dir", type=Path, default=Path(".data"), help="embedded services")
    back = commands.add_parser("restore", help="new embedded services from a backup")
    back.add_argument("source", type=Path, help="a folder `chat backup` wrote")
    back.add_argument("--data-dir", type=Path, required=True, help="a new data folder")

    rotating = commands.add_parser("rotate-secret", help="a new SECRET_KEY, the old kept a while")
    rotating.add_argument("--data-dir", type=Path, default=Path(".data"), help="embedded setup")
    rotating.add_argument("--end-grace", action="store_true", help="drop the previous keys")


def run_command(args: argparse.Namespace) -> int:
    """Run one operator command; its exit code."""
    try:
        if args.command == "drain":
            print(drain_process(args.pid, args.timeout), flush=True)
            return 0
        if args.command == "rotate-secret":
            print(rotate(args.data_dir.resolve(), end_grace=args.end_grace), flush=True)
            return 0
        if args.command == "restore":
            print(render.fields(restore(args.source, args.data_dir.resolve())), flush=True)
            return 0
        if args.command == "backup":
            embedded = not (os.environ.get("REDIS_URL") and os.environ.get("DATABASE_URL"))
            secret = args.data_dir.resolve() / SECRET_FILE
            found = secret if embedded and secret.is_file() else None
            print(render.fields(backup(find_urls(args.data_dir), args.out, found)), flush=True)
            return 0
        urls = find_urls(args.data_dir)
        return trio.run(_run, args, urls)
    except BaseException as exc:  # sorted below; anything else is re-raised
        leaf = _single(exc)
        match leaf:
            case OpsError():
                print(f"chat {args.command}: {leaf}", file=sys.stderr)
                return leaf.exit_code
            case KeyboardInterrupt():
                return 0  # Ctrl-C: how `tail` ends
            case (
                StreamLogError()
                | OSError()
                | psycopg.OperationalError()
                | psycopg_pool.PoolTimeout()
            ):
                print(f"chat {args.command}: storage unavailable: {leaf}", file=sys.stderr)
                return 1
        raise


def _single(exc: BaseException) -> BaseException:
    """The one exception inside nested single-member groups (a nursery's wrapping)."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def _print(args: argparse.Namespace, report: Any, text: str) -> None:
    print(render.dumps(report) if args.json else text, flush=True)


async def _run(args: argparse.Namespace, urls: Urls) -> int:
    async with open_ops(urls) as ops:
        match args.command:
            case "inspect":
                await _inspect(ops, args)
            case "tail":
                kinds = [k for given in args.kind for k in given.split(",") if k]
                await tail.run_tail(
                    ops, args.space, kinds, as_json=args.json, last=args.last, out=_line
                )
            case "dead-letters":
                return await _dead_letters(ops, args)
            case "projector" if args.action == "status":
                report = await projector.status(ops)
                _print(args, report, projector.text_status(report))
            case "projector":
                rows = await projector.prune(ops, args.idle, dry_run=args.dry_run)
                _print(args, rows, projector.text_prune(rows))
    return 0


def _line(text: str) -> None:
    print(text, flush=True)


async def _inspect(ops: Ops, args: argparse.Namespace) -> None:
    report: Json
    match args.what:
        case "space":
            report = await inspect.inspect_space(ops, args.ref, args.entries)
            _print(args, report, inspect.text_space(report))
        case "thread":
            report = await inspect.inspect_thread(ops, args.ref, args.entries)
            _print(args, report, inspect.text_thread(report))
        case "visitor":
            report = await inspect.inspect_visitor(ops, args.ref, args.entries)
            _print(args, report, inspect.text_visitor(report))


async def _dead_letters(ops: Ops, args: argparse.Namespace) -> int:
    if args.action == "list":
        if args.ids:
            raise OpsError("list takes at most a space")
        rows = await dead_letters.list_dead(ops, args.space)
        _print(args, rows, dead_letters.text_list(rows))
        return 0
    if not args.space:
        raise OpsError(f"{args.action} needs a space")
    change = dead_letters.replay if args.action == "replay" else dead_letters.drop
    results = await change(ops, args.space, args.ids, args.all)
    _print(args, results, dead_letters.text_results(results))
    # A replay that left some dead letters in place did not do all it was asked.
    return 0 if all(r["result"] in ("replayed", "dropped") for r in results) else 1
