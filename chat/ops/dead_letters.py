"""`chat dead-letters list|replay|drop`: the entries the projector set aside (the space's `dead`
stream, structures.md "Projector"), listed, projected again, or thrown away.

Replay projects a dead letter's original entry (its `t`, `d` and `entry` id) straight into
PostgreSQL with the projector's own batch code, keyed by its original id, so a replay of an
entry that is in PostgreSQL already changes nothing. It does not append to the space stream:
a new entry would get a new id and reach every live reader again. A replayed dead letter is
removed from `dead`; one still refused stays, with the reason printed.
"""

from __future__ import annotations

import psycopg

from chat.db.ops_queries import OpsSpace
from chat.db.projection import Batch
from chat.events import parse_entry
from chat.json_types import Json
from chat.ops import lookup, render
from chat.ops.context import Ops, OpsError
from chat.streams import inspect, upkeep

# More than any space should ever hold; `list` says when there are more.
LISTED = 1000


async def list_dead(ops: Ops, space_ref: str | None, count: int = LISTED) -> list[Json]:
    """Dead letters of one space, or of every space (deleted ones too), oldest first."""
    spaces = (
        [await lookup.resolve_space(ops, space_ref)]
        if space_ref
        else await lookup.all_spaces(ops, with_deleted=True)
    )
    found = []
    for space in spaces:
        for entry in await inspect.dead_letters(ops.redis, ops.keys(space.id), count):
            found.append({**render.entry_json(entry, space.id), "space_name": space.name})
    return found


def text_list(rows: list[Json]) -> str:
    return render.table(
        ["space", "dead letter", "entry", "kind", "reason"],
        [[r["space_name"], r["id"], r.get("entry"), r["kind"], r.get("reason")] for r in rows],
    )


async def _chosen(ops: Ops, space: OpsSpace, ids: list[str], every: bool) -> list[inspect.RawEntry]:
    """The dead letters named (all with `every`); OpsError (exit 2) for an id not there."""
    keys = ops.keys(space.id)
    if every:
        return await inspect.dead_letters(ops.redis, keys, LISTED)
    if not ids:
        raise OpsError("name dead letter ids, or --all")
    chosen = []
    for dead_id in ids:
        found = await inspect.entry(ops.redis, keys.dead_letters, dead_id)
        if found is None:
            raise OpsError(f"no dead letter {dead_id!r} in space {space.name!r} ({space.id})")
        chosen.append(found)
    return chosen


async def drop(ops: Ops, space_ref: str, ids: list[str], every: bool) -> list[Json]:
    space = await lookup.resolve_space(ops, space_ref)
    chosen = await _chosen(ops, space, ids, every)
    await upkeep.delete_entries(ops.redis, ops.keys(space.id).dead_letters, [d.id for d in chosen])
    return [{"id": d.id, "entry": d.fields.get("entry"), "result": "dropped"} for d in chosen]


async def _replay_one(ops: Ops, space: OpsSpace, dead: inspect.RawEntry) -> str:
    entry_id = dead.fields.get("entry", "")
    if "t" not in dead.fields:
        return "kept: the entry's data was already gone when it was dead-lettered"
    try:
        entry = parse_entry(entry_id, {"t": dead.fields["t"], "d": dead.fields.get("d", "")})
    except ValueError as exc:
        return f"kept: this version cannot decode it either ({exc})"
    batch = Batch()
    batch.add(space.id, entry)
    try:
        await ops.db.run(batch.write)
    except (psycopg.DataError, psycopg.IntegrityError, psycopg.ProgrammingError) as exc:
        return f"kept: PostgreSQL refused it again ({type(exc).__name__}: {exc})".strip()
    await upkeep.delete_entries(ops.redis, ops.keys(space.id).dead_letters, [dead.id])
    return "replayed"


async def replay(ops: Ops, space_ref: str, ids: list[str], every: bool) -> list[Json]:
    space = await lookup.resolve_space(ops, space_ref)
    return [
        {"id": d.id, "entry": d.fields.get("entry"), "result": await _replay_one(ops, space, d)}
        for d in await _chosen(ops, space, ids, every)
    ]


def text_results(rows: list[Json]) -> str:
    return render.table(
        ["dead letter", "entry", "result"], [[r["id"], r["entry"], r["result"]] for r in rows]
    )
