"""Entry parsing (chat/events.py): every kind round-trips through the stream's `t` / `d` fields;
what cannot be decoded is refused by parse_entry and skipped by decode_entries."""

from __future__ import annotations

import logging

import orjson
import pytest
from coredis.response.types import StreamEntry

from chat.events import (
    QUEUE_ROUTE,
    Event,
    LogEntry,
    MessagePosted,
    Presence,
    ThreadChanged,
    ThreadOpened,
    ThreadRated,
    ThreadSnapshot,
    Typing,
    VisitorInfo,
    VisitorUpdated,
    decode_entries,
    entry_from_stream,
    parse_entry,
    visitor_route,
)

THREAD = "6f0c3c2e-1111-4000-8000-000000000001"
VISITOR = "6f0c3c2e-2222-4000-8000-000000000002"
SPACE = "6f0c3c2e-3333-4000-8000-000000000003"
SNAPSHOT = ThreadSnapshot(
    id=THREAD,
    space_id=SPACE,
    visitor_id=VISITOR,
    status="active",
    assigned_agent_id="agent-1",
    created=1700000000000,
    last=1700000000500,
)

# One event of every kind, each with its routes (besides the space) and its thread.
EVENTS: list[tuple[Event, tuple[str, ...], str | None]] = [
    (
        MessagePosted(
            thread_id=THREAD,
            sender_type="visitor",
            sender_id=VISITOR,
            sender_name="Vera",
            content="hello ✓",
            client_id="c1",
        ),
        (THREAD,),
        THREAD,
    ),
    (
        ThreadOpened(
            thread=SNAPSHOT.model_copy(update={"status": "unassigned", "assigned_agent_id": None}),
            visitor=VisitorInfo(id=VISITOR, name="Vera", current_url="https://shop/x"),
        ),
        (THREAD, visitor_route(VISITOR), QUEUE_ROUTE),
        THREAD,
    ),
    *[
        (ThreadChanged(type=kind, thread=SNAPSHOT, by="agent-1"), (THREAD, QUEUE_ROUTE), THREAD)
        for kind in ("thread.claimed", "thread.transferred", "thread.closed", "thread.expired")
    ],
    (
        ThreadChanged(type="thread.closed", thread=SNAPSHOT, reason="idle"),
        (THREAD, QUEUE_ROUTE),
        THREAD,
    ),
    (
        # A reopen reaches the visitor's other tabs, as an opening does.
        ThreadChanged(type="thread.reopened", thread=SNAPSHOT, by=None),
        (THREAD, visitor_route(SNAPSHOT.visitor_id), QUEUE_ROUTE),
        THREAD,
    ),
    (
        Typing(thread_id=THREAD, sender_type="agent", sender_id="agent-1", active=True),
        (THREAD,),
        THREAD,
    ),
    (Presence(agent_id="agent-1", online=False, any_online=True), (), None),
    (VisitorUpdated(visitor_id=VISITOR, email="v@example.com"), (visitor_route(VISITOR),), None),
    (
        # A rating is routed to no thread and no visitor: agents (the space) only.
        ThreadRated(thread_id=THREAD, visitor_id=VISITOR, score="bad", client_id="r1"),
        (),
        None,
    ),
]


def _fields(event: Event) -> dict[str, str]:
    """The fields the Lua scripts write: the kind in `t`, the data without its kind in `d`."""
    return {"t": event.type, "d": event.model_dump_json(exclude={"type"})}


def _raw(entry_id: str, fields: dict[str, str]) -> StreamEntry:
    """A stream entry as coredis hands it over with decoded responses."""
    return StreamEntry(entry_id, fields)


@pytest.mark.parametrize(
    ("event", "routes", "thread_id"), EVENTS, ids=lambda v: getattr(v, "type", None)
)
def test_every_kind_round_trips(
    event: Event, routes: tuple[str, ...], thread_id: str | None
) -> None:
    entry = parse_entry("1700000000000-1", _fields(event))
    assert entry == LogEntry("1700000000000-1", event)
    assert type(entry.event) is type(event) and entry.event.type == event.type
    assert entry.routes == routes
    assert entry.thread_id == thread_id
    assert entry_from_stream(_raw("1700000000000-1", _fields(event))) == entry


