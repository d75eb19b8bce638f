"""A hand-computed fixture for the reports (README "Reports"): conversations written straight into
the projected tables (as the projector writes them), around the night Europe/Paris moves to
summer time (2026-03-29, 02:00 CET -> 03:00 CEST, i.e. 01:00 UTC), so that days cut in the
organization's zone differ from UTC days, and the offset changes inside the window.

The report window is 2026-03-27 .. 2026-03-30 (Paris). Each conversation's comment gives its
Paris times; EXPECTED_* below are worked out by hand from them, not by running the queries.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from tests.helpers.api import Member, add_member
from tests.helpers.chat import Org, make_org
from tests.helpers.http import call

FIRST_DAY, LAST_DAY = "2026-03-27", "2026-03-30"
TIME_ZONE = "Europe/Paris"


def _at(text: str) -> datetime:
    """A time written "MM-DD HH:MM" (2026, UTC)."""
    return datetime.fromisoformat(f"2026-{text}").replace(tzinfo=UTC)


@dataclass(frozen=True)
class Conversation:
    name: str
    space: str  # "s1", "s2" or "other" (another organization's space)
    agent: str | None  # "a" (the admin, Ada), "b" (Bob) or None (unassigned)
    group: bool  # routed in the group
    status: str
    created: str  # "MM-DD HH:MM" of 2026, UTC
    closed: str | None
    first_answer_after: int | None  # seconds after created: the first agent message
    visitor_messages: int
    agent_messages: int
    deleted: bool = False


CONVERSATIONS = [
    # 03-27 23:30 CET; answered after 60 s; closed 03-28 00:10 CET (resolution 2400 s).
    Conversation("t1", "s1", "a", True, "closed", "03-27 22:30", "03-27 23:10", 60, 2, 1),
    # 03-28 00:30 CET (UTC: still 03-27); never answered; expired 03-29 00:30 CET: missed.
    Conversation("t2", "s1", None, False, "expired", "03-27 23:30", "03-28 23:30", None, 1, 0),
    # 03-28 23:15 CET; answered after 30 s; closed 03-29 03:15 CEST (10800 s).
    Conversation("t3", "s2", "b", True, "closed", "03-28 22:15", "03-29 01:15", 30, 3, 2),
    # 03-30 00:30 CEST (UTC: still 03-29); answered after 120 s; still active.
    Conversation("t4", "s1", "a", False, "active", "03-29 22:30", None, 120, 1, 1),
    # 03-29 23:50 CEST; answered after 600 s; closed 03-30 00:20 CEST (1800 s); a system message.
    Conversation("t5", "s2", "a", False, "closed", "03-29 21:50", "03-29 22:20", 600, 2, 3),
    # 03-26 23:59 CET: opened before the window; closed 03-27 01:30 CET (5460 s), inside it.
    Conversation("t6", "s1", "a", False, "closed", "03-26 22:59", "03-27 00:30", 5, 1, 1),
    # 03-30 23:59 CEST; waiting, unanswered but not ended: not missed.
    Conversation("t7", "s2", None, False, "unassigned", "03-30 21:59", None, None, 1, 0),
    # Soft-deleted: in no figure.
    Conversation("t8", "s1", "a", False, "closed", "03-28 10:00", "03-28 10:30", 10, 1, 1, True),
    # 03-31 00:00 CEST: after the window in Paris (UTC: 03-30 22:00, inside a UTC window).
    Conversation("t9", "s1", None, False, "unassigned", "03-30 22:00", None, None, 1, 0),
    # Another organization's space: in no figure of this one.
    Conversation("t10", "other", None, False, "closed", "03-28 10:00", "03-28 11:00", 10, 1, 1),
    # 03-29 10:00 CEST; closed by Bob 20 minutes later without an answer: missed (1200 s).
    Conversation("t11", "s1", "b", True, "closed", "03-29 08:00", "03-29 08:20", None, 2, 0),
]  # fmt: skip

_ZERO = {
    "opened": 0,
    "answered": 0,
    "missed": 0,
    "first_response_median_seconds": None,
    "first_response_p90_seconds": None,
    "visitor_messages": 0,
    "agent_messages": 0,
    "bot_answered": 0,
    "bot_only": 0,
    "bot_first_response_median_seconds": None,
    "bot_first_response_p90_seconds": None,
    "bot_messages": 0,
    "closed": 0,
    "expired": 0,
    "resolution_median_seconds": None,
    "resolution_p90_seconds": None,
    "messages_per_conversation": None,
    "rated_good": 0,
    "rated_bad": 0,
    "share_good": None,
}


def figures(**changes: object) -> dict[str, object]:
    return {**_ZERO, **changes}


# By day in Paris. Opened (by start): 03-27 t1; 03-28 t2 t3; 03-29 t5 t11; 03-30 t4 t7.
# Ended (by close): 03-27 t6; 03-28 t1; 03-29 t3 t11 (closed) t2 (expired); 03-30 t5.
EXPECTED_DAYS = [
    ("2026-03-27", figures(
        opened=1, answered=1, first_response_median_seconds=60.0,
        first_response_p90_seconds=60.0, visitor_messages=2, agent_messages=1,
        messages_per_conversation=3.0, closed=1, resolution_median_seconds=5460.0,
        resolution_p90_seconds=5460.0,
    )),
    ("2026-03-28", figures(
        opened=2, answered=1, missed=1, first_response_median_seconds=30.0,
        first_response_p90_seconds=30.0, visitor_messages=4, agent_messages=2,
        messages_per_conversation=3.0, closed=1, resolution_median_seconds=2400.0,
        resolution_p90_seconds=2400.0, rated_good=1, share_good=1.0,
    )),
    # Resolutions 1200 and 10800: median 6000, p90 1200 + 0.9 * 9600 = 9840.
    ("2026-03-29", figures(
        opened=2, answered=1, missed=1, first_response_median_seconds=600.0,
        first_response_p90_seconds=600.0, visitor_messages=4, agent_messages=3,
        messages_per_conversation=3.5, closed=2, expired=1, resolution_median_seconds=6000.0,
        resolution_p90_seconds=9840.0, rated_bad=1, share_good=0.0,
    )),
    ("2026-03-30", figures(
        opened=2, answered=1, first_response_median_seconds=120.0,
        first_response_p90_seconds=120.0, visitor_messages=2, agent_messages=1,
        messages_per_conversation=1.5, closed=1, resolution_median_seconds=1800.0,
        resolution_p90_seconds=1800.0,
    )),
]  # fmt: skip
# First responses 30, 60, 120, 600: median 90, p90 at rank 2.7: 120 + 0.7 * 480 = 456.
# Resolutions 1200, 1800, 2400, 5460, 10800: median 2400, p90 at rank 3.6: 5460 + 0.6 * 5340.
# Messages 12 + 7 over 7 conversations: 2.71.
EXPECTED_TOTAL = figures(
    opened=7, answered=4, missed=2, first_response_median_seconds=90.0,
    first_response_p90_seconds=456.0, visitor_messages=12, agent_messages=7,
    messages_per_conversation=2.71, closed=5, expired=1, resolution_median_seconds=2400.0,
    resolution_p90_seconds=8664.0, rated_good=1, rated_bad=1, share_good=0.5,
)  # fmt: skip
# Weeks from Monday: 03-23 (clipped to 03-27: 03-27 .. 03-29) and 03-30.
EXPECTED_WEEKS = [
    ("2026-03-27", 5, 4, 1),
    ("2026-03-30", 2, 1, 0),
]  # start, opened, closed, expired
# The same window cut in UTC days: t2 moves to 03-27, t4 to 03-29, and t9 comes in on 03-30.
EXPECTED_UTC_OPENED = [2, 1, 3, 2]
# By agent: Ada holds t1 t4 t5 (and t6, closed in the window), Bob t3 t11, nobody t2 t7.
# Ada's first responses 60, 120, 600: p90 at rank 1.8: 120 + 0.8 * 480 = 504.
EXPECTED_BY_AGENT = [
    ("a", figures(
        opened=3, answered=3, first_response_median_seconds=120.0,
        first_response_p90_seconds=504.0, visitor_messages=5, agent_messages=5,
        messages_per_conversation=3.33, closed=3, resolution_median_seconds=2400.0,
        resolution_p90_seconds=4848.0, rated_good=1, share_good=1.0,
    )),
    ("b", figures(
        opened=2, answered=1, missed=1, first_response_median_seconds=30.0,
        first_response_p90_seconds=30.0, visitor_messages=5, agent_messages=2,
        messages_per_conversation=3.5, closed=2, resolution_median_seconds=6000.0,
        resolution_p90_seconds=9840.0, rated_bad=1, share_good=0.0,
    )),
    (None, figures(
        opened=2, missed=1, visitor_messages=2, messages_per_conversation=1.0, expired=1,
    )),
]  # fmt: skip


@dataclass(frozen=True)
class FixtureIds:
    spaces: dict[str, str]  # "s1", "s2", "other"
    agents: dict[str, str]  # "a", "b"
    group: str
    threads: dict[str, str]


def write_conversations(url: str, ids: FixtureIds) -> dict[str, str]:
    """Every conversation of CONVERSATIONS as the projector would have written it; thread ids
    by name."""
    made: dict[str, str] = {}
    with psycopg.connect(url) as conn:
        for n, c in enumerate(CONVERSATIONS):
            made[c.name] = _write(conn, ids, c, n)
        # Ratings, by their time: t1 good on 03-28 01:00 CET, t3 bad on 03-29 04:00 CEST.
        for name, score, at in (("t1", "good", "03-28 00:00"), ("t3", "bad", "03-29 02:00")):
            conn.execute(
                "INSERT INTO ratings (thread_id, space_id, visitor_id, agent_id, score,"
                " client_id, entry_ms, entry_seq, created_at) SELECT id, space_id, visitor_id,"
                " assigned_agent_id, %s, 'r1', 1, 0, %s FROM threads WHERE id = %s",
                (score, _at(at), made[name]),
            )
    return made


def _write(conn: psycopg.Connection, ids: FixtureIds, c: Conversation, n: int) -> str:
    thread_id, visitor_id = str(uuid.uuid4()), str(uuid.uuid4())
    created = _at(c.created)
    closed = _at(c.closed) if c.closed else None
    space = ids.spaces[c.space]
    agent = ids.agents[c.agent] if c.agent else None
    conn.execute(
        "INSERT INTO threads (id, space_id, visitor_id, assigned_agent_id, status,"
        " last_activity_at, created_at, closed_at, group_id, deleted_at, entry_ms, entry_seq)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 0)",
        (
            thread_id, space, visitor_id, agent, c.status, closed or created, created, closed,
            ids.group if c.group else None, created if c.deleted else None, n,
        ),
    )  # fmt: skip
    # The visitor's first message opens it; the agent's first comes `first_answer_after` later;
    # the rest follow a second apart; t5 also has a system message (never counted).
    times: list[tuple[str, datetime]] = [("visitor", created)]
    if c.first_answer_after is not None:
        times.append(("agent", created + timedelta(seconds=c.first_answer_after)))
    last = times[-1][1]
    rest = ["visitor"] * (c.visitor_messages - 1) + ["agent"] * (c.agent_messages - len(times) + 1)
    for k, kind in enumerate(rest, start=1):
        times.append((kind, last + timedelta(seconds=k)))
    if c.name == "t5":
        times.append(("system", last + timedelta(seconds=len(rest) + 1)))
    for seq, (kind, at) in enumerate(times):
        sender = visitor_id if kind == "visitor" else (agent or "system")
        conn.execute(
            "INSERT INTO messages (thread_id, id_ms, id_seq, space_id, sender_type, sender_id,"
            " sender_name, content, client_id, created_at) VALUES (%s, %s, %s, %s, %s, %s,"
            " %s, %s, %s, %s)",
            (thread_id, int(at.timestamp() * 1000), seq, space, kind, sender, kind, "hi",
             f"c{seq}", at),
        )  # fmt: skip
    return thread_id


async def set_up(org: Org, database_url: str) -> tuple[Member, Org, FixtureIds]:
    """`org` in Europe/Paris with a second agent (Bob), a second space (Help) and a group
    (Sales); another organization; and the conversations written. Returns Bob, the other
    organization and the ids."""
    api = f"{org.base}/api/v1"
    other = await make_org(org.base)
    zone = await call("PATCH", f"{api}/organization", {"time_zone": TIME_ZONE}, token=org.token)
    assert zone.status == 200 and zone.body["time_zone"] == TIME_ZONE, zone.body
    bob = await add_member(api, org.token)
    s2 = await call(
        "POST", f"{api}/spaces", {"name": "Help", "allowed_domains": ["x.test"]}, token=org.token
    )
    group = await call("POST", f"{api}/groups", {"name": "Sales"}, token=org.token)
    assert s2.status == 201 and group.status == 201, (s2.body, group.body)
    ids = FixtureIds(
        spaces={"s1": org.space["id"], "s2": s2.body["id"], "other": other.space["id"]},
        agents={"a": org.agent["id"], "b": bob.agent["id"]},
        group=group.body["id"],
        threads={},
    )
    write_conversations(database_url, ids)
    return bob, other, ids
