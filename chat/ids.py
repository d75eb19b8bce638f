"""Stream entry ids (`<ms>-<seq>`): parsing, ordering, and the times they carry."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache

# ASCII digits only, matched whole (fullmatch: `$` would also accept a final newline).
_ID = re.compile(r"([0-9]{1,20})-([0-9]{1,20})")
# Redis takes each part up to 2**64 - 1, PostgreSQL's bigint columns up to 2**63 - 1: an id from
# a client must fit both, or a query fails deep inside instead of the request failing up front.
MAX_ID_PART = 2**63 - 1

StreamId = tuple[int, int]


def parse_id(text: str) -> StreamId:
    """`'1700000000000-3'` -> `(1700000000000, 3)`; ValueError for anything else."""
    match = _ID.fullmatch(text)
    if match is None:
        raise ValueError(f"not a stream id: {text!r}")
    ms, seq = int(match.group(1)), int(match.group(2))
    if ms > MAX_ID_PART or seq > MAX_ID_PART:
        raise ValueError(f"stream id out of range: {text!r}")
    return ms, seq


def id_key(entry_id: str) -> StreamId:
    """An id the log assigned (or one already checked) as a comparable (ms, seq), without
    parse_id's regex and range checks: followers compare every entry they pass on, and the regex
    was a visible share of that."""
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq)


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


def ms_to_rfc3339(ms: int) -> str:
    return (
        datetime.fromtimestamp(ms / 1000, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def id_time(text: str) -> str:
    """The RFC 3339 time an entry id was assigned at."""
    return ms_to_rfc3339(parse_id(text)[0])


@lru_cache(maxsize=1024)
def _ms_time(ms: int) -> str:
    return ms_to_rfc3339(ms)


def entry_time(entry_id: str) -> str:
    """id_time for ids that came from the log: unchecked, and memoised by millisecond, since an
    entry's time goes into its ack and into every session's copy of it, and formatting a datetime
    each time showed up in profiles of the message path."""
    return _ms_time(id_key(entry_id)[0])
