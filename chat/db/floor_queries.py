"""The floor view's one PostgreSQL read (structures.md, "The floor view"): when the floor of an
organization starts in a process, the first responses of the last hour that came before it, and
which of the open conversations were ever answered. From then on the floor follows the log only.

What the projector has not written yet at that moment (its lag, normally under a second) is not
in the answer; see structures.md for what that costs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg


@dataclass(frozen=True, slots=True)
class AnsweredThread:
    thread_id: str
    space_id: str
    group_id: str | None
    created_ms: int  # the conversation's start
    first_answer_ms: int  # its first agent message


# Candidates by index only: the open conversations by primary key (their ids come from the
# floor's snapshot in Valkey), and those that ended within the window by `threads_space_closed`:
# a conversation first answered in the window is either still open or ended after that answer.
_ANSWERED = """
SELECT t.id::text, t.space_id::text, t.group_id::text,
    (extract(epoch FROM t.created_at) * 1000)::bigint,
    (extract(epoch FROM s.first_agent_message_at) * 1000)::bigint
FROM threads t JOIN conversation_stats s ON s.thread_id = t.id
WHERE s.first_agent_message_at IS NOT NULL AND t.deleted_at IS NULL
    AND t.space_id = ANY(%(spaces)s::uuid[])
    AND (t.id = ANY(%(open)s::uuid[]) OR t.closed_at >= %(since)s)
"""


def answered_threads(
    conn: psycopg.Connection, space_ids: list[str], open_ids: list[str], since: datetime
) -> list[AnsweredThread]:
    """The open conversations of these spaces that have an agent message, and those that ended
    since `since` with one (the caller keeps those first answered since then)."""
    rows = conn.execute(_ANSWERED, {"spaces": space_ids, "open": open_ids, "since": since})
    return [AnsweredThread(r[0], r[1], r[2], int(r[3]), int(r[4])) for r in rows.fetchall()]
