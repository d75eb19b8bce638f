"""Valkey memory: bytes per message inside the resume window, bytes per idle thread, and the
memory of one space after a day of steady traffic, from a compressed-time run.

The traffic is appended in this process through the service's own log (chat.services'
`open_services`: the same scripts, projector, expiry and retention sweeps as `chat serve`), on
the managed service's Valkey (a cluster with --cluster) and a fresh database of its PostgreSQL,
under a key prefix of its own; sockets add nothing to Valkey's memory, so none are opened. Each
space's memory is the sum of `MEMORY USAGE <key> SAMPLES 0` over its keys (SCAN of its hash tag),
broken down by kind (`events`, `t` thread streams, `th` thread states, `v` visitors, `cid`
dedupe records, ...): exact per space, unlike INFO's used_memory, which the managed service's
own keys move too.

- per message: conversations already open, then N more messages (visitor and agent in turn)
  with a one-hour window: the space's growth divided by N (both stream entries and the dedupe
  record).
- per idle thread: T conversations of one message each, left alone for longer than the window
  (2 s here) and twice the dedupe window: what stays per open thread once the sweep trimmed
  its stream.
- a day: one busy space at REAL_MSGS_PER_SECOND (0.1 msg/s, ~860 conversations of 10 messages a
  day), time compressed k times: the window is 3600/k s and the traffic k times faster, so the
  run holds a day's conversations and an hour's worth of messages in the window, as a real day
  would. What a day leaves with a TTL longer than a day (thread states: 7 days for reopening;
  visitors: 30 days) is not compressed, which is right for "after a day". Read at the end of the
  day, traffic still flowing.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
import trio

from bench.record import ScenarioResult, Step
from bench.report import spread
from bench.scenarios import Context
from chat.config import Settings
from chat.db import accounts, space_queries
from chat.db.schema import apply_schema
from chat.services import Services, open_services
from chat.streams import groups
from chat.streams.log import StreamLog

NAME = "memory"
REAL_WINDOW_SECONDS = 3600
DAY_SECONDS = 86400
REAL_MSGS_PER_SECOND = 0.1
MESSAGES_PER_CONVERSATION = 10  # visitor and agent in turn, then the agent closes
CONVERSATIONS_AT_ONCE = 20
# Time compression of the day per profile (divisors of 3600: the window is 3600 / k whole
# seconds): a day of 24, 72 or 120 s.
COMPRESSION = {"quick": 3600, "standard": 1200, "full": 720}
PER_MESSAGE_COUNT = {"quick": 500, "standard": 2000, "full": 5000}
IDLE_THREADS = {"quick": 200, "standard": 500, "full": 1000}
IDLE_WINDOW_SECONDS = 2
# The idle threads are measured once trimmed and without dedupe records, or after this long.
IDLE_SETTLE_SECONDS = 20.0
POLL_SECONDS = 0.1
VISITOR_TTL_SECONDS = 30 * 86400  # as a visitor who wrote is kept (Settings' default)
MB = 1024 * 1024


@dataclass
class Conversation:
    visitor: str
    thread: str = ""
    sent: int = 0


@asynccontextmanager
async def _services(ctx: Context, window: int, sweep: float) -> AsyncIterator[Services]:
    """The service's actors in this process on the bench's stores: a fresh database, a fresh
    key prefix, router and webhooks off (nothing here needs them)."""
    admin = ctx.service.database_url
    assert admin and ctx.service.redis_url, "the memory scenario needs the managed stores"
    name = "mem_" + uuid.uuid4().hex[:10]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # a generated name
    url = admin.rsplit("/", 1)[0] + "/" + name
    apply_schema(url)
    values: dict[str, Any] = {
        "redis_url": ctx.service.redis_url,
        "database_url": url,
        "secret_key": uuid.uuid4().hex * 2,
        "key_prefix": "mem" + uuid.uuid4().hex[:6],
        "resume_window_seconds": window,
        "router_enabled": False,
        "webhooks_enabled": False,
        "visitor_messages_per_address_per_second": 0,
        "visitor_open_threads_per_address": 0,
        "visitor_threads_per_address_per_hour": 0,
    }
    if "retention_sweep_seconds" in Settings.model_fields:  # absent before the sweep existed
        values["retention_sweep_seconds"] = sweep
    try:
        async with open_services(Settings(**values)) as services:
            yield services
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _org(database_url: str) -> tuple[str, str]:
    """A space and its agent, straight in PostgreSQL."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        suffix = uuid.uuid4().hex[:8]
        org, admin = accounts.create_organization_with_admin(
            conn, "Bench", "Ada", f"ada-{suffix}@example.com", "x"
        )
        space = space_queries.create_space(conn, org.id, "Shop", ["shop.example.com"], {})
    return space.id, admin.id


