"""`chat inspect space|thread|visitor` against a live service: what it shows, how it finds a
space (id, name, widget key), its one-line refusals, and that reading writes nothing."""

from __future__ import annotations

import uuid

import trio

from chat.config import Settings
from chat.streams.client import open_redis
from tests.helpers.chat import make_org, widget
from tests.helpers.db import create_space, wait_for_messages
from tests.helpers.ops import chat


async def test_a_space_by_name_and_by_widget_key_shows_its_entries_and_groups(
    base_url: str, settings: Settings
) -> None:
    with trio.fail_after(90):
        org = await make_org(base_url)
        async with widget(org) as (visitor, _):
            first = await visitor.say("hello from the widget")
            await visitor.say("and again")
        await wait_for_messages(settings.database_url, first["thread_id"], 2)

        by_name = await chat(settings, "inspect", "space", "shop")  # case-insensitive
        assert by_name.code == 0, by_name.err
        assert org.space["id"] in by_name.out and org.space["widget_key"] in by_name.out
        assert "hello from the widget" in by_name.out and "and again" in by_name.out
        assert "group projector" in by_name.out and "open threads: 1" in by_name.out

        report = (
            await chat(settings, "inspect", "space", org.space["widget_key"], "--json")
        ).json()
        assert report["space"]["id"] == org.space["id"]
        assert report["open_threads"] == 1 and report["waiting"] == 1
        kinds = [e["kind"] for e in report["recent"]]
        assert kinds[-3:] == ["thread.opened", "message", "message"]
        assert report["recent"][-2]["id"] == first["id"]
        assert report["recent"][-2]["data"]["content"] == "hello from the widget"
        projector = next(g for g in report["groups"] if g["name"] == "projector")
        assert projector["pending"] == 0 and projector["consumers"]


async def test_a_thread_and_its_visitor_show_state_rows_and_projection(
    base_url: str, settings: Settings
) -> None:
    with trio.fail_after(90):
        org = await make_org(base_url)
        async with widget(org) as (visitor, welcome):
            ack = await visitor.say("where is my order?")
        await wait_for_messages(settings.database_url, ack["thread_id"], 1)

        thread = (await chat(settings, "inspect", "thread", ack["thread_id"], "--json")).json()
        assert thread["space"]["id"] == org.space["id"]
        assert thread["log_state"]["status"] == "unassigned"
        assert thread["postgresql"]["status"] == "unassigned"
        assert thread["postgresql"]["messages"] == 1
        message = next(e for e in thread["recent"] if e["id"] == ack["id"])
        assert message["projector"] == "projected"

        text = await chat(settings, "inspect", "thread", ack["thread_id"])
        assert text.code == 0 and "where is my order?" in text.out and "projected" in text.out

        visitor_id = welcome["visitor"]["id"]
        found = (await chat(settings, "inspect", "visitor", visitor_id, "--json")).json()
        assert found["log_state"]["thread"] == ack["thread_id"]
        assert [t["id"] for t in found["threads"]] == [ack["thread_id"]]
        assert found["current_thread"] == ack["thread_id"]
        assert any(e["id"] == ack["id"] for e in found["recent"])


async def test_unknown_ids_and_ambiguous_names_are_one_line_and_exit_2(
    base_url: str, settings: Settings
) -> None:
    with trio.fail_after(90):
        await make_org(base_url)
        await make_org(base_url)  # a second organization with a space named Shop too
        for args, says in [
            (("inspect", "space", "Shop"), "2 spaces are named 'Shop'"),
            (("inspect", "space", "nowhere"), "no space has the id, widget key or name"),
            (("inspect", "thread", str(uuid.uuid4())), "no thread"),
            (("inspect", "visitor", "not-an-id"), "no visitor 'not-an-id'"),
        ]:
            done = await chat(settings, *args)
            assert done.code == 2, done
            assert done.out == "" and len(done.err.strip().splitlines()) == 1, done.err
            assert says in done.err and "Traceback" not in done.err


async def test_reading_commands_write_nothing(settings: Settings) -> None:
    """No server runs here: whatever keys appear under the prefix, a command made them."""
    with trio.fail_after(90):
        space_id = await trio.to_thread.run_sync(create_space, settings.database_url)
        for args, code in [
            (("inspect", "space", space_id), 0),
            (("inspect", "space", space_id, "--json"), 0),
            (("projector", "status"), 0),
            (("projector", "status", "--json"), 0),
            (("dead-letters", "list"), 0),
            (("inspect", "thread", str(uuid.uuid4())), 2),
        ]:
            done = await chat(settings, *args)
            assert done.code == code, done
        async with open_redis(settings.redis_url) as redis:
            assert await redis.keys(f"{settings.key_prefix}*") == set()
