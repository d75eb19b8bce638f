"""`python -m bench` / `chat-bench` / `make bench`: run the scenarios, write JSON and plots."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import trio

from bench import record
from bench.fleet import Fleet
from bench.profiles import PROFILES
from bench.record import ScenarioResult
from bench.report import Reporter
from bench.scenarios import Context
from bench.service import Service, parse_cpus

Scenario = Callable[[Context], Awaitable[ScenarioResult]]


SCENARIOS = (
    "ceilings",
    "conversation",
    "idle",
    "storm",
    "projector",
    "routing",
    "webhooks",
    "memory",
    "reports",
)


def scenario(name: str) -> Scenario:
    """bench/scenarios/<name>.py's `run`."""
    module = importlib.import_module(f"bench.scenarios.{name}")
    run: Scenario = module.run
    return run


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="chat-bench", description=__doc__)
    parser.add_argument("--profile", choices=sorted(PROFILES), default="standard")
    parser.add_argument(
        "--url",
        help="bench a running service (e.g. http://127.0.0.1:8000) instead of starting one; "
        "it must run with the limits lifted (see README Performance)",
    )
    parser.add_argument(
        "--redis-url", help="with --url: the Redis for the XADD ceiling (skipped without it)"
    )
    parser.add_argument(
        "--cluster",
        type=int,
        default=0,
        metavar="MASTERS",
        help="run the managed service on a local Valkey Cluster of this many masters",
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--load-procs", type=int, default=max(2, os.cpu_count() or 1))
    parser.add_argument("--scenarios", help="comma-separated subset, in the order given")
    parser.add_argument("--repeats", type=int, help="repeats of each step (default: profile's)")
    parser.add_argument("--out", type=Path, default=record.RESULTS_DIR)
    parser.add_argument("--no-plots", action="store_true")
    parser.add_argument("--label", default="", help="a note stored in the JSON (e.g. a commit)")
    parser.add_argument(
        "--pin",
        metavar="SERVICE:LOAD",
        help="CPUs for the service (chat serve, Valkey, PostgreSQL) and for the load (this "
        "process and its load processes), e.g. 1:0 or 2-3:0-1, so that per-core figures compare "
        "between machines (Linux; README Performance)",
    )
    parser.add_argument(
        "--ladder", help="conversation: offered msgs/s per step, e.g. 500,1000 (default: profile's)"
    )
    parser.add_argument(
        "--sockets",
        type=int,
        help="idle: widget sockets connected in one burst, e.g. 5000 (default: profile's)",
    )
    return parser.parse_args(argv)


def _pinning(spec: str | None) -> tuple[frozenset[int] | None, frozenset[int] | None]:
    """--pin SERVICE:LOAD as two CPU sets (None, None without it)."""
    if not spec:
        return None, None
    service, sep, load = spec.partition(":")
    try:
        if not sep:
            raise ValueError(spec)
        return parse_cpus(service), parse_cpus(load)
    except ValueError:
        sys.exit(f"--pin wants SERVICE:LOAD CPU lists such as 1:0 or 2-3:0-1, not {spec!r}")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    path = trio.run(run, args)
    print(f"results: {path}")


async def run(args: argparse.Namespace) -> Path:
    profile = PROFILES[args.profile]
    if args.ladder:
        ladder = tuple(int(step) for step in args.ladder.split(","))
        profile = replace(profile, conversation=replace(profile.conversation, ladder=ladder))
    if args.sockets:
        profile = replace(profile, idle=replace(profile.idle, sockets=args.sockets))
    chosen = args.scenarios.split(",") if args.scenarios else list(profile.scenarios)
    if args.cluster and "ceilings" in chosen:
        # The ceilings scenario measures one Valkey's raw XADD rate over its own connections.
        chosen.remove("ceilings")
    unknown = [name for name in chosen if name not in SCENARIOS]
    if unknown:
        sys.exit(f"unknown scenarios: {', '.join(unknown)} (known: {', '.join(SCENARIOS)})")
    run_id = record.run_id(profile.name)
    started = time.monotonic()
    output: dict[str, Any] = {
        "schema": record.SCHEMA_VERSION,
        "run_id": run_id,
        "started_at": record.now_iso(),
        "profile": profile.name,
        "label": args.label,
        "machine": record.machine(),
        "options": {
            "workers": args.workers,
            "load_procs": args.load_procs,
            "repeats": args.repeats or profile.repeats,
            "scenarios": chosen,
            "cluster": args.cluster,
            "pin": args.pin,
        },
        "scenarios": {},
    }
    service_cpus, load_cpus = _pinning(args.pin)
    if load_cpus:
        os.sched_setaffinity(0, load_cpus)  # the coordinator; the load processes inherit it
    if args.url:
        service = Service(base_url=args.url.rstrip("/"), managed=False, redis_url=args.redis_url)
    else:
        service = Service.start_managed(args.workers, cluster=args.cluster)
        service.cpus = service_cpus
    fleet = Fleet(args.load_procs)
    results: dict[str, ScenarioResult] = {}
    try:
        if service.managed:
            await service.launch()
        output["service"] = {
            "url": service.base_url,
            "managed": service.managed,
            "workers": service.workers if service.managed else None,
        }
        with Reporter() as reporter:
            ctx = Context(service, fleet, profile, reporter, args.repeats or profile.repeats)
            for name in chosen:
                results[name] = await scenario(name)(ctx)
                output["scenarios"][name] = results[name].as_json()
    finally:
        fleet.close()
        service.close()
    from bench.targets import judge

    output["targets"] = [vars(t) for t in judge(results)]
    output["finished_at"] = record.now_iso()
    output["duration_s"] = round(time.monotonic() - started, 1)
    path = record.write_json(args.out / f"{run_id}.json", output)
    if not args.no_plots:
        from bench.plots import write_plots

        output["plots"] = [str(p.name) for p in write_plots(output, args.out / run_id)]
        record.write_json(path, output)
    return path