async def space_memory(log: StreamLog, space_id: str) -> dict[str, int]:
    """MEMORY USAGE of every key of the space, by kind, and `total` and `keys`."""
    base = log.keys(space_id).base
    keys = [str(k) async for k in log.redis.scan_iter(match=base + "*", count=1000)]
    sizes: dict[str, int] = {"total": 0, "keys": len(keys)}
    for i in range(0, len(keys), 500):
        chunk = keys[i : i + 500]
        async with log.redis.pipeline(transaction=False) as pipe:
            for key in chunk:
                pipe.memory_usage(key, samples=0)
        for key, used in zip(chunk, pipe.results or (), strict=True):
            kind = key[len(base) :].split(":", 1)[0]
            sizes[kind] = sizes.get(kind, 0) + int(used or 0)
            sizes["total"] += int(used or 0)
    return sizes


async def _say(log: StreamLog, space: str, agent: str, conv: Conversation) -> None:
    """The conversation's next step: the visitor opens it (and the agent claims it), then
    visitor and agent take turns; after the last message the agent closes it."""
    if conv.sent % 2 == 0:
        ack = await log.do_post_message(
            space,
            sender_type="visitor",
            sender_id=conv.visitor,
            sender_name="Vera",
            content="Hello, I have a question about my order number 12345, can you help?",
            client_id=str(uuid.uuid4()),
            max_open_threads=10_000,
            visitor_ttl_seconds=VISITOR_TTL_SECONDS,
        )
        if not conv.thread:
            conv.thread = ack.thread_id
            await log.do_change_thread(space, conv.thread, "claim", agent_id=agent)
    else:
        await log.do_post_message(
            space,
            sender_type="agent",
            sender_id=agent,
            sender_name="Ada",
            content="Of course! Let me look that up for you, it will take a moment.",
            client_id=str(uuid.uuid4()),
            thread_id=conv.thread,
        )
    conv.sent += 1
    if conv.sent == MESSAGES_PER_CONVERSATION:
        await log.do_change_thread(space, conv.thread, "close", agent_id=agent)


async def _all_empty(log: StreamLog, keys: list[str]) -> bool:
    async with log.redis.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.xlen(key)
    return not any(pipe.results or ())


async def _wait_projected(log: StreamLog, space: str, limit: float = 60) -> None:
    """Until the projector has committed every entry of the space (it tells no one: poll)."""
    with trio.fail_after(limit):
        while True:
            if not (await groups.lag(log, space)).entries:
                return
            await trio.sleep(POLL_SECONDS)


async def _per_message(ctx: Context) -> dict[str, Any]:
    count = PER_MESSAGE_COUNT.get(ctx.profile.name, 2000)
    async with _services(ctx, REAL_WINDOW_SECONDS, 60.0) as services:
        log = services.stream_log
        space, agent = await trio.to_thread.run_sync(_org, services.settings.database_url)
        convs = [Conversation(str(uuid.uuid4())) for _ in range(100)]
        for conv in convs:
            await _say(log, space, agent, conv)  # opened and claimed
        before = await space_memory(log, space)
        for n in range(count):
            conv = convs[n % len(convs)]
            if conv.sent >= MESSAGES_PER_CONVERSATION - 1:
                conv.sent = 1  # keep it open: this measures messages, not closes
            await _say(log, space, agent, conv)
        after = await space_memory(log, space)
    per = {k: (after.get(k, 0) - before.get(k, 0)) / count for k in after if k != "keys"}
    return {"messages": count, "bytes_per_message": round(per["total"], 1), "by_kind": per}


