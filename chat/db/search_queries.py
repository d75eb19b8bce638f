"""Full-text search over an organization's messages and visitors (structures.md, "Search").

Reads the projection: a message is found once the projector has written it (a fraction of a
second behind the log when healthy). Tenancy is the organization's live spaces, decided in the
same statement as the match, so another organization's rows never leave PostgreSQL. What is not
searched: system messages (joins, transfers: noise in results), deleted spaces, soft-deleted
conversations, and private notes (their own table: not searched until they have a visibility
rule here).

Ranking is ts_rank over the stored vector, best first, then newest; pages are keyset pages on
(rank, key), so a page never repeats or skips a row that was there when the first was read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from chat.db import search_snippets
from chat.db.thread_queries import message_row_json
from chat.json_types import Json

# A query is a few words: 200 characters is a long sentence, and bounds the parse work.
MAX_QUERY_CHARS = 200
# The configurations of messages.search_vector (schema.sql): English stems and the words as
# written. Visitors' names and emails use 'simple' only, matched by prefix.
MESSAGE_CONFIGS = ("english", "simple")
VISITOR_CONFIGS = ("simple",)

# The query inline, not in a CTE: folded to a constant at planning, so the planner judges the
# words' frequency from the column's statistics (a CTE hid it: every word looked rare, and a
# common one was ranked over all its matches).
_MESSAGE_QUERY = "(websearch_to_tsquery('english', %(q)s) || websearch_to_tsquery('simple', %(q)s))"

# How many of the newest matches are ranked (see _message_query): past that, older matches of
# a common word are not found; a more specific query finds them.
RANKED_CANDIDATES = 1000

_ORG_SPACES = "SELECT id FROM spaces WHERE organization_id = %(org)s AND deleted_at IS NULL"


@dataclass(frozen=True, slots=True)
class MessageKey:
    """Where a page of message hits ends: the last hit's rank and message key."""

    rank: float
    id_ms: int
    id_seq: int
    thread_id: str


@dataclass(frozen=True, slots=True)
class VisitorKey:
    rank: float
    visitor_id: str


def _message_query(after: MessageKey | None) -> str:
    keyset = ""
    if after is not None:
        keyset = (
            f" AND (ts_rank(m.search_vector, {_MESSAGE_QUERY}), m.id_ms, m.id_seq, m.thread_id)"
            " < (%(rank)s::real, %(id_ms)s, %(id_seq)s, %(thread_id)s::uuid)"
        )
    # Ranking reads every candidate's vector, so the candidates are the newest
    # RANKED_CANDIDATES matches: a rare word's few matches come from the GIN index, a common
    # word's newest from walking messages_recent backwards until enough match (the planner
    # picks by the word's frequency), and either way a page costs about the same (README
    # "Search": 1.5 s for a word in a third of a million messages before). The page is cut
    # from the ranked candidates, then joined to its threads and visitors: the joins cost per
    # row shown, not per match.
    return (
        "WITH cand AS (SELECT m.thread_id, m.id_ms, m.id_seq, m.space_id, m.sender_type,"
        " m.sender_id, m.sender_name, m.content, m.client_id, m.created_at, m.search_vector"
        f" FROM messages m WHERE m.search_vector @@ {_MESSAGE_QUERY}"
        # The organization's spaces as a constant array (read just before, in the same
        # transaction): the planner then knows how much of the table they hold.
        " AND m.space_id = ANY(%(spaces)s::uuid[]) AND m.sender_type <> 'system'"
        # A soft-deleted conversation is out of search until restored (structures.md).
        " AND NOT EXISTS (SELECT 1 FROM threads d WHERE d.id = m.thread_id"
        " AND d.deleted_at IS NOT NULL)"
        f" ORDER BY m.id_ms DESC, m.id_seq DESC LIMIT {RANKED_CANDIDATES}),"
        " hit AS (SELECT m.thread_id, m.id_ms, m.id_seq, m.space_id, m.sender_type, m.sender_id,"
        " m.sender_name, m.content, m.client_id, m.created_at,"
        f" ts_rank(m.search_vector, {_MESSAGE_QUERY}) AS rank"
        f" FROM cand m WHERE true{keyset}"
        " ORDER BY rank DESC, m.id_ms DESC, m.id_seq DESC, m.thread_id DESC LIMIT %(limit)s)"
        " SELECT hit.thread_id::text, hit.id_ms, hit.id_seq, hit.space_id::text,"
        " hit.sender_type, hit.sender_id, hit.sender_name, hit.content, hit.client_id,"
        " hit.created_at, hit.rank, t.visitor_id::text AS visitor_id, v.name AS visitor_name"
        " FROM hit LEFT JOIN threads t ON t.id = hit.thread_id"
        " LEFT JOIN visitors v ON v.id = t.visitor_id"
        " ORDER BY hit.rank DESC, hit.id_ms DESC, hit.id_seq DESC, hit.thread_id DESC"
    )


