"""chat/business_hours.py: the setting's validation and when a space is open, across time
zones, daylight-saving changes and overnight ranges."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from chat.business_hours import BusinessHours, is_open, next_open, open_intervals, widget_hours
from chat.space_settings import SpaceSettings

WEEKDAYS_9_TO_17 = {
    d: [{"open": "09:00", "close": "17:00"}] for d in ("mon", "tue", "wed", "thu", "fri")
}


def hours(timezone: str = "Europe/Berlin", **weekly: Any) -> BusinessHours:
    return BusinessHours.model_validate(
        {"timezone": timezone, "weekly": weekly or WEEKDAYS_9_TO_17}
    )


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# 2026-12-07 is a Monday. Berlin is UTC+1 in winter, UTC+2 in summer.
@pytest.mark.parametrize(
    ("at", "expected"),
    [
        ("2026-12-07T07:59:59", False),  # 08:59:59 in Berlin
        ("2026-12-07T08:00:00", True),  # 09:00 opens
        ("2026-12-07T15:59:59", True),
        ("2026-12-07T16:00:00", False),  # 17:00 closes (the end is exclusive)
        ("2026-12-12T10:00:00", False),  # Saturday
    ],
)
def test_open_in_the_spaces_time_zone(at: str, expected: bool) -> None:
    assert is_open(hours(), utc(at)) is expected


def test_the_same_hours_in_another_zone_open_at_another_instant() -> None:
    at = utc("2026-12-07T14:30:00")  # 09:30 in New York, 15:30 in Berlin, 23:30 in Tokyo
    assert is_open(hours("America/New_York"), at)
    assert is_open(hours("Europe/Berlin"), at)
    assert not is_open(hours("Asia/Tokyo"), at)


def test_daylight_saving_moves_the_utc_instant_not_the_local_hour() -> None:
    # Berlin: 29 March 2026 (Sunday) clocks go 02:00 -> 03:00; Monday 30 March opens at 07:00 UTC.
    assert is_open(hours(), utc("2026-03-27T08:30:00"))  # Friday, winter: 09:30 in Berlin
    assert is_open(hours(), utc("2026-03-30T07:00:00"))
    assert not is_open(hours(), utc("2026-03-30T06:59:00"))
    # The return time over the weekend of the change: Monday 09:00 CEST.
    assert next_open(hours(), utc("2026-03-27T17:00:00")) == utc("2026-03-30T07:00:00")
    # Autumn (25 October 2026): Monday 26 opens at 08:00 UTC again.
    assert next_open(hours(), utc("2026-10-23T16:00:00")) == utc("2026-10-26T08:00:00")


def test_a_range_in_the_spring_gap_reads_an_hour_later() -> None:
    night = hours(sun=[{"open": "02:30", "close": "04:00"}])
    # 02:30 does not exist on 29 March 2026 in Berlin: it opens at 03:30 CEST (01:30 UTC).
    assert open_intervals(night, utc("2026-03-29T00:00:00"), days=1)[0] == (
        utc("2026-03-29T01:30:00"),
        utc("2026-03-29T02:00:00"),
    )


def test_overnight_ranges_run_into_the_next_day() -> None:
    night = hours(
        fri=[{"open": "22:00", "close": "02:00"}], sat=[{"open": "10:00", "close": "12:00"}]
    )
    assert is_open(night, utc("2026-12-11T21:30:00"))  # Friday 22:30
    assert is_open(night, utc("2026-12-12T00:30:00"))  # Saturday 01:30: Friday's range
    assert not is_open(night, utc("2026-12-12T01:00:00"))  # Saturday 02:00 closes
    assert next_open(night, utc("2026-12-12T01:00:00")) == utc("2026-12-12T09:00:00")
    # Until midnight, and from midnight the next day: one interval, no flicker at 00:00.
    late = hours(
        mon=[{"open": "20:00", "close": "24:00"}], tue=[{"open": "00:00", "close": "03:00"}]
    )
    assert open_intervals(late, utc("2026-12-07T20:00:00"), days=1)[0] == (
        utc("2026-12-07T19:00:00"),
        utc("2026-12-08T02:00:00"),
    )


def test_several_ranges_a_day_and_the_next_opening() -> None:
    split = hours(
        timezone="UTC",
        mon=[{"open": "09:00", "close": "12:00"}, {"open": "13:00", "close": "17:00"}],
    )
    assert not is_open(split, utc("2026-12-07T12:30:00"))  # lunch
    assert next_open(split, utc("2026-12-07T12:30:00")) == utc("2026-12-07T13:00:00")
    assert next_open(split, utc("2026-12-07T17:00:00")) == utc("2026-12-14T09:00:00")
    assert next_open(split, utc("2026-12-07T10:00:00")) is None  # open now


def test_a_space_without_hours_is_always_open_and_its_config_has_none() -> None:
    assert is_open(None, utc("2026-12-12T03:00:00"))
    assert widget_hours(None, utc("2026-12-12T03:00:00")) is None


def test_the_widget_config_lists_the_intervals_ahead_in_epoch_ms() -> None:
    config = widget_hours(hours(), utc("2026-12-07T07:00:00"))
    assert config is not None and config["open"] is False
    intervals = config["intervals"]
    assert isinstance(intervals, list) and len(intervals) == 6  # Mon..Fri, next Mon (8 days)
    assert intervals[0] == [
        int(utc("2026-12-07T08:00:00").timestamp() * 1000),
        int(utc("2026-12-07T16:00:00").timestamp() * 1000),
    ]


@pytest.mark.parametrize(
    "bad",
    [
        {"timezone": "Mars/Olympus", "weekly": {}},
        {"timezone": "../../etc/passwd", "weekly": {}},
        {"timezone": "UTC", "weekly": {"mon": [{"open": "25:00", "close": "26:00"}]}},
        {"timezone": "UTC", "weekly": {"mon": [{"open": "09:00", "close": "09:00"}]}},
        {"timezone": "UTC", "weekly": {"mon": [{"open": "24:00", "close": "02:00"}]}},
        {"timezone": "UTC", "weekly": {"mon": [{"open": "9:00", "close": "17:00"}]}},
        {"timezone": "UTC", "weekly": {"funday": [{"open": "09:00", "close": "17:00"}]}},
        {
            "timezone": "UTC",
            "weekly": {
                "mon": [{"open": "09:00", "close": "13:00"}, {"open": "12:00", "close": "17:00"}]
            },
        },
        {
            "timezone": "UTC",
            "weekly": {
                "sun": [{"open": "22:00", "close": "03:00"}],
                "mon": [{"open": "02:00", "close": "05:00"}],
            },
        },
        {
            "timezone": "UTC",
            "weekly": {"mon": [{"open": f"0{i}:00", "close": f"0{i}:30"} for i in range(5)]},
        },
        {"timezone": "UTC", "weekly": {}, "away_message": ""},
    ],
)
def test_insane_hours_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        BusinessHours.model_validate(bad)


def test_the_setting_round_trips_through_the_space_settings() -> None:
    stored = SpaceSettings.of({"business_hours": hours().model_dump()}).model_dump()
    assert SpaceSettings.of(stored).business_hours == hours()