async def _idle_threads(ctx: Context) -> dict[str, Any]:
    count = IDLE_THREADS.get(ctx.profile.name, 500)
    async with _services(ctx, IDLE_WINDOW_SECONDS, 0.5) as services:
        log = services.stream_log
        space, agent = await trio.to_thread.run_sync(_org, services.settings.database_url)
        convs = [Conversation(str(uuid.uuid4())) for _ in range(count)]
        for conv in convs:
            await _say(log, space, agent, conv)
        await _wait_projected(log, space)
        fresh = await space_memory(log, space)
        # Past the window and twice the dedupe window: the sweep trimmed the streams, the
        # dedupe records expired. What remains is what an open, quiet thread costs. (A version
        # without the sweep or the dedupe window never settles: measured at the deadline.)
        settled, left = False, fresh
        with trio.move_on_after(IDLE_SETTLE_SECONDS):
            while not settled:
                await trio.sleep(POLL_SECONDS)
                left = await space_memory(log, space)
                streams = [
                    log.keys(space).events,
                    *(log.keys(space).thread(c.thread) for c in convs),
                ]
                settled = "cid" not in left and await _all_empty(log, streams)
    kept = {k: v / count for k, v in left.items() if k not in ("keys", "events")}
    kept["total"] = (left["total"] - left.get("events", 0)) / count
    return {
        "threads": count,
        "settled": int(settled),
        "bytes_per_idle_thread": round(kept["total"], 1),
        "bytes_per_fresh_thread": round((fresh["total"] - fresh.get("events", 0)) / count, 1),
        "by_kind": kept,
    }


async def _day(ctx: Context) -> dict[str, Any]:
    k = COMPRESSION.get(ctx.profile.name, 1200)
    window = REAL_WINDOW_SECONDS // k
    seconds = DAY_SECONDS / k
    rate = REAL_MSGS_PER_SECOND * k
    async with _services(ctx, window, 0.5) as services:
        log = services.stream_log
        space, agent = await trio.to_thread.run_sync(_org, services.settings.database_url)
        convs = [Conversation(str(uuid.uuid4())) for _ in range(CONVERSATIONS_AT_ONCE)]
        started, sent, closed = trio.current_time(), 0, 0
        wall = time.perf_counter()
        async with ctx.reporter.timed(f"memory: a day in {seconds:.0f} s", seconds):
            while (due := started + sent / rate) < started + seconds:
                await trio.sleep_until(due)
                slot = sent % len(convs)
                await _say(log, space, agent, convs[slot])
                if convs[slot].sent == MESSAGES_PER_CONVERSATION:
                    convs[slot] = Conversation(str(uuid.uuid4()))
                    closed += 1
                sent += 1
        took = time.perf_counter() - wall
        sizes = await space_memory(log, space)
        events = await log.redis.xlen(log.keys(space).events)
    return {
        "compression": k,
        "window_s": window,
        "messages": sent,
        "conversations_closed": closed,
        "achieved_real_msgs_per_s": round(sent / took / k, 4),
        "events_in_stream": events,
        "space_mb": round(sizes["total"] / MB, 3),
        "dedupe_mb": round(sizes.get("cid", 0) / MB, 3),
        "streams_mb": round((sizes.get("events", 0) + sizes.get("t", 0)) / MB, 3),
        "states_mb": round((sizes.get("th", 0) + sizes.get("v", 0)) / MB, 3),
        "keys": sizes["keys"],
        "by_kind": sizes,
    }


async def run(ctx: Context) -> ScenarioResult:
    result = ScenarioResult(
        NAME,
        {
            "real_msgs_per_s": REAL_MSGS_PER_SECOND,
            "compression": COMPRESSION.get(ctx.profile.name, 1200),
            "messages_per_conversation": MESSAGES_PER_CONVERSATION,
        },
    )
    steps = {
        "per_message": Step("per message (window 1 h)", {}),
        "idle_thread": Step("per idle thread", {"window_s": IDLE_WINDOW_SECONDS}),
        "day": Step("a space after a day at 0.1 msg/s", {}),
    }
    for _ in range(ctx.repeats):
        steps["per_message"].repeats.append(await _per_message(ctx))
        steps["idle_thread"].repeats.append(await _idle_threads(ctx))
        steps["day"].repeats.append(await _day(ctx))
    result.steps = list(steps.values())
    pm, it, day = (s.as_json()["summary"] for s in result.steps)
    ctx.reporter.row(NAME, "per message", {"bytes": spread(pm, "bytes_per_message")})
    ctx.reporter.row(NAME, "per idle thread", {"bytes": spread(it, "bytes_per_idle_thread")})
    ctx.reporter.row(
        NAME,
        "a day",
        {
            "space": spread(day, "space_mb", " MB"),
            "dedupe": spread(day, "dedupe_mb", " MB"),
            "streams": spread(day, "streams_mb", " MB"),
        },
    )
    result.headline = {
        "bytes_per_message": steps["per_message"].median("bytes_per_message"),
        "bytes_per_idle_thread": steps["idle_thread"].median("bytes_per_idle_thread"),
        "space_after_a_day_mb": steps["day"].median("space_mb"),
        "dedupe_after_a_day_mb": steps["day"].median("dedupe_mb"),
    }
    return result