def test_the_kind_in_t_decides_over_a_type_in_the_data() -> None:
    """One class serves the four lifecycle kinds: `t` names which one."""
    data = orjson.loads(SNAPSHOT.model_dump_json())
    d = orjson.dumps({"type": "thread.claimed", "thread": data}).decode()
    entry = parse_entry("1-0", {"t": "thread.closed", "d": d})
    assert isinstance(entry.event, ThreadChanged) and entry.event.type == "thread.closed"


def test_numbers_kept_as_strings_by_redis_hashes_are_accepted() -> None:
    """Snapshots come from HGETALL, where every value is a string."""
    data = {k: str(v) for k, v in SNAPSHOT.model_dump(exclude_none=True).items()}
    entry = parse_entry(
        "1-0", {"t": "thread.claimed", "d": orjson.dumps({"thread": data}).decode()}
    )
    assert isinstance(entry.event, ThreadChanged) and entry.event.thread == SNAPSHOT


def test_frames_cached_on_an_entry_are_not_part_of_its_identity() -> None:
    event = EVENTS[0][0]
    entry = parse_entry("1-0", _fields(event))
    entry.frames["agent"] = "{}"
    assert entry == parse_entry("1-0", _fields(event))


MESSAGE = _fields(EVENTS[0][0])
UNDECODABLE = {
    "unknown kind": {"t": "thread.renamed", "d": MESSAGE["d"]},
    "no kind": {"d": MESSAGE["d"]},
    "no data": {"t": "message"},
    "malformed JSON": {"t": "message", "d": "{not json"},
    "data not an object": {"t": "message", "d": "[]"},
    "a missing field": {"t": "message", "d": '{"thread_id": "x"}'},
    "a wrong value": {
        "t": "presence",
        "d": '{"agent_id": "a", "online": "maybe", "any_online": true}',
    },
}


@pytest.mark.parametrize("fields", UNDECODABLE.values(), ids=list(UNDECODABLE))
def test_parse_entry_refuses_what_it_cannot_decode_with_value_error(
    fields: dict[str, str],
) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - every refusal is a ValueError, by contract
        parse_entry("1-0", fields)


def test_decode_entries_skips_and_logs_the_undecodable_and_keeps_the_rest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    raws = [_raw("1-0", MESSAGE)]
    raws += [_raw(f"{n + 2}-0", fields) for n, fields in enumerate(UNDECODABLE.values())]
    raws.append(_raw("99-0", _fields(EVENTS[-1][0])))
    with caplog.at_level(logging.WARNING, logger="chat.events"):
        decoded = decode_entries(raws)
    assert [e.id for e in decoded] == ["1-0", "99-0"]
    skipped = [r.getMessage() for r in caplog.records if "skipping undecodable" in r.getMessage()]
    assert len(skipped) == len(UNDECODABLE)
    assert all(f" {n + 2}-0:" in skipped[n] for n in range(len(UNDECODABLE)))


@pytest.mark.parametrize("d", ["[]", "null", "3"])
def test_a_lifecycle_entry_whose_data_is_not_an_object_is_skipped(d: str) -> None:
    assert decode_entries([_raw("1-0", {"t": "thread.closed", "d": d})]) == []


def test_a_field_from_a_newer_version_is_ignored_not_refused() -> None:
    """The versioning rule (structures.md): fields are only added, and readers ignore the ones
    they do not know, so an older process still decodes (and projects) a newer one's entry."""
    newer = {"t": "message", "d": MESSAGE["d"][:-1] + ', "edited": true}'}
    entry = parse_entry("1-0", newer)
    assert entry == parse_entry("1-0", MESSAGE)
