"""A year of conversations for the reports bench (bench/scenarios/reports.py), written straight
into PostgreSQL with COPY in the shape the projector writes (threads and messages rows): replaying
a million conversations through the log would take hours and measure the projector, not the
reports.

The data is shaped like a support team's: conversations through the day (busier in office
hours), most answered within minutes and closed a quarter of an hour later, some missed (expired
unanswered a day later), a few still open on the last day. Each day's messages are written in
time order, so a thread's messages are spread over the table as a live service spreads them.
Visitors' rows are not written: no report reads them (threads.visitor_id has no foreign key).
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

SEED = 20  # issue 20: the same data on every run
# Shares of outcomes: answered then closed (or, rarely, expired), missed, still open.
MISSED_SHARE = 0.08
EXPIRED_AFTER_ANSWER_SHARE = 0.05
UNGROUPED_SHARE = 0.3
EXPIRY = timedelta(days=1)  # the default thread_ttl_seconds
# Hours of the day (UTC) and their relative weight: office hours are busier.
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 2, 4, 7, 9, 10, 10, 10, 9, 9, 10, 10, 9, 8, 6, 4, 3, 2, 2, 1]
THREAD_COLUMNS = (
    "id, space_id, visitor_id, assigned_agent_id, status, last_activity_at, created_at,"
    " closed_at, group_id, entry_ms, entry_seq"
)
MESSAGE_COLUMNS = (
    "thread_id, id_ms, id_seq, space_id, sender_type, sender_id, sender_name, content,"
    " client_id, created_at"
)
VISITOR_WORDS = ["Hello, I have a question about my order", "Thanks!", "Is it in stock?", "ok"]
AGENT_WORDS = ["Hi! Let me check that for you", "It ships tomorrow", "Anything else?", "Bye"]


@dataclass(frozen=True)
class Team:
    """The organization's objects the data is spread over."""

    space_ids: list[str]
    group_ids: list[str]
    agent_ids: list[str]


@dataclass
class Loaded:
    conversations: int = 0
    messages: int = 0


def _lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0.0, sigma))


def _day(
    rng: random.Random, team: Team, day: datetime, count: int, now: datetime
) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """One day's threads and messages rows, each list in time order."""
    threads: list[tuple[object, ...]] = []
    messages: list[tuple[object, ...]] = []
    hours = rng.choices(range(24), weights=HOUR_WEIGHTS, k=count)
    starts = sorted(day + timedelta(hours=h, seconds=rng.uniform(0, 3600)) for h in hours)
    for created in starts:
        thread_id, visitor_id = str(uuid.uuid4()), str(uuid.uuid4())
        space = rng.choice(team.space_ids)
        group = None if rng.random() < UNGROUPED_SHARE else rng.choice(team.group_ids)
        said = [("visitor", created)]
        at = created
        for _ in range(rng.randint(0, 2)):
            at += timedelta(seconds=rng.uniform(5, 40))
            said.append(("visitor", at))
        agent: str | None = None
        closed: datetime | None
        if rng.random() >= MISSED_SHARE:
            agent = rng.choice(team.agent_ids)
            at = created + timedelta(seconds=_lognormal(rng, 45, 0.9))
            for n in range(rng.randint(1, 3)):
                said.append(("agent", at))
                at += timedelta(seconds=_lognormal(rng, 40, 0.7))
                if n < 2 and rng.random() < 0.6:
                    said.append(("visitor", at))
                    at += timedelta(seconds=_lognormal(rng, 30, 0.7))
            last = max(t for _, t in said)
            if rng.random() < EXPIRED_AFTER_ANSWER_SHARE:
                status, closed = "expired", last + EXPIRY
            else:
                status, closed = "closed", last + timedelta(seconds=_lognormal(rng, 300, 1.0))
        else:
            last = max(t for _, t in said)
            status, closed = "expired", last + EXPIRY
        if closed > now:  # not ended yet when the data stops
            status, closed = ("active" if agent else "unassigned"), None
        entry_ms = int(created.timestamp() * 1000)
        threads.append(
            (thread_id, space, visitor_id, agent, status, closed or last, created, closed, group,
             entry_ms, 0)
        )  # fmt: skip
        for seq, (kind, when) in enumerate(said):
            sender = visitor_id if kind == "visitor" else agent
            words = VISITOR_WORDS if kind == "visitor" else AGENT_WORDS
            messages.append(
                (thread_id, int(when.timestamp() * 1000), seq, space, kind, sender, kind,
                 words[seq % len(words)], f"c{seq}", when)
            )  # fmt: skip
    messages.sort(key=lambda m: m[9])  # type: ignore[arg-type, return-value]
    return threads, messages


def days_of(conversations: int, days: int, first: datetime) -> Iterator[tuple[datetime, int]]:
    """Each day's start and its share of the conversations (weekdays busier than weekends)."""
    weights = [0.6 if (first + timedelta(days=d)).weekday() >= 5 else 1.0 for d in range(days)]
    total = sum(weights)
    given, so_far = 0, 0.0
    for d, weight in enumerate(weights):
        so_far += weight
        count = round(conversations * so_far / total) - given
        given += count
        yield first + timedelta(days=d), count


def load_year(url: str, team: Team, conversations: int, days: int, end: datetime) -> Loaded:
    """`conversations` conversations over the `days` days before `end` (a UTC midnight),
    COPYed into the database at `url`, then VACUUM ANALYZE (as autovacuum would have done on a
    live table: the planner needs the statistics, index-only scans the visibility map)."""
    rng = random.Random(SEED)  # noqa: S311 - bench data, not secrets
    loaded = Loaded()
    first = (end - timedelta(days=days)).astimezone(UTC)
    with psycopg.connect(url) as threads_conn, psycopg.connect(url) as messages_conn:
        with (
            threads_conn.cursor().copy(f"COPY threads ({THREAD_COLUMNS}) FROM STDIN") as tcopy,
            messages_conn.cursor().copy(f"COPY messages ({MESSAGE_COLUMNS}) FROM STDIN") as mcopy,
        ):
            for day, count in days_of(conversations, days, first):
                threads, messages = _day(rng, team, day, count, end)
                for row in threads:
                    tcopy.write_row(row)
                for row in messages:
                    mcopy.write_row(row)
                loaded.conversations += len(threads)
                loaded.messages += len(messages)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE threads")
        conn.execute("VACUUM ANALYZE messages")
    return loaded