def search_messages(
    conn: psycopg.Connection,
    organization_id: str,
    text: str,
    limit: int,
    after: MessageKey | None = None,
) -> tuple[list[Json], MessageKey | None]:
    """Up to `limit` of the organization's messages matching `text` (web-search syntax:
    words, "a phrase", -word, or), best first, after `after`; and the key of the last one when
    there may be more."""
    wanted = _wanted_lexemes(conn, text, "websearch_to_tsquery", MESSAGE_CONFIGS)
    if not wanted:
        return [], None  # nothing searchable (only punctuation or stop words)
    spaces = [r[0] for r in conn.execute(_ORG_SPACES, {"org": organization_id}).fetchall()]
    if not spaces:
        return [], None
    params: dict[str, Any] = {"q": text, "spaces": spaces, "limit": limit + 1}
    if after is not None:
        params.update(
            rank=after.rank, id_ms=after.id_ms, id_seq=after.id_seq, thread_id=after.thread_id
        )
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_message_query(after), params).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    texts = [r["content"] for r in rows]
    lexemes_of = search_snippets.word_lexemes(
        conn, search_snippets.distinct_words(texts), MESSAGE_CONFIGS
    )
    items = []
    for row in rows:
        spans = search_snippets.matches(row["content"], lexemes_of, wanted)
        message = message_row_json(row)
        items.append(
            {
                "message": message,
                "space_id": row["space_id"],
                "visitor_id": row["visitor_id"],
                "visitor_name": row["visitor_name"],
                "rank": row["rank"],
                "snippet": search_snippets.snippet(row["content"], spans),
            }
        )
    last = rows[-1] if more else None
    key = None
    if last is not None:
        key = MessageKey(last["rank"], last["id_ms"], last["id_seq"], last["thread_id"])
    return items, key


def _visitor_query(after: VisitorKey | None) -> str:
    keyset = ""
    if after is not None:
        keyset = (
            " AND (ts_rank(v.search_vector, q.query), v.id) < (%(rank)s::real, %(visitor)s::uuid)"
        )
    return (
        "WITH q AS (SELECT to_tsquery('simple', %(tsquery)s) AS query),"
        " hit AS (SELECT v.id, v.space_id, v.name, v.email, v.current_url, v.created_at,"
        " ts_rank(v.search_vector, q.query) AS rank"
        " FROM visitors v, q WHERE v.search_vector @@ q.query"
        f" AND v.space_id IN ({_ORG_SPACES}){keyset}"
        " ORDER BY rank DESC, v.id DESC LIMIT %(limit)s)"
        " SELECT hit.id::text, hit.space_id::text, hit.name, hit.email, hit.current_url,"
        " hit.created_at, hit.rank,"
        # The conversation a click opens: the visitor's latest.
        " (SELECT t.id::text FROM threads t WHERE t.visitor_id = hit.id"
        "  ORDER BY t.last_activity_at DESC, t.id DESC LIMIT 1) AS latest_thread_id"
        " FROM hit ORDER BY hit.rank DESC, hit.id DESC"
    )


def search_visitors(
    conn: psycopg.Connection,
    organization_id: str,
    text: str,
    limit: int,
    after: VisitorKey | None = None,
) -> tuple[list[Json], VisitorKey | None]:
    """Up to `limit` of the organization's visitors whose name or email has words starting with
    every word of `text` ("ann exa" finds "Ann <ann@example.com>"), best first, after `after`."""
    words = _lexemes(conn, text, VISITOR_CONFIGS[0])
    if not words:
        return [], None
    # Built from lexemes PostgreSQL produced, each quoted: no user syntax reaches to_tsquery.
    tsquery = " & ".join(_quoted(w) + ":*" for w in words)
    params: dict[str, Any] = {"tsquery": tsquery, "org": organization_id, "limit": limit + 1}
    if after is not None:
        params.update(rank=after.rank, visitor=after.visitor_id)
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_visitor_query(after), params).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    labels = [_visitor_label(r) for r in rows]
    lexemes_of = search_snippets.word_lexemes(
        conn, search_snippets.distinct_words(labels), VISITOR_CONFIGS
    )
    items = []
    for row, label in zip(rows, labels, strict=True):
        spans = search_snippets.matches(label, lexemes_of, set(words), prefix=True)
        items.append(
            {
                "visitor": {
                    "id": row["id"],
                    "space_id": row["space_id"],
                    "name": row["name"],
                    "email": row["email"],
                    "current_url": row["current_url"],
                    "created_at": _time(row["created_at"]),
                },
                "latest_thread_id": row["latest_thread_id"],
                "rank": row["rank"],
                "snippet": search_snippets.snippet(label, spans),
            }
        )
    key = VisitorKey(rows[-1]["rank"], rows[-1]["id"]) if more else None
    return items, key


def _visitor_label(row: Json) -> str:
    """What a visitor hit shows: "name · email", either part left out when unknown."""
    return " · ".join(part for part in (row["name"], row["email"]) if part)


def _wanted_lexemes(
    conn: psycopg.Connection, text: str, parser: str, configs: tuple[str, ...]
) -> set[str]:
    """The positive lexemes of `text` parsed as the search parses it, per configuration."""
    selects = ", ".join(f"{parser}(%(c{n})s::regconfig, %(q)s)::text" for n in range(len(configs)))
    params: dict[str, Any] = {f"c{n}": c for n, c in enumerate(configs)}
    params["q"] = text
    row = conn.execute(f"SELECT {selects}", params).fetchone()
    assert row is not None
    return search_snippets.query_lexemes(row)


def _lexemes(conn: psycopg.Connection, text: str, config: str) -> list[str]:
    """`text`'s distinct lexemes under `config`, in the order they first appear."""
    rows = conn.execute(
        "SELECT lexeme FROM unnest(to_tsvector(%s::regconfig, %s)) ORDER BY positions[1]",
        (config, text),
    ).fetchall()
    return [r[0] for r in rows]


def _quoted(lexeme: str) -> str:
    """A lexeme as a tsquery operand: quoted, its quotes doubled and backslashes escaped."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _time(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")
