"""The machine's ceilings, so every other figure can also be read as a share of them.

echo: bare WebSocket round trips through the same server stack (hypercorn, quart-trio, the
same workers) with no work per frame: `/ws/echo`, on with CHAT_BENCH_ECHO=true.
xadd: Valkey XADDs of a message-sized entry, pipelined, from the load processes, and one
unpipelined XADD's round trip.
"""

from __future__ import annotations

import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

import coredis
import trio
from coredis import PureToken
from trio_websocket import HandshakeError, WebSocketConnection, connect_websocket_url

from bench import report
from bench.fleet import Link, split
from bench.record import ScenarioResult, Step
from bench.scenarios import Context
from bench.stats import percentiles
from bench.usage import UsageWindow, run_sampler

ECHO_PAD = "x" * 80  # an echo message of about 100 characters, like a chat message
CONNECT_TIMEOUT_SECONDS = 30.0
DRAIN_SECONDS = 10.0  # in-flight echoes and pipelines still awaited after the measured window
RTT_SAMPLES_PER_PROCESS = 50_000  # round trips kept for percentiles (evenly thinned past it)
XADD_KEY = "bench:ceiling:{xadd}"
XADD_FIELDS = {"t": "message", "d": "x" * 200}  # about a message entry's size
XADD_FIELDS_FLAT = [part for pair in XADD_FIELDS.items() for part in pair]
# The scratch stream is trimmed (approximately, which costs little) so a long run does not hold
# millions of entries in Valkey's memory.
XADD_MAXLEN = 100_000
XADD_RTT_SAMPLES = 2000
NOTE_ECHO = (
    "an echo round trip is 1 frame in and 1 frame out; a chat message is 1 frame in, its ack "
    "out and 2 agent deliveries out (plus the log write): compare msgs/s with that in mind"
)


# -- load processes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EchoJob:
    url: str
    connections: int
    window: int


@dataclass(frozen=True)
class XaddJob:
    redis_url: str
    connections: int
    pipeline: int


