"""How operator commands print: aligned tables, one readable line per log entry, and the JSON
forms `--json` prints instead (stable keys, for tools)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from chat.ids import id_time, is_stream_id
from chat.json_types import Json
from chat.streams.inspect import RawEntry

# A message's content is cut to this many characters on a line of `tail` or `inspect`.
CONTENT_WIDTH = 80


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Columns padded to their widest cell; `-` for None. Empty rows print `(none)`."""
    if not rows:
        return "(none)"
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    lines = [headers, *cells]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines
    )


def fields(pairs: Sequence[tuple[str, object]]) -> str:
    """`name: value` lines, names aligned."""
    width = max(len(name) for name, _ in pairs)
    return "\n".join(f"{name + ':':<{width + 1}} {_cell(value)}" for name, value in pairs)


def _cell(value: object) -> str:
    match value:
        case None:
            return "-"
        case datetime():
            return value.isoformat(timespec="seconds")
        case float():
            return f"{value:.1f}"
    # One line per row: a reason may carry PostgreSQL's DETAIL on a line of its own.
    return " ".join(str(value).split())


def entry_time(entry_id: str) -> str:
    return id_time(entry_id) if is_stream_id(entry_id) else "?"


def _data(raw: RawEntry) -> dict[str, Any] | None:
    try:
        data = orjson.loads(raw.fields.get("d", ""))
    except orjson.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= CONTENT_WIDTH else text[: CONTENT_WIDTH - 1] + "…"


def summary(raw: RawEntry) -> str:
    """What an entry says, in a few words: who wrote what, which thread changed and how."""
    kind, data = raw.fields.get("t", "?"), _data(raw)
    if data is None:
        return _short(raw.fields.get("d", "") or str(raw.fields))
    thread = data.get("thread") if isinstance(data.get("thread"), dict) else None
    match kind:
        case "message":
            who = f"{data.get('sender_type')} {data.get('sender_name') or ''}".rstrip()
            return f"thread={data.get('thread_id')} {who}: {_short(str(data.get('content')))}"
        case "thread.opened" if thread:
            return f"thread={thread.get('id')} visitor={thread.get('visitor_id')}"
        case _ if kind.startswith("thread.") and thread:
            by = f" by={data['by']}" if data.get("by") else ""
            return f"thread={thread.get('id')} status={thread.get('status')}{by}"
        case "typing":
            state = "typing" if data.get("active") else "stopped"
            return f"thread={data.get('thread_id')} {data.get('sender_type')} {state}"
        case "presence":
            state = "online" if data.get("online") else "offline"
            return f"agent={data.get('agent_id')} {state}"
        case "visitor.updated":
            changed = ", ".join(f"{k}={v}" for k, v in data.items() if k != "visitor_id")
            return _short(f"visitor={data.get('visitor_id')} {changed}")
    return _short(orjson.dumps(data).decode())


def entry_line(raw: RawEntry, label: str = "") -> str:
    """One line: time, id, [space,] kind, summary."""
    prefix = f"{label}  " if label else ""
    kind = raw.fields.get("t", "?")
    return f"{entry_time(raw.id)}  {raw.id}  {prefix}{kind:<18} {summary(raw)}"


def entry_json(raw: RawEntry, space_id: str | None = None) -> Json:
    """An entry for tools: id, time, kind, its data decoded (or as stored when it is not JSON),
    and any other field (a dead letter's `entry` and `reason`)."""
    data = _data(raw)
    out: Json = {"id": raw.id, "time": entry_time(raw.id)}
    if space_id is not None:
        out["space_id"] = space_id
    out["kind"] = raw.fields.get("t")
    out["data"] = data if data is not None else raw.fields.get("d")
    out["summary"] = summary(raw)
    for name, value in raw.fields.items():
        if name not in ("t", "d"):
            out[name] = value
    return out


def dumps(value: object) -> str:
    """JSON for `--json`: datetimes as RFC 3339, dataclasses as objects."""
    return orjson.dumps(value, option=orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC).decode()
