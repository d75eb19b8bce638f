"""Tags and notes in PostgreSQL (structures.md, "Tags" and "Private notes").

An organization's tag list is configuration, written here directly. Which conversation carries
which tag, and the notes, are written only by the projector (chat/db/note_projection.py); this
module reads them. Every read is scoped by organization: another organization's tag is not found.
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from psycopg.rows import dict_row

from chat.errors import TagLimitError, TagNameTakenError

# The whole list is one answer (no cursor), loaded once by the console.
MAX_TAGS = 200
MAX_TAG_NAME_CHARS = 40  # also the table's CHECK (schema.sql)
MAX_NOTES_LISTED = 200

Row = dict[str, Any]

_TAG_COLUMNS = "id::text, organization_id::text, name, colour, created_at"


def _tag_json(row: Row) -> Row:
    return {**row, "created_at": row["created_at"].isoformat()}


def list_tags(conn: psycopg.Connection, organization_id: str) -> list[Row]:
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            f"SELECT {_TAG_COLUMNS} FROM tags WHERE organization_id = %s ORDER BY lower(name), id",
            (organization_id,),
        ).fetchall()
    return [_tag_json(r) for r in rows]


def tag_by_id(conn: psycopg.Connection, organization_id: str, tag_id: str) -> Row | None:
    """The organization's tag; None for an unknown one or another organization's."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            f"SELECT {_TAG_COLUMNS} FROM tags WHERE id = %s AND organization_id = %s",
            (tag_id, organization_id),
        ).fetchone()
    return None if row is None else _tag_json(row)


def create_tag(conn: psycopg.Connection, organization_id: str, name: str, colour: str) -> Row:
    """TagLimitError past MAX_TAGS, TagNameTakenError for a name taken (in any case)."""
    # Lock the organization's row so two creates cannot both pass the count.
    conn.execute("SELECT 1 FROM organizations WHERE id = %s FOR UPDATE", (organization_id,))
    found = conn.execute("SELECT count(*) FROM tags WHERE organization_id = %s", (organization_id,))
    count = found.fetchone()
    if count is not None and count[0] >= MAX_TAGS:
        raise TagLimitError(f"an organization has at most {MAX_TAGS} tags")
    try:
        with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(
                f"INSERT INTO tags (id, organization_id, name, colour) VALUES (%s, %s, %s, %s)"
                f" RETURNING {_TAG_COLUMNS}",
                (str(uuid.uuid4()), organization_id, name, colour),
            ).fetchone()
    except psycopg.errors.UniqueViolation as exc:
        raise TagNameTakenError("a tag of that name exists") from exc
    assert row is not None
    return _tag_json(row)


def update_tag(
    conn: psycopg.Connection, organization_id: str, tag_id: str, changes: dict[str, Any]
) -> Row | None:
    if not changes:
        return tag_by_id(conn, organization_id, tag_id)
    sets = ", ".join(f"{column} = %({column})s" for column in changes)  # names from the body model
    try:
        with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(
                f"UPDATE tags SET {sets} WHERE id = %(id)s AND organization_id = %(org)s"  # noqa: S608
                f" RETURNING {_TAG_COLUMNS}",
                {**changes, "id": tag_id, "org": organization_id},
            ).fetchone()
    except psycopg.errors.UniqueViolation as exc:
        raise TagNameTakenError("a tag of that name exists") from exc
    return None if row is None else _tag_json(row)


def delete_tag(conn: psycopg.Connection, organization_id: str, tag_id: str) -> bool:
    """Remove the tag; the conversations' rows of it go too (their log entries stay, and a
    replay of one is harmless: reads join `tags`)."""
    deleted = conn.execute(
        "DELETE FROM tags WHERE id = %s AND organization_id = %s", (tag_id, organization_id)
    )
    if deleted.rowcount == 0:
        return False
    conn.execute("DELETE FROM thread_tags WHERE tag_id = %s", (tag_id,))
    return True


def tags_of_threads(conn: psycopg.Connection, thread_ids: list[str]) -> dict[str, list[str]]:
    """Each thread's live tag ids (deleted tags left out), by tag name."""
    found: dict[str, list[str]] = {t: [] for t in thread_ids}
    if not thread_ids:
        return found
    rows = conn.execute(
        "SELECT tt.thread_id::text, tt.tag_id::text FROM thread_tags tt"
        " JOIN tags g ON g.id = tt.tag_id"
        " WHERE tt.thread_id = ANY(%s::uuid[]) AND tt.present ORDER BY lower(g.name), g.id",
        (thread_ids,),
    ).fetchall()
    for thread_id, tag_id in rows:
        found[str(thread_id)].append(str(tag_id))
    return found


def list_notes(
    conn: psycopg.Connection,
    thread_id: str,
    reader_id: str,
    *,
    all_whispers: bool,
    limit: int = MAX_NOTES_LISTED,
) -> list[Row]:
    """A thread's notes that `reader_id` reads, oldest first (the latest `limit`): ordinary
    notes, and the whispers to or from the reader, or every whisper with `all_whispers` (a
    supervisor; chat/auth/roles.py `reads_note` is the same rule for live frames). The caller
    has checked the thread is its organization's."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "SELECT * FROM (SELECT id_ms, id_seq, thread_id::text, author_id::text, author_name,"
            " content, client_id, created_at, to_agent_id::text FROM notes WHERE thread_id = %s"
            " AND (to_agent_id IS NULL OR %s OR to_agent_id = %s OR author_id = %s)"
            " ORDER BY id_ms DESC, id_seq DESC LIMIT %s) n ORDER BY id_ms, id_seq",
            (thread_id, all_whispers, reader_id, reader_id, limit),
        ).fetchall()
    return [
        {
            "id": f"{r['id_ms']}-{r['id_seq']}",
            "thread_id": r["thread_id"],
            "author_id": r["author_id"],
            "author_name": r["author_name"],
            "content": r["content"],
            "client_id": r["client_id"],
            "created_at": r["created_at"].isoformat(),
            "to_agent_id": r["to_agent_id"],
        }
        for r in rows
    ]