def _thin(samples: list[float]) -> list[float]:
    step = max(1, len(samples) // RTT_SAMPLES_PER_PROCESS)
    return samples[::step]


async def _echo_run(sockets: list[WebSocketConnection], window: int, seconds: float) -> Any:
    """Round trips on every socket for `seconds`, `window` messages in flight on each."""
    rtt_ms: list[float] = []
    until = time.perf_counter() + seconds

    async def one(ws: WebSocketConnection) -> None:
        for _ in range(window):
            await ws.send_message(f"{time.perf_counter():.9f} {ECHO_PAD}")
        in_flight = window
        while in_flight:
            echoed = await ws.get_message()
            now = time.perf_counter()
            in_flight -= 1
            if now < until:  # echoes after the window are drained, not counted
                rtt_ms.append((now - float(str(echoed).split(" ", 1)[0])) * 1000)
                await ws.send_message(f"{now:.9f} {ECHO_PAD}")
                in_flight += 1

    with trio.fail_after(seconds + DRAIN_SECONDS):
        async with trio.open_nursery() as nursery:
            for ws in sockets:
                nursery.start_soon(one, ws)
    return {"echoed": len(rtt_ms), "rtt_ms": _thin(rtt_ms)}


async def echo_worker(job: EchoJob, link: Link) -> None:
    """Commands: connect (replies the sockets opened, or why the handshake was refused), run
    <seconds>."""
    sockets: list[WebSocketConnection] = []
    async with trio.open_nursery() as nursery:  # the sockets' reader tasks live here
        async for name, args in link.commands():
            if name == "connect":
                try:
                    with trio.fail_after(CONNECT_TIMEOUT_SECONDS):
                        for _ in range(job.connections):
                            sockets.append(await connect_websocket_url(nursery, job.url))
                    await link.reply({"connected": len(sockets)})
                except HandshakeError as exc:
                    await link.reply({"connected": len(sockets), "refused": repr(exc)})
            elif name == "run":
                await link.reply(await _echo_run(sockets, job.window, args))
        with trio.move_on_after(DRAIN_SECONDS) as cleanup:
            cleanup.shield = True
            for ws in sockets:
                await ws.aclose()
        nursery.cancel_scope.cancel()


async def _xadd_run(job: XaddJob, seconds: float) -> Any:
    """Pipelines of XADDs on `job.connections` connections for `seconds`."""
    client: coredis.Redis[str] = coredis.Redis.from_url(
        job.redis_url, decode_responses=True, max_connections=job.connections + 1
    )
    done = [0]
    async with client:
        await client.ping()  # connected before the window opens
        until = time.perf_counter() + seconds

        async def one() -> None:
            while time.perf_counter() < until:
                async with client.pipeline(transaction=False) as pipe:
                    for _ in range(job.pipeline):
                        pipe.xadd(
                            XADD_KEY,
                            XADD_FIELDS,
                            trim_strategy=PureToken.MAXLEN,
                            trim_operator=PureToken.APPROXIMATELY,
                            threshold=XADD_MAXLEN,
                        )
                done[0] += job.pipeline

        started = time.perf_counter()
        with trio.fail_after(seconds + DRAIN_SECONDS):
            async with trio.open_nursery() as nursery:
                for _ in range(job.connections):
                    nursery.start_soon(one)
        return {"xadds": done[0], "seconds": time.perf_counter() - started}


def _resp(*parts: str) -> bytes:
    """One command in RESP, Redis's wire format."""
    out = [f"*{len(parts)}\r\n".encode()]
    for part in parts:
        data = part.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


async def _raw_connection(redis_url: str) -> trio.SocketStream:
    """A bare connection (AUTH and SELECT as the URL says; TLS is not supported here)."""
    url = urllib.parse.urlsplit(redis_url)
    if url.scheme != "redis":
        raise ValueError(f"the raw XADD client speaks redis:// only, not {url.scheme}://")
    stream = await trio.open_tcp_stream(url.hostname or "127.0.0.1", url.port or 6379)
    setup = b""
    if url.password:
        setup += _resp("AUTH", *([url.username] if url.username else []), url.password)
    if url.path.strip("/"):
        setup += _resp("SELECT", url.path.strip("/"))
    if setup:
        await stream.send_all(setup)
        reply = await stream.receive_some(4096)
        if not reply.startswith(b"+"):
            raise ValueError(f"Redis refused the setup: {reply[:200]!r}")
    return stream


async def _xadd_raw_run(job: XaddJob, seconds: float) -> Any:
    """Pipelines of pre-encoded XADDs over bare sockets: Valkey's ceiling, not a client's.

    Each reply is a bulk string (`$15\r\n<id>\r\n`): two line ends per XADD answered.
    """
    command = _resp("XADD", XADD_KEY, "MAXLEN", "~", str(XADD_MAXLEN), "*", *XADD_FIELDS_FLAT)
    payload = command * job.pipeline
    streams = [await _raw_connection(job.redis_url) for _ in range(job.connections)]
    done = [0]
    until = time.perf_counter() + seconds

    async def one(stream: trio.SocketStream) -> None:
        first = True
        while time.perf_counter() < until:
            await stream.send_all(payload)
            line_ends = 0
            while line_ends < 2 * job.pipeline:
                data = await stream.receive_some(65536)
                if not data:
                    raise ConnectionError("Redis closed the connection")
                if first and not data.startswith(b"$"):
                    raise ValueError(f"XADD refused: {data[:200]!r}")
                first = False
                line_ends += data.count(b"\r\n")
            done[0] += job.pipeline

    started = time.perf_counter()
    try:
        with trio.fail_after(seconds + DRAIN_SECONDS):
            async with trio.open_nursery() as nursery:
                for stream in streams:
                    nursery.start_soon(one, stream)
    finally:
        for stream in streams:
            await stream.aclose()
    return {"xadds": done[0], "seconds": time.perf_counter() - started}


async def xadd_worker(job: XaddJob, link: Link) -> None:
    """Commands: run {seconds, raw}: raw pre-encoded pipelines, or coredis's."""
    async for name, args in link.commands():
        if name == "run" and job.connections:  # a process with no share answers None
            runner = _xadd_raw_run if args["raw"] else _xadd_run
            await link.reply(await runner(job, args["seconds"]))
        else:
            await link.reply(None)


# -- coordinator ---------------------------------------------------------------------------------


async def _echo(ctx: Context, result: ScenarioResult) -> Step | None:
    cfg = ctx.profile.ceilings
    url = f"{ctx.service.ws_url}/ws/echo"
    shares = split(cfg.echo_connections, ctx.fleet.size)
    jobs = [EchoJob(url, n, cfg.echo_window) for n in shares]
    step = Step(
        "echo",
        {"connections": cfg.echo_connections, "window": cfg.echo_window, "seconds": cfg.seconds},
    )
    groups = lambda: {"server": ctx.service.chat_processes(), "load": ctx.fleet.processes()}  # noqa: E731
    async with ctx.fleet.session(f"{__name__}:echo_worker", jobs) as fleet:
        opened = await fleet.ask(("connect", None))
        refused = [r["refused"] for r in opened if "refused" in r]
        if refused:
            note = f"ceilings: echo skipped, /ws/echo refused ({refused[0]}); CHAT_BENCH_ECHO=true?"
            ctx.reporter.note(note)
            result.notes.append(note)
            return None
        for _ in range(ctx.repeats):
            window = UsageWindow(groups)
            async with ctx.reporter.timed("ceilings: echo", cfg.seconds):
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(run_sampler, window)
                    replies = await fleet.ask(("run", cfg.seconds))
                    nursery.cancel_scope.cancel()
            echoed = sum(r["echoed"] for r in replies)
            step.repeats.append(
                {
                    "echo_msgs_per_s": round(echoed / cfg.seconds),
                    "rtt_ms": percentiles([ms for r in replies for ms in r["rtt_ms"]]),
                    **{group: vars(usage) for group, usage in window.result().items()},
                }
            )
    summary = step.as_json()["summary"]
    ctx.reporter.row(
        "ceilings",
        f"echo x{cfg.echo_connections}",
        {
            "round trips/s": report.spread(summary, "echo_msgs_per_s"),
            "rtt p99": report.spread(summary, "rtt_ms.p99", " ms"),
            "server cpu": report.spread(summary, "server.cpu_percent", "%"),
        },
    )
    return step


async def _xadd_rtt(redis_url: str) -> dict[str, float | None]:
    """One XADD at a time from one connection: the round trip a single append pays."""
    client: coredis.Redis[str] = coredis.Redis.from_url(redis_url, decode_responses=True)
    rtt_ms = []
    async with client:
        with trio.fail_after(60):
            for _ in range(XADD_RTT_SAMPLES):
                started = time.perf_counter()
                await client.xadd(XADD_KEY, XADD_FIELDS)
                rtt_ms.append((time.perf_counter() - started) * 1000)
    return percentiles(rtt_ms)


async def _xadd(ctx: Context, redis_url: str, *, raw: bool) -> Step:
    """XADD/s from the load processes: bare pre-encoded pipelines (`raw`, Valkey's ceiling) or
    coredis's pipelines (what the service's own client can push)."""
    cfg = ctx.profile.ceilings
    shares = split(cfg.xadd_connections, ctx.fleet.size)
    jobs = [XaddJob(redis_url, n, cfg.xadd_pipeline) for n in shares]
    label = "xadd" if raw else "xadd coredis"
    step = Step(
        label,
        {
            "client": "raw" if raw else "coredis",
            "pipeline": cfg.xadd_pipeline,
            "connections": cfg.xadd_connections,
            "load_processes": sum(1 for n in shares if n),
            "seconds": cfg.seconds,
        },
    )
    groups = lambda: {  # noqa: E731
        "valkey": ctx.service.store_processes().get("valkey", []),
        "load": ctx.fleet.processes(),
    }
    async with ctx.fleet.session(f"{__name__}:xadd_worker", jobs) as fleet:
        for _ in range(ctx.repeats):
            window = UsageWindow(groups)
            async with ctx.reporter.timed(f"ceilings: {label}", cfg.seconds):
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(run_sampler, window)
                    asked = await fleet.ask(("run", {"seconds": cfg.seconds, "raw": raw}))
                    nursery.cancel_scope.cancel()
            usage = window.result()
            replies = [r for r in asked if r]
            xadds = sum(r["xadds"] for r in replies)
            seconds = max(r["seconds"] for r in replies)
            figures: dict[str, Any] = {"xadd_per_s": round(xadds / seconds)}
            if raw:
                figures["rtt_ms"] = await _xadd_rtt(redis_url)
            step.repeats.append({**figures, **{g: vars(u) for g, u in usage.items()}})
    summary = step.as_json()["summary"]
    ctx.reporter.row(
        "ceilings",
        f"{label} pipeline {cfg.xadd_pipeline} x{cfg.xadd_connections}",
        {
            "xadd/s": report.spread(summary, "xadd_per_s"),
            "rtt p50": report.spread(summary, "rtt_ms.p50", " ms"),
            "valkey cpu": report.spread(summary, "valkey.cpu_percent", "%"),
            "load cpu": report.spread(summary, "load.cpu_percent", "%"),
        },
    )
    return step


async def _delete_key(redis_url: str) -> None:
    client: coredis.Redis[str] = coredis.Redis.from_url(redis_url, decode_responses=True)
    async with client:
        with trio.fail_after(30):
            await client.delete([XADD_KEY])


async def run(ctx: Context) -> ScenarioResult:
    cfg = ctx.profile.ceilings
    result = ScenarioResult(
        "ceilings",
        {
            "echo_connections": cfg.echo_connections,
            "echo_window": cfg.echo_window,
            "seconds": cfg.seconds,
            "xadd_pipeline": cfg.xadd_pipeline,
            "xadd_connections": cfg.xadd_connections,
        },
        notes=[NOTE_ECHO],
    )
    started = time.monotonic()
    echo = await _echo(ctx, result)
    if echo is not None:
        result.steps.append(echo)
    xadd = None
    if ctx.service.redis_url is None:
        note = "ceilings: xadd skipped, no Redis URL (--redis-url with --url)"
        ctx.reporter.note(note)
        result.notes.append(note)
    else:
        try:
            xadd = await _xadd(ctx, ctx.service.redis_url, raw=True)
            result.steps.append(xadd)
            result.steps.append(await _xadd(ctx, ctx.service.redis_url, raw=False))
        finally:
            await _delete_key(ctx.service.redis_url)
        result.notes += [
            f"xadd: pipelines of {cfg.xadd_pipeline} from {cfg.xadd_connections} connections "
            f"spread over the load processes, stream trimmed to ~{XADD_MAXLEN} entries; "
            "the headline is pre-encoded commands on bare sockets (Valkey's limit, "
            "not a client's); 'xadd coredis' is the same through coredis, the service's client",
            "xadd_rtt_ms: one XADD at a time through coredis from the coordinator",
        ]
    result.headline = {
        "echo_msgs_per_s": echo.median("echo_msgs_per_s") if echo else None,
        "echo_rtt_ms_p99": echo.median("rtt_ms.p99") if echo else None,
        "xadd_per_s": xadd.median("xadd_per_s") if xadd else None,
        "xadd_rtt_ms_p50": xadd.median("rtt_ms.p50") if xadd else None,
    }
    result.notes.append(f"ran in {time.monotonic() - started:.1f} s")
    return result
