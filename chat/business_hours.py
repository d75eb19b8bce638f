"""A space's business hours (structures.md, "Business hours"): the setting's shape, validated
at the REST edge, and when the space is open.

Where "open now" is decided: here, on the server, from the IANA time zone (zoneinfo), so every
daylight-saving rule and the visitor's own clock settings stay out of the widget. The widget
config carries the verdict at the time of the request and the open intervals of the next
`HORIZON_DAYS` as UTC epoch ms; the widget re-evaluates against them on a timer (the next
boundary), so an open widget flips to away, and back, at the exact moment without asking again.

Ranges are local wall-clock times "HH:MM" of a weekday; `close` before `open` runs overnight
into the next day, `close` "24:00" ends at midnight. A time inside a daylight-saving gap (02:30
on the night clocks jump from 02:00 to 03:00) reads as the same wall time one hour later; in an
overlap (the repeated hour in autumn) the first occurrence counts.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A day's ranges: a split shift or two is common; more is a typo.
MAX_RANGES_PER_DAY = 4
MAX_AWAY_MESSAGE_CHARS = 500
DEFAULT_AWAY_MESSAGE = "We are away right now. Leave us a message and we will get back to you."
# How far ahead the widget config lists the open intervals: a page left open a week still
# flips at every boundary; a reload (or a reconnect's config probe) fetches a fresh list.
HORIZON_DAYS = 8
_HHMM = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$")


def _zone(name: str) -> str:
    # available_timezones() also rejects paths and names zoneinfo would resolve from files.
    if name not in available_timezones():
        raise ValueError(f"unknown IANA time zone {name!r}")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {name!r}") from exc
    return name


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


class TimeRange(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    open: str = Field(pattern=_HHMM.pattern, description="HH:MM, local time")
    close: str = Field(
        pattern=_HHMM.pattern,
        description='HH:MM, local time; before `open`: overnight into the next day; "24:00":'
        " midnight",
    )

    @model_validator(mode="after")
    def _not_empty(self) -> TimeRange:
        if self.open == "24:00":
            raise ValueError("a range cannot open at 24:00")
        if _minutes(self.open) == _minutes(self.close) % (24 * 60):
            raise ValueError("a range must not be empty (open equals close)")
        return self

    @property
    def minutes(self) -> tuple[int, int]:
        """Opening and closing in minutes after the day's midnight; the close may pass 1440."""
        start, end = _minutes(self.open), _minutes(self.close)
        return start, end if end > start else end + 24 * 60


def _day_ranges(ranges: list[TimeRange]) -> list[TimeRange]:
    spans = sorted(r.minutes for r in ranges)
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        if start < end:
            raise ValueError("a day's ranges overlap")
    return ranges


DayRanges = Annotated[
    list[TimeRange], Field(max_length=MAX_RANGES_PER_DAY), AfterValidator(_day_ranges)
]


class BusinessHours(BaseModel):
    """When a space's team answers live. Outside these hours the widget shows `away_message`
    and when the team is back, and offers the leave-a-message form."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    timezone: Annotated[str, Field(max_length=64), AfterValidator(_zone)] = Field(
        description="IANA time zone the ranges are in, e.g. Europe/Berlin"
    )
    weekly: dict[Weekday, DayRanges] = Field(
        default_factory=dict, description="Ranges per weekday (mon..sun); a day left out is closed"
    )
    away_message: str = Field(
        default=DEFAULT_AWAY_MESSAGE, min_length=1, max_length=MAX_AWAY_MESSAGE_CHARS
    )

    @model_validator(mode="after")
    def _no_overlap_across_midnight(self) -> BusinessHours:
        # An overnight range must not run into the next day's first range.
        for i, day in enumerate(WEEKDAYS):
            late = max((r.minutes[1] for r in self.weekly.get(day, [])), default=0) - 24 * 60
            following = self.weekly.get(WEEKDAYS[(i + 1) % 7], [])
            if late > 0 and any(r.minutes[0] < late for r in following):
                raise ValueError(f"{day}'s overnight range overlaps {WEEKDAYS[(i + 1) % 7]}'s")
        return self


def _local(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    """The instant of `minutes` after `day`'s local midnight, as wall-clock time (a time in a
    gap reads an hour later, fold=0 in an overlap: PEP 495)."""
    extra, minute_of_day = divmod(minutes, 24 * 60)
    wall = datetime.combine(day + timedelta(days=extra), time(), tzinfo=zone)
    wall = wall.replace(hour=minute_of_day // 60, minute=minute_of_day % 60)
    return wall.astimezone(UTC)


def open_intervals(
    hours: BusinessHours, at: datetime, days: int = HORIZON_DAYS
) -> list[tuple[datetime, datetime]]:
    """The open intervals (UTC, merged, sorted) that end after `at` and start within `days`
    of it, including the one `at` is in."""
    zone = ZoneInfo(hours.timezone)
    today = at.astimezone(zone).date()
    spans: list[tuple[datetime, datetime]] = []
    # From yesterday: its overnight range may still be open.
    for offset in range(-1, days + 1):
        day = today + timedelta(days=offset)
        for r in hours.weekly.get(WEEKDAYS[day.weekday()], []):
            opens, closes = r.minutes
            spans.append((_local(day, opens, zone), _local(day, closes, zone)))
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(spans):
        if end <= start:
            continue  # a range wholly inside a DST gap
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], end if end > merged[-1][1] else merged[-1][1])
        else:
            merged.append((start, end))
    horizon = at + timedelta(days=days)
    return [(s, e) for s, e in merged if e > at and s < horizon]


def is_open(hours: BusinessHours | None, at: datetime) -> bool:
    """Within business hours at `at` (always, for a space without hours)."""
    if hours is None:
        return True
    return any(start <= at < end for start, end in open_intervals(hours, at, days=1))


def next_open(hours: BusinessHours, at: datetime) -> datetime | None:
    """When the space next opens after `at` (None: not within the horizon, or open now)."""
    for start, end in open_intervals(hours, at):
        if start <= at < end:
            return None
        if start > at:
            return start
    return None


def widget_hours(hours: BusinessHours | None, at: datetime) -> dict[str, object] | None:
    """The widget config's `hours`: the verdict at `at`, the away message, and the open
    intervals ahead as [start, end) UTC epoch ms for the widget's own timer."""
    if hours is None:
        return None
    intervals = open_intervals(hours, at)
    return {
        "open": any(start <= at < end for start, end in intervals),
        "away_message": hours.away_message,
        "timezone": hours.timezone,
        "intervals": [[_ms(s), _ms(e)] for s, e in intervals],
    }


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)
