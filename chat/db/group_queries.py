"""Groups (departments) of an organization's agents and their members (structures.md, "Groups").

Configuration, written by the service directly. Every query is scoped to the caller's
organization and to live groups: another organization's group, or a deleted one, is not found.
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from psycopg.rows import class_row

from chat.db.rows import GroupRow
from chat.errors import FieldInvalidError, GroupLimitError, GroupNameTakenError

# An organization has few groups (departments): no pagination, but a cap, so a list stays one
# small answer and the routing engine's reads stay cheap.
MAX_GROUPS_PER_ORGANIZATION = 200
MAX_GROUP_NAME_CHARS = 80  # also the table's CHECK (schema.sql)
# The members one PUT may set (the body's cap, checked again here for other callers).
MAX_MEMBERS_PER_GROUP = 1000

_COLUMNS = (
    "g.id::text, g.organization_id::text, g.name, g.strategy, g.sticky, g.created_at,"
    " ARRAY(SELECT m.agent_id::text FROM group_members m JOIN agents a ON a.id = m.agent_id"
    "   WHERE m.group_id = g.id AND a.deleted_at IS NULL ORDER BY a.created_at, a.id)"
    " AS agent_ids, g.auto_transfer_seconds, g.bot_agent_id::text"
)
_LIVE = "g.organization_id = %s AND g.deleted_at IS NULL"


def list_groups(conn: psycopg.Connection, organization_id: str) -> list[GroupRow]:
    with conn.cursor(row_factory=class_row(GroupRow)) as cur:
        return cur.execute(
            f"SELECT {_COLUMNS} FROM groups g WHERE {_LIVE} ORDER BY g.created_at, g.id",
            (organization_id,),
        ).fetchall()


def group_by_id(conn: psycopg.Connection, organization_id: str, group_id: str) -> GroupRow | None:
    """A live group of this organization; None for another organization's or a deleted one."""
    with conn.cursor(row_factory=class_row(GroupRow)) as cur:
        return cur.execute(
            f"SELECT {_COLUMNS} FROM groups g WHERE g.id = %s AND {_LIVE}",
            (group_id, organization_id),
        ).fetchone()


def hold_live_group(conn: psycopg.Connection, organization_id: str, group_id: str) -> bool:
    """Whether the group is live in this organization, and if so keep it so until the
    transaction ends (FOR SHARE: a concurrent delete waits, then clears what named it)."""
    row = conn.execute(
        f"SELECT 1 FROM groups g WHERE g.id = %s AND {_LIVE} FOR SHARE",
        (group_id, organization_id),
    ).fetchone()
    return row is not None


def create_group(
    conn: psycopg.Connection,
    organization_id: str,
    name: str,
    strategy: str,
    sticky: bool,
    auto_transfer_seconds: int | None = None,
) -> GroupRow:
    """Raises GroupLimitError past MAX_GROUPS_PER_ORGANIZATION, GroupNameTakenError when a live
    group has the name in any case. The organization's row is locked, so two creations at
    the cap cannot both pass the count."""
    conn.execute("SELECT 1 FROM organizations WHERE id = %s FOR UPDATE", (organization_id,))
    row = conn.execute(
        "SELECT count(*) FROM groups WHERE organization_id = %s AND deleted_at IS NULL",
        (organization_id,),
    ).fetchone()
    if row is not None and row[0] >= MAX_GROUPS_PER_ORGANIZATION:
        raise GroupLimitError(limit=MAX_GROUPS_PER_ORGANIZATION)
    group_id = str(uuid.uuid4())
    try:
        with conn.transaction():
            conn.execute(
                "INSERT INTO groups"
                " (id, organization_id, name, strategy, sticky, auto_transfer_seconds)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                (group_id, organization_id, name, strategy, sticky, auto_transfer_seconds),
            )
    except psycopg.errors.UniqueViolation as exc:
        raise GroupNameTakenError() from exc
    found = group_by_id(conn, organization_id, group_id)
    assert found is not None
    return found


