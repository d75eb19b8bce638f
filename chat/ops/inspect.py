"""`chat inspect space|thread|visitor REF`: state, recent entries, the projector's position,
pending entries and dead letters of one thing, read from the log and PostgreSQL. Read only.

Each `inspect_*` builds a report (plain JSON data, what `--json` prints); `text_*` renders it.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

from chat.db import ops_queries
from chat.db.ops_queries import OpsSpace
from chat.ids import ms_to_rfc3339, parse_id
from chat.json_types import Json
from chat.ops import lookup, render
from chat.ops.context import Ops
from chat.streams import inspect
from chat.streams.keys import PROJECTOR_GROUP

# Dead letters scanned for those of one thread or visitor (a space rarely has more; the
# space's own report gives the count).
DEAD_LETTERS_SCANNED = 1000
THREADS_LISTED = 10


def _space_json(space: OpsSpace) -> Json:
    return asdict(space)


async def _groups_json(ops: Ops, key: str) -> list[Json]:
    """Every group on the stream, with its consumers, lag in entries and seconds, and (for
    each) its oldest pending entries."""
    out = []
    for group in await inspect.groups(ops.redis, key):
        oldest = await inspect.oldest_unprocessed(ops.redis, key, group)
        seconds = max(0.0, time.time() - parse_id(oldest)[0] / 1000) if oldest else 0.0
        pending = await inspect.pending_entries(ops.redis, key, group.name) if group.pending else []
        out.append(
            {
                **asdict(group),
                "lag_seconds": round(seconds, 3),
                "oldest_pending": [asdict(p) for p in pending],
            }
        )
    return out


async def inspect_space(ops: Ops, ref: str, count: int) -> Json:
    space = await lookup.resolve_space(ops, ref)
    keys = ops.keys(space.id)
    online = await inspect.scored(ops.redis, keys.online)
    dead = await inspect.dead_letters(ops.redis, keys, DEAD_LETTERS_SCANNED)
    return {
        "space": _space_json(space),
        "stream": asdict(await inspect.stream_summary(ops.redis, keys.events)),
        "open_threads": await inspect.zcard(ops.redis, keys.open_threads),
        "waiting": await inspect.zcard(ops.redis, keys.waiting),
        "agents_heartbeating": [
            {"agent_id": agent, "last_heartbeat": ms_to_rfc3339(int(ms))} for agent, ms in online
        ],
        "groups": await _groups_json(ops, keys.events),
        "dead_letters": {
            "count": await inspect.dead_letter_count(ops.redis, keys),
            "latest": [render.entry_json(e) for e in dead[-5:]],
        },
        "recent": [
            render.entry_json(e) for e in await inspect.latest(ops.redis, keys.events, count)
        ],
    }


async def _projector_marks(ops: Ops, space_id: str, entries: list[inspect.RawEntry]) -> list[str]:
    """For each entry of a thread: `projected`, `pending` (delivered, not committed) or
    `not read` (after the group's last delivered id), as the projector's group has it."""
    key = ops.keys(space_id).events
    group = next(
        (g for g in await inspect.groups(ops.redis, key) if g.name == PROJECTOR_GROUP), None
    )
    if group is None:
        return ["no group" for _ in entries]
    pending = {p.id for p in await inspect.pending_entries(ops.redis, key, PROJECTOR_GROUP, 10_000)}
    delivered = parse_id(group.last_delivered_id)
    return [
        "pending" if e.id in pending else "not read" if parse_id(e.id) > delivered else "projected"
        for e in entries
    ]


async def _dead_letters_about(ops: Ops, space_id: str, needle: str) -> list[Json]:
    dead = await inspect.dead_letters(ops.redis, ops.keys(space_id), DEAD_LETTERS_SCANNED)
    return [render.entry_json(e) for e in dead if needle in e.fields.get("d", "")]


async def _thread_entries(ops: Ops, space_id: str, thread_id: str, count: int) -> list[Json]:
    entries = await inspect.latest(ops.redis, ops.keys(space_id).thread(thread_id), count)
    marks = await _projector_marks(ops, space_id, entries)
    return [
        {**render.entry_json(e), "projector": mark} for e, mark in zip(entries, marks, strict=True)
    ]


async def inspect_thread(ops: Ops, thread_id: str, count: int) -> Json:
    space, row = await lookup.find_thread(ops, thread_id)
    keys = ops.keys(space.id)
    return {
        "space": _space_json(space),
        "thread_id": thread_id,
        "log_state": await inspect.hash_fields(ops.redis, keys.thread_state(thread_id)),
        "postgresql": row,
        "stream": asdict(await inspect.stream_summary(ops.redis, keys.thread(thread_id))),
        "recent": await _thread_entries(ops, space.id, thread_id, count),
        "dead_letters": await _dead_letters_about(ops, space.id, thread_id),
    }


async def inspect_visitor(ops: Ops, visitor_id: str, count: int) -> Json:
    space, row = await lookup.find_visitor(ops, visitor_id)
    keys = ops.keys(space.id)
    state = await inspect.hash_fields(ops.redis, keys.visitor(visitor_id))
    threads = await ops.db.run(
        lambda conn: ops_queries.visitor_threads(conn, visitor_id, THREADS_LISTED)
    )
    current = state.get("thread") or state.get("closed_thread")
    return {
        "space": _space_json(space),
        "visitor_id": visitor_id,
        "log_state": state,
        "postgresql": row,
        "threads": threads,
        "current_thread": current,
        "recent": await _thread_entries(ops, space.id, current, count) if current else [],
        "dead_letters": await _dead_letters_about(ops, space.id, visitor_id),
    }


def _space_line(space: Json) -> str:
    deleted = f", deleted {space['deleted_at']:%Y-%m-%d}" if space["deleted_at"] else ""
    return f"{space['name']} ({space['organization_name']}{deleted})  {space['id']}"


def _entry_rows(entries: list[Json], with_marks: bool = False) -> str:
    rows = [
        [
            e["time"],
            e["id"],
            e["kind"],
            *([e["projector"]] if with_marks else []),
            e["summary"],
        ]
        for e in entries
    ]
    headers = ["time", "id", "kind", *(["projector"] if with_marks else []), "entry"]
    return render.table(headers, rows)


def _dead_rows(entries: list[Json]) -> str:
    rows = [[e["id"], e.get("entry"), e["kind"], e.get("reason")] for e in entries]
    return render.table(["dead letter", "entry", "kind", "reason"], rows)


def _groups_text(groups: list[Json]) -> str:
    if not groups:
        return "(no consumer group)"
    parts = []
    for g in groups:
        undelivered = "?" if g["undelivered"] is None else g["undelivered"]
        parts.append(
            f"group {g['name']}: last delivered {g['last_delivered_id']}, pending {g['pending']},"
            f" not read {undelivered}, oldest unacked {g['lag_seconds']:.1f} s ago"
        )
        consumers = [
            [c["name"], c["pending"], f"{c['idle_ms'] / 1000:.1f} s"] for c in g["consumers"]
        ]
        parts.append(_indent(render.table(["consumer", "pending", "idle"], consumers)))
        if g["oldest_pending"]:
            pending = [
                [p["id"], p["consumer"], f"{p['idle_ms'] / 1000:.1f} s", p["deliveries"]]
                for p in g["oldest_pending"]
            ]
            parts.append(
                _indent(render.table(["pending", "consumer", "idle", "deliveries"], pending))
            )
    return "\n".join(parts)


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def text_space(report: Json) -> str:
    stream = report["stream"]
    space = report["space"]
    head = render.fields(
        [
            ("space", _space_line(space)),
            ("widget key", space["widget_key"]),
            ("stream", f"{stream['length']} entries, {stream['first_id']} .. {stream['last_id']}"),
            ("open threads", report["open_threads"]),
            ("waiting", report["waiting"]),
            ("agents", ", ".join(a["agent_id"] for a in report["agents_heartbeating"]) or None),
            ("dead letters", report["dead_letters"]["count"]),
        ]
    )
    sections = [
        head,
        "\nconsumer groups\n" + _groups_text(report["groups"]),
        "\nrecent entries\n" + _entry_rows(report["recent"]),
    ]
    if report["dead_letters"]["latest"]:
        sections.append("\nlatest dead letters\n" + _dead_rows(report["dead_letters"]["latest"]))
    return "\n".join(sections)


def _state_text(state: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in sorted(state.items())) or "(gone from the log)"


def text_thread(report: Json) -> str:
    row = report["postgresql"]
    projected = (
        f"status={row['status']} messages={row['messages']} last entry {row['last_entry']}"
        if row
        else "(not projected yet)"
    )
    head = render.fields(
        [
            ("thread", report["thread_id"]),
            ("space", _space_line(report["space"])),
            ("in the log", _state_text(report["log_state"])),
            ("in PostgreSQL", projected),
            ("stream", f"{report['stream']['length']} entries"),
        ]
    )
    out = [head, "\nrecent entries\n" + _entry_rows(report["recent"], with_marks=True)]
    if report["dead_letters"]:
        out.append("\ndead letters\n" + _dead_rows(report["dead_letters"]))
    return "\n".join(out)


def text_visitor(report: Json) -> str:
    row = report["postgresql"]
    head = render.fields(
        [
            ("visitor", report["visitor_id"]),
            ("space", _space_line(report["space"])),
            ("in the log", _state_text(report["log_state"])),
            ("in PostgreSQL", f"name={row['name']} email={row['email']}" if row else None),
        ]
    )
    threads = [
        [t["id"], t["status"], t["created_at"], t["last_activity_at"]] for t in report["threads"]
    ]
    out = [
        head,
        "\nthreads\n" + render.table(["thread", "status", "created", "last activity"], threads),
    ]
    if report["current_thread"]:
        out.append(
            f"\nrecent entries of {report['current_thread']}\n"
            + _entry_rows(report["recent"], with_marks=True)
        )
    if report["dead_letters"]:
        out.append("\ndead letters\n" + _dead_rows(report["dead_letters"]))
    return "\n".join(out)
