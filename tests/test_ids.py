"""Stream entry ids (chat/ids.py): parsing, numeric order, the 2**63 - 1 bound, entry times."""

from __future__ import annotations

import pytest

from chat.ids import (
    MAX_ID_PART,
    check_stream_id,
    entry_time,
    format_id,
    id_key,
    id_time,
    is_stream_id,
    parse_id,
)


def test_an_id_parses_into_its_two_numbers() -> None:
    assert parse_id("1700000000000-3") == (1700000000000, 3)
    assert parse_id("0-0") == (0, 0)
    assert format_id(parse_id("1700000000000-3")) == "1700000000000-3"


@pytest.mark.parametrize(
    ("later", "earlier"),
    [("10-0", "9-0"), ("1-10", "1-9"), ("2-0", "1-999"), ("100000000000000-0", "99999999999999-9")],
)
def test_ids_order_numerically_not_as_text(later: str, earlier: str) -> None:
    assert parse_id(later) > parse_id(earlier)
    assert id_key(later) > id_key(earlier)


@pytest.mark.parametrize(
    "text",
    ["", "1", "1-", "-1", "1-2-3", "a-1", "1-a", " 1-2", "1-2 ", "+1-2", "1.5-2", "1_0-2"],
)
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a stream id"):
        parse_id(text)
    assert not is_stream_id(text)
    with pytest.raises(ValueError):
        check_stream_id(text)


def test_each_part_is_bounded_by_postgres_bigint() -> None:
    top = MAX_ID_PART
    assert top == 2**63 - 1
    assert parse_id(f"{top}-{top}") == (top, top)
    assert check_stream_id(f"{top}-0") == f"{top}-0"
    for text in (f"{top + 1}-0", f"0-{top + 1}", f"{2**64 - 1}-0"):
        with pytest.raises(ValueError, match="out of range"):
            parse_id(text)
        assert not is_stream_id(text)
    with pytest.raises(ValueError, match="not a stream id"):
        parse_id("1" * 21 + "-0")  # more digits than any 64-bit number


def test_id_key_agrees_with_parse_id_on_log_ids() -> None:
    for text in ("0-0", "1-9", "1700000000000-3", f"{MAX_ID_PART}-{MAX_ID_PART}"):
        assert id_key(text) == parse_id(text)


def test_an_entry_time_is_its_millisecond_in_rfc3339() -> None:
    assert id_time("0-0") == "1970-01-01T00:00:00.000Z"
    assert id_time("1700000000123-7") == "2023-11-14T22:13:20.123Z"
    # The memoised, unchecked form says the same for every id of the same millisecond.
    assert (
        entry_time("1700000000123-7") == entry_time("1700000000123-0") == id_time("1700000000123-7")
    )
    assert entry_time("1700000000124-0") == "2023-11-14T22:13:20.124Z"


@pytest.mark.parametrize("text", ["1-2\n", "\u0661-\u0662", "1-\uff12"])
def test_only_ascii_digits_and_nothing_after_them_are_an_id(text: str) -> None:
    assert not is_stream_id(text)
