"""Finding what an operator names: a space by id, name or widget key; a thread or a visitor by
id, in PostgreSQL first and else in the log (not projected yet, or PostgreSQL behind)."""

from __future__ import annotations

from typing import Any

from chat.db import ops_queries
from chat.db.ops_queries import OpsSpace
from chat.ops.context import Ops, OpsError
from chat.streams import inspect


async def resolve_space(ops: Ops, ref: str) -> OpsSpace:
    """The one space `ref` names; OpsError (exit 2) when none or several do."""
    found = await ops.db.run(lambda conn: ops_queries.spaces_matching(conn, ref))
    if not found:
        raise OpsError(f"no space has the id, widget key or name {ref!r}")
    if len(found) > 1:
        named = ", ".join(f"{s.id} ({s.organization_name})" for s in found)
        raise OpsError(f"{len(found)} spaces are named {ref!r}: {named}; give an id")
    return found[0]


async def all_spaces(ops: Ops, *, with_deleted: bool = False) -> list[OpsSpace]:
    return await ops.db.run(lambda conn: ops_queries.all_spaces(conn, with_deleted=with_deleted))


async def _space_of(ops: Ops, space_id: str) -> OpsSpace:
    found = await ops.db.run(lambda conn: ops_queries.spaces_matching(conn, space_id))
    if not found:
        raise OpsError(f"space {space_id} is not in PostgreSQL", exit_code=1)
    return found[0]


async def find_thread(ops: Ops, thread_id: str) -> tuple[OpsSpace, dict[str, Any] | None]:
    """The thread's space and its projected row (None when not projected yet)."""
    row = await ops.db.run(lambda conn: ops_queries.thread_row(conn, thread_id))
    if row is not None:
        return await _space_of(ops, row["space_id"]), row
    spaces = await all_spaces(ops, with_deleted=True)
    held = await inspect.first_holding(
        ops.redis, [ops.keys(s.id).thread_state(thread_id) for s in spaces]
    )
    if held is None:
        raise OpsError(f"no thread {thread_id!r} in PostgreSQL or in the log")
    return spaces[held], None


async def find_visitor(ops: Ops, visitor_id: str) -> tuple[OpsSpace, dict[str, Any] | None]:
    """The visitor's space and its projected row (None when not projected yet)."""
    row = await ops.db.run(lambda conn: ops_queries.visitor_row(conn, visitor_id))
    if row is not None:
        return await _space_of(ops, row["space_id"]), row
    spaces = await all_spaces(ops, with_deleted=True)
    held = await inspect.first_holding(
        ops.redis, [ops.keys(s.id).visitor(visitor_id) for s in spaces]
    )
    if held is None:
        raise OpsError(f"no visitor {visitor_id!r} in PostgreSQL or in the log")
    return spaces[held], None
