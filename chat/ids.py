"""Stream entry ids (`<ms>-<seq>`): parsing, ordering, and the times they carry."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_ID = re.compile(r"^(\d{1,20})-(\d{1,20})$")
# Redis takes each part up to 2**64 - 1, PostgreSQL's bigint columns up to 2**63 - 1: an id from
# a client must fit both, or a query fails deep inside instead of the request failing up front.
MAX_ID_PART = 2**63 - 1

StreamId = tuple[int, int]


def parse_id(text: str) -> StreamId:
    """`'1700000000000-3'` -> `(1700000000000, 3)`; ValueError for anything else."""
    match = _ID.match(text)
    if match is None:
        raise ValueError(f"not a stream id: {text!r}")
    ms, seq = int(match.group(1)), int(match.group(2))
    if ms > MAX_ID_PART or seq > MAX_ID_PART:
        raise ValueError(f"stream id out of range: {text!r}")
    return ms, seq


def is_stream_id(text: str) -> bool:
    try:
        parse_id(text)
    except ValueError:
        return False
    return True


def check_stream_id(text: str) -> str:
    """A pydantic validator: the text when it is an entry id, ValueError otherwise."""
    parse_id(text)
    return text


def format_id(sid: StreamId) -> str:
    return f"{sid[0]}-{sid[1]}"


def id_after(a: str, b: str) -> bool:
    """True when entry id `a` orders after `b`."""
    return parse_id(a) > parse_id(b)


def ms_to_rfc3339(ms: int) -> str:
    return (
        datetime.fromtimestamp(ms / 1000, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def id_time(text: str) -> str:
    """The RFC 3339 time an entry id was assigned at."""
    return ms_to_rfc3339(parse_id(text)[0])
