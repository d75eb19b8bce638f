"""`chat dead-letters list|replay|drop` against a live service: an entry PostgreSQL refused is
listed, stays while it is still refused, lands under its own id once the cause is fixed, and
one that can never land is dropped."""

from __future__ import annotations

import psycopg
import trio

from chat.config import Settings
from chat.streams.client import open_redis
from chat.streams.log import StreamLog
from tests.helpers.chat import make_org, widget
from tests.helpers.db import wait_for_messages, wait_for_rows
from tests.helpers.ops import chat
from tests.helpers.streams import append_poison, wait_projected

REFUSED = "refused by a constraint"


def _alter(url: str, sql: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


async def test_a_refused_message_is_listed_kept_and_replayed_once_fixed(
    base_url: str, settings: Settings
) -> None:
    url = settings.database_url
    with trio.fail_after(90):
        org = await make_org(base_url)
        # A rule PostgreSQL enforces and the log does not: the projector's write is refused.
        await trio.to_thread.run_sync(
            _alter, url, f"ALTER TABLE messages ADD CONSTRAINT ops_t CHECK (content <> '{REFUSED}')"
        )
        async with widget(org) as (visitor, _):
            refused = await visitor.say(REFUSED)
            landed = await visitor.say("this one lands")
        await wait_for_messages(url, landed["thread_id"], 1)

        listed = (await chat(settings, "dead-letters", "list", "--json")).json()
        assert [d["entry"] for d in listed] == [refused["id"]]
        assert "ops_t" in listed[0]["reason"] and listed[0]["data"]["content"] == REFUSED
        text = await chat(settings, "dead-letters", "list", org.space["widget_key"])
        assert refused["id"] in text.out and "message" in text.out

        # Still refused: kept, and the exit code says not everything was done.
        again = await chat(settings, "dead-letters", "replay", "Shop", listed[0]["id"])
        assert again.code == 1 and "kept: PostgreSQL refused it again" in again.out

        await trio.to_thread.run_sync(_alter, url, "ALTER TABLE messages DROP CONSTRAINT ops_t")
        done = await chat(settings, "dead-letters", "replay", org.space["id"], "--all", "--json")
        assert done.json() == [
            {"id": listed[0]["id"], "entry": refused["id"], "result": "replayed"}
        ]
        ms, seq = refused["id"].split("-")
        await wait_for_rows(
            url,
            "SELECT content FROM messages WHERE thread_id = %s AND id_ms = %s AND id_seq = %s",
            (refused["thread_id"], int(ms), int(seq)),
            REFUSED,
        )
        assert (await chat(settings, "dead-letters", "list", "Shop", "--json")).json() == []


async def test_an_entry_that_can_never_land_is_dropped(base_url: str, settings: Settings) -> None:
    with trio.fail_after(90):
        org = await make_org(base_url)
        space_id = org.space["id"]
        async with open_redis(settings.redis_url) as redis:
            log = StreamLog(redis, settings.key_prefix, "written")
            poison = await append_poison(log, space_id)
            await wait_projected(log, space_id)
        listed = (await chat(settings, "dead-letters", "list", space_id, "--json")).json()
        assert [d["entry"] for d in listed] == [poison]

        unknown = await chat(settings, "dead-letters", "drop", space_id, "1-1")
        assert unknown.code == 2 and "no dead letter '1-1'" in unknown.err
        missing = await chat(settings, "dead-letters", "drop", space_id)
        assert missing.code == 2 and "--all" in missing.err

        dropped = await chat(settings, "dead-letters", "drop", space_id, listed[0]["id"])
        assert dropped.code == 0 and "dropped" in dropped.out
        assert (await chat(settings, "dead-letters", "list", "--json")).json() == []
