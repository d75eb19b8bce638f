"""`chat tail [SPACE]`: follow the log live, one line per entry (or one JSON object with
`--json`), optionally only some kinds. Plain XREAD from each stream's newest id: no consumer
group, nothing acked, so a tail never changes what the service does."""

from __future__ import annotations

import sys
from collections.abc import Callable
from fnmatch import fnmatchcase

import trio

from chat.db.ops_queries import OpsSpace
from chat.ops import lookup, render
from chat.ops.context import Ops
from chat.streams import inspect

# Entries taken per stream and read (a burst prints in pages; nothing is skipped).
READ_COUNT = 500
# Without a SPACE, spaces created since the tail started are followed from their first entry
# within this long.
SPACES_REFRESH_SECONDS = 5.0


def matches(kind: str, patterns: list[str]) -> bool:
    """`message`, `thread.*`: shell-style patterns on the entry's kind; none means every kind."""
    return not patterns or any(fnmatchcase(kind, p) for p in patterns)


async def run_tail(
    ops: Ops,
    space_ref: str | None,
    patterns: list[str],
    *,
    as_json: bool,
    last: int,
    out: Callable[[str], None],
) -> None:
    """Print entries as they are appended until cancelled (Ctrl-C); never returns otherwise.

    `last` entries of each space are printed first. "following ..." goes to stderr once the
    positions are taken: every entry appended after that line is printed."""
    one = await lookup.resolve_space(ops, space_ref) if space_ref else None
    spaces: dict[str, OpsSpace] = {}
    positions: dict[str, str] = {}

    async def follow(found: list[OpsSpace], *, from_start: bool) -> None:
        for space in found:
            key = ops.keys(space.id).events
            if key in positions:
                continue
            spaces[key] = space
            summary = await inspect.stream_summary(ops.redis, key)
            positions[key] = "0-0" if from_start else summary.last_id
            if last and not from_start:
                for entry in await inspect.latest(ops.redis, key, last):
                    _print(space, entry)

    def _print(space: OpsSpace, entry: inspect.RawEntry) -> None:
        if not matches(entry.fields.get("t", ""), patterns):
            return
        if as_json:
            out(render.dumps({**render.entry_json(entry, space.id), "space_name": space.name}))
        else:
            out(render.entry_line(entry, "" if one else space.name))

    await follow([one] if one else await lookup.all_spaces(ops), from_start=False)
    print(f"following {len(positions)} space(s); Ctrl-C stops", file=sys.stderr, flush=True)
    next_refresh = trio.current_time() + SPACES_REFRESH_SECONDS
    while True:
        for key, entry in await inspect.read_after(ops.redis, positions, READ_COUNT):
            positions[key] = entry.id
            _print(spaces[key], entry)
        if one is None and trio.current_time() >= next_refresh:
            await follow(await lookup.all_spaces(ops), from_start=True)
            next_refresh = trio.current_time() + SPACES_REFRESH_SECONDS
