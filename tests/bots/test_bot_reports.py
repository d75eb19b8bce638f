"""Reports separate bots' answers from people's (README "Reports" and "Bots"): a hand-computed
fixture of four conversations, written as the projector would (the rollup's trigger tells a
bot's messages from a person's by the sender's kind)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import trio

from chat.config import Settings
from tests.bots.helpers import make_bot
from tests.helpers.chat import make_org
from tests.helpers.http import call

DAY = datetime(2026, 3, 10, tzinfo=UTC)


def _write(url: str, space: str, people: str, bot: str) -> None:
    """c1: the bot answers after 2 s, a person after 100 s, closed. c2: the bot after 4 s and no
    person, closed (bot only, not missed). c3: nobody, expired (missed). c4: a person after
    60 s, still active."""
    plan = [
        ("closed", 10, [(bot, 2), (people, 100)]),
        ("closed", 11, [(bot, 4)]),
        ("expired", 12, []),
        ("active", 13, [(people, 60)]),
    ]
    with psycopg.connect(url) as conn:
        for n, (status, hour, answers) in enumerate(plan):
            thread, visitor = uuid.uuid4(), uuid.uuid4()
            start = DAY + timedelta(hours=hour)
            closed = start + timedelta(minutes=30) if status != "active" else None
            conn.execute(
                "INSERT INTO threads (id, space_id, visitor_id, assigned_agent_id, status,"
                " last_activity_at, created_at, closed_at, entry_ms, entry_seq)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, 0)",
                (thread, space, visitor, people, status, start, start, closed, n),
            )
            said = [("visitor", str(visitor), 0)]
            said += [("agent", sender, after) for sender, after in answers]
            for seq, (kind, sender, after) in enumerate(said):
                conn.execute(
                    "INSERT INTO messages (thread_id, id_ms, id_seq, space_id, sender_type,"
                    " sender_id, sender_name, content, client_id, created_at) VALUES (%s, %s,"
                    " %s, %s, %s, %s, 'x', 'hi', %s, %s)",
                    (
                        thread,
                        n,
                        seq,
                        space,
                        kind,
                        sender,
                        f"c{seq}",
                        start + timedelta(seconds=after),
                    ),
                )


async def test_bot_answers_are_counted_apart_from_peoples(
    base_url: str, settings: Settings
) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        account = await make_bot(org)
        _write(settings.database_url, org.space["id"], org.agent["id"], account.bot["id"])
        reply = await call(
            "GET",
            f"{base_url}/api/v1/reports/conversations?from=2026-03-10&to=2026-03-10",
            token=org.token,
        )
        assert reply.status == 200, reply.body
        total = reply.body["total"]
        # People: c1 (100 s) and c4 (60 s): median 80, p90 60 + 0.9 * 40 = 96.
        # Bots: c1 (2 s) and c2 (4 s): median 3, p90 2 + 0.9 * 2 = 3.8. Missed: c3 only.
        assert {k: total[k] for k in total if k not in ("closed", "expired")} == {
            "opened": 4,
            "answered": 2,
            "missed": 1,
            "first_response_median_seconds": 80.0,
            "first_response_p90_seconds": 96.0,
            "visitor_messages": 4,
            "agent_messages": 2,
            "bot_answered": 2,
            "bot_only": 1,
            "bot_first_response_median_seconds": 3.0,
            "bot_first_response_p90_seconds": 3.8,
            "bot_messages": 2,
            "resolution_median_seconds": 1800.0,
            "resolution_p90_seconds": 1800.0,
            "messages_per_conversation": 2.0,
            "rated_good": 0,
            "rated_bad": 0,
            "share_good": None,
        }
        assert (total["closed"], total["expired"]) == (2, 1)
