"""Webhooks: delivery throughput and latency from append to receipt, at the conversation
scenario's first two loads (the lowest steps of its ladder).

One organization with one endpoint (kinds: message.created) at a receiver in this process (a
stdlib HTTP server on a thread, answering 204 at once). Visitors send at the step's rate; every
acked message must reach the receiver. Latency is the receipt's wall-clock time minus the
message id's milliseconds, which are Valkey's clock at the append (same machine): append to
receipt, through the ingest (consumer group `webhooks`), PostgreSQL, the sender's claim and the
HTTP request. Needs CHAT_WEBHOOK_ALLOW_PRIVATE on the service (set for a managed one).
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import trio

from bench import api
from bench.clients import open_widget, receive, send
from bench.record import ScenarioResult, Step
from bench.report import spread
from bench.scenarios import Context
from bench.stats import percentiles

PATH = "/bench-hooks"
# After the sending window, how long the acked messages may take to arrive before the rest
# count as lost.
DRAIN_SECONDS = 30.0
VISITORS_MAX = 200  # one trio process drives them; enough sockets to spread the rate
START_DELAY_SECONDS = 0.5


@dataclass
class Receiver:
    """First receipt time (epoch s) per (space, id); requests counted, duplicates too."""

    port: int = 0
    first: dict[tuple[str, str], float] = field(default_factory=dict)
    requests: int = 0
    lock: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, keys: set[tuple[str, str]], timeout: float) -> None:
        with self.lock:
            self.lock.wait_for(lambda: keys <= self.first.keys(), timeout)


@contextmanager
def run_receiver() -> Iterator[Receiver]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            now = time.time()
            event = orjson.loads(body)
            with receiver.lock:
                receiver.requests += 1
                receiver.first.setdefault((event["space_id"], event["id"]), now)
                receiver.lock.notify_all()
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


async def _visitor(
    ctx: Context, key: str, space_id: str, rate: float, seconds: float, acked: list[Any]
) -> None:
    """Send at `rate` msgs/s (a random phase) for `seconds`; acked (space, id) go to `acked`."""
    async with trio.open_nursery() as nursery:
        ws, _welcome, _ = await open_widget(nursery, ctx.service.ws_url, key)
        start = trio.current_time() + random.uniform(0, 1 / rate)  # noqa: S311
        end = trio.current_time() + seconds
        sent = 0
        while (due := start + sent / rate) < end:
            await trio.sleep_until(due)
            client_id = str(uuid.uuid4())
            await send(ws, {"type": "message", "client_id": client_id, "content": f"hook {sent}"})
            sent += 1
            while True:
                frame = await receive(ws)
                if frame.get("type") == "ack" and frame.get("client_id") == client_id:
                    acked.append((space_id, frame["id"]))
                    break
                if frame.get("type") == "error":
                    break
        await ws.aclose()
        nursery.cancel_scope.cancel()


async def _repeat(
    ctx: Context, tenant: api.Tenant, receiver: Receiver, offered: int, seconds: float
) -> dict[str, Any]:
    visitors = min(VISITORS_MAX, ctx.profile.conversation.visitors)
    rate = offered / visitors
    acked: list[tuple[str, str]] = []
    requests_before = receiver.requests
    started = time.time()
    async with trio.open_nursery() as nursery:
        for i in range(visitors):
            space = tenant.spaces[i % len(tenant.spaces)]
            nursery.start_soon(_visitor, ctx, space.widget_key, space.id, rate, seconds, acked)
    keys = set(acked)
    await trio.to_thread.run_sync(receiver.wait_for, keys, DRAIN_SECONDS)
    with receiver.lock:
        got = {k: receiver.first[k] for k in keys if k in receiver.first}
        requests = receiver.requests - requests_before
    latencies = [(t - int(k[1].split("-")[0]) / 1000) * 1000 for k, t in got.items()]
    last = max(got.values(), default=started)
    return {
        "acked": len(keys),
        "delivered": len(got),
        "lost": len(keys) - len(got),
        "duplicates": max(0, requests - len(got)),
        "delivered_per_s": round(len(got) / max(last - started, 1e-3), 1),
        "latency_ms": percentiles(latencies),
    }


async def run(ctx: Context) -> ScenarioResult:
    params = ctx.profile.conversation
    service = ctx.service
    steps = params.ladder[:2]
    top_rate = max(steps) / min(VISITORS_MAX, params.visitors)
    tenant = await api.make_tenant(
        service.base_url,
        params.spaces,
        0,
        messages_per_second=min(100.0, max(1.0, 2 * top_rate)),
        burst=100,
    )
    result = ScenarioResult(
        "webhooks",
        {
            "spaces": params.spaces,
            "visitors": min(VISITORS_MAX, params.visitors),
            "offered_msgs_per_s": list(steps),
            "step_seconds": params.step_seconds,
            "workers": service.workers if service.managed else None,
        },
    )
    with run_receiver() as receiver:
        body = {"url": f"http://127.0.0.1:{receiver.port}{PATH}", "kinds": ["message.created"]}
        await api.call("POST", f"{service.base_url}/api/v1/webhooks", body, tenant.admin_token)
        for offered in steps:
            step = Step(f"{offered} msgs/s", {"offered_msgs_per_s": offered})
            for repeat in range(ctx.repeats):
                async with ctx.reporter.timed(
                    f"webhooks {offered} msgs/s, repeat {repeat + 1}/{ctx.repeats}",
                    params.step_seconds,
                ):
                    step.repeats.append(
                        await _repeat(ctx, tenant, receiver, offered, params.step_seconds)
                    )
            result.steps.append(step)
            summary = step.as_json()["summary"]
            ctx.reporter.row(
                "webhooks",
                step.label,
                {
                    "delivered/s": spread(summary, "delivered_per_s"),
                    "p50": spread(summary, "latency_ms.p50", " ms"),
                    "p99": spread(summary, "latency_ms.p99", " ms"),
                    "lost": spread(summary, "lost"),
                },
            )
    top = result.steps[-1]
    result.headline = {
        "offered_msgs_per_s": top.params["offered_msgs_per_s"],
        "delivered_per_s": top.median("delivered_per_s"),
        "latency_p50_ms": top.median("latency_ms.p50"),
        "latency_p99_ms": top.median("latency_ms.p99"),
        "lost": sum(r["lost"] for s in result.steps for r in s.repeats),
        "duplicates": sum(r["duplicates"] for s in result.steps for r in s.repeats),
    }
    result.notes.append("latency: receipt time minus the message id's ms (append to receipt)")
    return result
