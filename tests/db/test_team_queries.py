"""chat/db/team_queries.py and chat/http/team.py on fixed rows: the median first response over
exactly the conversations it should count, and its bucket."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from chat.config import Settings
from chat.db.team_queries import median_first_response_seconds
from chat.http.team import reply_time

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def _thread(
    conn: psycopg.Connection,
    space: str,
    opened_ago: timedelta,
    replies: list[tuple[str, float]],
    channel: str | None = None,
) -> None:
    """A thread opened `opened_ago` before NOW whose messages are (sender_type, seconds after
    its opening)."""
    thread = uuid.uuid4()
    opened = NOW - opened_ago
    conn.execute(
        "INSERT INTO threads (id, space_id, visitor_id, status, last_activity_at, created_at,"
        " channel, entry_ms, entry_seq) VALUES (%s, %s, %s, 'active', %s, %s, %s, 1, 0)",
        (thread, space, uuid.uuid4(), opened, opened, channel),
    )
    for n, (sender, after) in enumerate(replies):
        conn.execute(
            "INSERT INTO messages (thread_id, id_ms, id_seq, space_id, sender_type, sender_id,"
            " sender_name, content, client_id, created_at)"
            " VALUES (%s, %s, 0, %s, %s, 'x', 'x', 'hi', %s, %s)",
            (thread, n + 1, space, sender, str(n), opened + timedelta(seconds=after)),
        )


def test_median_first_response_over_the_right_conversations(settings: Settings) -> None:
    space = str(uuid.uuid4())
    other_space = str(uuid.uuid4())
    hour = timedelta(hours=1)
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        assert median_first_response_seconds(conn, space, NOW) is None  # no data
        # Counted: first responses of 60, 120, 300, 900 and 4000 s (median 300). The system
        # greeting and the visitor's second message do not count as answers.
        _thread(conn, space, hour, [("visitor", 0), ("agent", 60)])
        _thread(conn, space, 2 * hour, [("system", 0), ("visitor", 10), ("agent", 130)])
        _thread(conn, space, 3 * hour, [("visitor", 0), ("visitor", 100), ("agent", 300)])
        _thread(conn, space, 4 * hour, [("visitor", 0), ("agent", 900), ("agent", 901)])
        _thread(conn, space, 5 * hour, [("visitor", 5), ("agent", 4005)])
        # Not counted: unanswered, an email conversation, older than 7 days, another space's,
        # and an agent's opening message with no visitor message.
        _thread(conn, space, hour, [("visitor", 0)])
        _thread(conn, space, hour, [("visitor", 0), ("agent", 99999)], channel="email")
        _thread(conn, space, timedelta(days=8), [("visitor", 0), ("agent", 99999)])
        _thread(conn, other_space, hour, [("visitor", 0), ("agent", 99999)])
        _thread(conn, space, hour, [("agent", 0)])
        assert median_first_response_seconds(conn, space, NOW) == 300.0
        # An even count: the mean of the middle two (300 and 900).
        _thread(conn, space, 6 * hour, [("visitor", 0), ("agent", 86000)])
        assert median_first_response_seconds(conn, space, NOW) == 600.0


def test_median_reads_only_the_latest_hundred(settings: Settings) -> None:
    space = str(uuid.uuid4())
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        for n in range(100):  # the latest 100: answered in 30 s
            _thread(conn, space, timedelta(minutes=n + 1), [("visitor", 0), ("agent", 30)])
        for n in range(150):  # older: answered in two hours, outnumbering them
            _thread(conn, space, timedelta(hours=3, minutes=n), [("visitor", 0), ("agent", 7200)])
        assert median_first_response_seconds(conn, space, NOW) == 30.0


@pytest.mark.parametrize(
    ("seconds", "bucket"),
    [
        (None, None),
        (0.0, "minutes"),
        (600.0, "minutes"),
        (600.5, "hour"),
        (3600.0, "hour"),
        (3601.0, "day"),
        (86400.0, "day"),
        (86401.0, None),
    ],
)
def test_reply_time_buckets(seconds: float | None, bucket: str | None) -> None:
    assert reply_time(seconds) == bucket
