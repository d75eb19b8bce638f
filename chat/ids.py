"""Stream entry ids (`<ms>-<seq>`): parsing, ordering, and the times they carry."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_ID = re.compile(r"^(\d{1,20})-(\d{1,20})$")

StreamId = tuple[int, int]


def parse_id(text: str) -> StreamId:
    """`'1700000000000-3'` -> `(1700000000000, 3)`; ValueError for anything else."""
    match = _ID.match(text)
    if match is None:
        raise ValueError(f"not a stream id: {text!r}")
    return int(match.group(1)), int(match.group(2))


def is_stream_id(text: str) -> bool:
    return _ID.match(text) is not None


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
