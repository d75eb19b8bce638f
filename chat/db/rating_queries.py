"""Reading visitors' ratings (structures.md, "Ratings"): one conversation's, and the report
per space and per agent. Written only by the projector (chat/db/rating_projection.py). Every
read is scoped by organization through `spaces` (its live space ids, from the caller)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

Row = dict[str, Any]

_RATING_COLUMNS = (
    "thread_id::text, space_id::text, visitor_id::text, agent_id::text, score, comment,"
    " entry_ms, entry_seq, created_at"
)


def _rating_json(row: Row) -> Row:
    return {
        "id": f"{row['entry_ms']}-{row['entry_seq']}",
        "thread_id": row["thread_id"],
        "visitor_id": row["visitor_id"],
        "agent_id": row["agent_id"],
        "score": row["score"],
        "comment": row["comment"],
        "created_at": row["created_at"].isoformat().replace("+00:00", "Z"),
    }


def thread_rating(conn: psycopg.Connection, spaces: list[str], thread_id: str) -> Row | None:
    """The conversation's rating, if it has one and it is in one of `spaces`."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            f"SELECT {_RATING_COLUMNS} FROM ratings"
            " WHERE thread_id = %s AND space_id = ANY(%s::uuid[])",
            (thread_id, spaces),
        ).fetchone()
    return None if row is None else _rating_json(row)


def _share(good: int, total: int) -> float | None:
    """The share of good ratings, 0..1 rounded to 4 places; None when nothing was rated."""
    return round(good / total, 4) if total else None


def _counts(row: Row) -> Row:
    total, good = int(row["total"]), int(row["good"])
    return {"total": total, "good": good, "bad": total - good, "share_good": _share(good, total)}


# Grouped by agent and space in one pass; GROUPING SETS adds the per-space and overall rows.
_REPORT = """
SELECT r.agent_id::text AS agent_id, r.space_id::text AS space_id,
       GROUPING(r.agent_id) AS all_agents, GROUPING(r.space_id) AS all_spaces,
       count(*) AS total, count(*) FILTER (WHERE r.score = 'good') AS good
FROM ratings r
WHERE r.space_id = ANY(%s::uuid[]) AND r.created_at >= %s AND r.created_at < %s
GROUP BY GROUPING SETS ((r.agent_id), (r.space_id), ())
"""


def ratings_report(
    conn: psycopg.Connection, spaces: list[str], since: datetime, until: datetime
) -> Row:
    """Counts of good and bad ratings in [since, until): overall, per space and per agent
    (agent_id null: conversations nobody had claimed). Agents carry their name (null for one
    deleted since)."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_REPORT, (spaces, since, until)).fetchall()
    agent_ids = [r["agent_id"] for r in rows if r["agent_id"]]
    found = conn.execute(
        "SELECT id::text, name FROM agents WHERE id = ANY(%s::uuid[])", (agent_ids,)
    ).fetchall()
    names: dict[str, str] = {str(agent_id): str(name) for agent_id, name in found}
    overall: Row = {"total": 0, "good": 0, "bad": 0, "share_good": None}
    per_agent, per_space = [], []
    for row in rows:
        if row["all_agents"] and row["all_spaces"]:
            overall = _counts(row)
        elif row["all_spaces"]:  # grouped by agent
            name = names.get(row["agent_id"]) if row["agent_id"] else None
            per_agent.append({"agent_id": row["agent_id"], "name": name, **_counts(row)})
        else:
            per_space.append({"space_id": row["space_id"], **_counts(row)})
    per_agent.sort(key=lambda a: (-a["total"], a["agent_id"] or ""))
    per_space.sort(key=lambda s: (-s["total"], s["space_id"]))
    return {**overall, "agents": per_agent, "spaces": per_space}
