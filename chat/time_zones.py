"""IANA time zone names as settings: the organization's zone, in which reports cut days and weeks
(README "Reports")."""

from __future__ import annotations

from functools import cache
from typing import Annotated
from zoneinfo import available_timezones

from pydantic import AfterValidator, Field

DEFAULT_TIME_ZONE = "UTC"
MAX_TIME_ZONE_CHARS = 64  # the longest IANA name is 32 characters


@cache
def _known() -> frozenset[str]:
    # Read once: available_timezones() walks the zone database on every call.
    return frozenset(available_timezones())


def check_time_zone(name: str) -> str:
    """`name` when it is an IANA zone (e.g. "Europe/Paris", "UTC"); ValueError otherwise.

    Only names in the zone database are accepted: no paths, no POSIX TZ strings ("EST5EDT,..."),
    no abbreviations PostgreSQL would read differently ("CEST"), so PostgreSQL's `AT TIME ZONE`
    and Python's zoneinfo agree on what the name means."""
    if name not in _known():
        raise ValueError(f"{name!r} is not an IANA time zone such as Europe/Paris")
    return name


TimeZoneName = Annotated[
    str, Field(min_length=1, max_length=MAX_TIME_ZONE_CHARS), AfterValidator(check_time_zone)
]