def update_group(
    conn: psycopg.Connection, organization_id: str, group_id: str, changes: dict[str, Any]
) -> GroupRow | None:
    """Set the given columns (names come from the caller's validated model, never the client)."""
    assignments = ", ".join(f"{column} = %s" for column in changes)
    try:
        with conn.transaction():
            updated = conn.execute(
                f"UPDATE groups g SET {assignments or 'id = id'} WHERE g.id = %s AND {_LIVE}",
                (*changes.values(), group_id, organization_id),
            )
    except psycopg.errors.UniqueViolation as exc:
        raise GroupNameTakenError() from exc
    if updated.rowcount != 1:
        return None
    return group_by_id(conn, organization_id, group_id)


def delete_group(conn: psycopg.Connection, organization_id: str, group_id: str) -> list[str] | None:
    """Soft-delete a live group; the ids of the spaces whose default group it was (now none), or
    None when there is no such group. The group's row is locked first, then the
    spaces', in the order a space update takes them (hold_live_group), so the two never deadlock.
    """
    deleted = conn.execute(
        f"UPDATE groups g SET deleted_at = now() WHERE g.id = %s AND {_LIVE}",
        (group_id, organization_id),
    )
    if deleted.rowcount != 1:
        return None
    rows = conn.execute(
        "UPDATE spaces SET settings = jsonb_set(settings, '{default_group_id}', 'null')"
        " WHERE organization_id = %s AND settings->>'default_group_id' = %s"
        " RETURNING id::text",
        (organization_id, group_id),
    ).fetchall()
    return [r[0] for r in rows]


def set_members(
    conn: psycopg.Connection, organization_id: str, group_id: str, agent_ids: list[str]
) -> GroupRow | None:
    """Replace the group's members with `agent_ids`; None when there is no such group.

    Raises FieldInvalidError naming the ids that are not live agents of the organization
    (another organization's agents are not told apart from ids that do not exist). The agents
    are held FOR SHARE, so one deleted meanwhile waits and then leaves the group.
    """
    if len(agent_ids) > MAX_MEMBERS_PER_GROUP:
        raise FieldInvalidError("agent_ids", f"at most {MAX_MEMBERS_PER_GROUP} members")
    if not hold_live_group(conn, organization_id, group_id):
        return None
    wanted = sorted(set(agent_ids))
    found = conn.execute(
        "SELECT id::text, kind FROM agents"
        " WHERE id = ANY(%s::uuid[]) AND organization_id = %s AND deleted_at IS NULL"
        " ORDER BY id FOR SHARE",
        (wanted, organization_id),
    ).fetchall()
    unknown = sorted(set(wanted) - {r[0] for r in found})
    if unknown:
        raise FieldInvalidError(
            "agent_ids", "not agents of this organization: " + ", ".join(unknown)
        )
    # Members are the people routing offers conversations to; a bot answers first through the
    # group's bot_agent_id instead (structures.md, "Bots").
    bots = sorted(r[0] for r in found if r[1] == "bot")
    if bots:
        raise FieldInvalidError("agent_ids", "bots cannot be members: " + ", ".join(bots))
    conn.execute(
        "DELETE FROM group_members WHERE group_id = %s AND agent_id <> ALL(%s::uuid[])",
        (group_id, wanted),
    )
    conn.execute(
        "INSERT INTO group_members (group_id, agent_id)"
        " SELECT %s, unnest(%s::uuid[]) ON CONFLICT DO NOTHING",
        (group_id, wanted),
    )
    return group_by_id(conn, organization_id, group_id)


def public_groups(conn: psycopg.Connection, organization_id: str) -> list[tuple[str, str]]:
    """(id, name) of the organization's live groups, by name: all a widget may learn of them."""
    rows = conn.execute(
        "SELECT id::text, name FROM groups WHERE organization_id = %s AND deleted_at IS NULL"
        " ORDER BY lower(name), id",
        (organization_id,),
    ).fetchall()
    return [(r[0], r[1]) for r in rows]
