"""What a space's widget shows of its team (structures.md, "Appearance"): agents' display names
and pictures, and the space's recent first-response time.

Reads only; the widget config caches their answers per space (chat/db/team_cache.py), so a
page load never waits on these queries more than once every few minutes per space.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from psycopg.rows import class_row

# The agents the header may show, most recently active first: enough to find the online ones
# of a small team, few enough that the cached list stays small.
TEAM_ROWS = 50
# First-response times are read from this many of the space's latest conversations, at most
# REPLY_WINDOW old: recent enough to say how the team answers now.
REPLY_SAMPLE = 100
REPLY_WINDOW = timedelta(days=7)
# "Recently active": held one of the space's conversations within this long.
ACTIVE_WINDOW = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class TeamRow:
    # agent_id never leaves the server: it only matches the online set (chat/http/api/widget.py).
    agent_id: str
    name: str
    avatar_id: str | None


def team_of_space(
    conn: psycopg.Connection, organization_id: str, space_id: str, now: datetime
) -> tuple[list[TeamRow], int]:
    """The organization's live agents, those who most recently held one of the space's
    conversations (within ACTIVE_WINDOW) first, then the oldest accounts, at most TEAM_ROWS;
    and how many live agents there are. People only: a bot is never one of the widget's team
    faces (structures.md, "Bots")."""
    with conn.cursor(row_factory=class_row(TeamRow)) as cur:
        rows = cur.execute(
            "SELECT a.id::text AS agent_id, a.name, a.avatar_id::text AS avatar_id FROM agents a"
            " LEFT JOIN (SELECT assigned_agent_id, max(last_activity_at) AS at FROM threads"
            "   WHERE space_id = %s AND last_activity_at > %s AND assigned_agent_id IS NOT NULL"
            "   GROUP BY 1) recent"
            "   ON recent.assigned_agent_id = a.id"
            " WHERE a.organization_id = %s AND a.deleted_at IS NULL AND a.kind = 'human'"
            " ORDER BY recent.at DESC NULLS LAST, a.created_at, a.id LIMIT %s",
            (space_id, now - ACTIVE_WINDOW, organization_id, TEAM_ROWS),
        ).fetchall()
    counted = conn.execute(
        "SELECT count(*) FROM agents WHERE organization_id = %s AND deleted_at IS NULL"
        " AND kind = 'human'",
        (organization_id,),
    ).fetchone()
    return rows, int(counted[0]) if counted else 0


def median_first_response_seconds(
    conn: psycopg.Connection, space_id: str, now: datetime
) -> float | None:
    """The median time from a conversation's first visitor message to the first agent message
    after it, over the space's latest REPLY_SAMPLE chat conversations opened within REPLY_WINDOW
    of `now` that a person answered (a bot's answer is no reply time: structures.md "Bots");
    None when there is none. Offline (email) conversations are left out: their answer is an
    email, not a live reply. Read from the projected messages."""
    row = conn.execute(
        "WITH recent AS ("
        "  SELECT t.id FROM threads t WHERE t.space_id = %(space)s AND t.created_at > %(since)s"
        "   AND t.created_at <= %(now)s AND t.channel IS NULL AND t.deleted_at IS NULL"
        "   ORDER BY t.created_at DESC, t.id LIMIT %(sample)s"
        "), asked AS ("
        "  SELECT r.id, (SELECT min(m.created_at) FROM messages m"
        "    WHERE m.thread_id = r.id AND m.sender_type = 'visitor') AS at FROM recent r"
        "), bots AS ("
        "  SELECT b.id::text AS id FROM agents b JOIN spaces s"
        "   ON s.organization_id = b.organization_id WHERE s.id = %(space)s AND b.kind = 'bot'"
        "), answered AS ("
        "  SELECT q.at AS asked_at, (SELECT min(m.created_at) FROM messages m"
        "    WHERE m.thread_id = q.id AND m.sender_type = 'agent' AND m.created_at >= q.at"
        "    AND m.sender_id NOT IN (SELECT id FROM bots))"
        "   AS at FROM asked q WHERE q.at IS NOT NULL"
        ")"
        " SELECT percentile_cont(0.5) WITHIN GROUP"
        "  (ORDER BY extract(epoch FROM a.at - a.asked_at)) FROM answered a WHERE a.at IS NOT NULL",
        {"space": space_id, "since": now - REPLY_WINDOW, "now": now, "sample": REPLY_SAMPLE},
    ).fetchone()
    return None if row is None or row[0] is None else float(row[0])


def set_avatar(conn: psycopg.Connection, agent_id: str, avatar_id: str | None) -> str | None:
    """Point a live agent at a new picture (or none); the previous picture's id, to delete."""
    with conn.transaction():
        old = conn.execute(
            "SELECT avatar_id::text FROM agents WHERE id = %s AND deleted_at IS NULL FOR UPDATE",
            (agent_id,),
        ).fetchone()
        conn.execute(
            "UPDATE agents SET avatar_id = %s WHERE id = %s AND deleted_at IS NULL",
            (avatar_id, agent_id),
        )
    return None if old is None or old[0] is None else str(old[0])


def avatar_of(conn: psycopg.Connection, agent_id: str) -> str | None:
    row = conn.execute("SELECT avatar_id::text FROM agents WHERE id = %s", (agent_id,)).fetchone()
    return None if row is None or row[0] is None else str(row[0])


def avatar_is_live(conn: psycopg.Connection, avatar_id: uuid.UUID) -> bool:
    """Some live agent shows this picture: a replaced one, or a deleted agent's, is not served."""
    row = conn.execute(
        "SELECT 1 FROM agents WHERE avatar_id = %s AND deleted_at IS NULL", (avatar_id,)
    ).fetchone()
    return row is not None
