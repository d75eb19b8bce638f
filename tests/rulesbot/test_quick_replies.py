"""Quick replies: buttons an agent's (a bot's) message offers, bounded at the edge, kept with the
message in the log (the visitor's frame, the history) and in PostgreSQL (REST)."""

from __future__ import annotations

import uuid

import trio

from chat.config import Settings
from tests.bots.helpers import make_bot, route_space_to_bot
from tests.helpers.chat import agent_socket, make_org, widget
from tests.helpers.db import query, wait_for_messages
from tests.helpers.http import call

BUTTONS = [{"label": "Pricing"}, {"label": "Talk to a person"}]


async def test_quick_replies_reach_the_visitor_and_the_history(
    base_url: str, settings: Settings
) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        async with agent_socket(base_url, org.token) as (agent, _):
            async with widget(org) as (visitor, hello):
                ack = await visitor.say("hello")
                thread_id = ack["thread_id"]
                sent = await agent.say(
                    "What can I help with?", thread_id=thread_id, quick_replies=BUTTONS
                )
                shown = await visitor.expect("message", id=sent["id"])
                assert shown["quick_replies"] == BUTTONS
                plain = await agent.say("no buttons here", thread_id=thread_id)
                assert "quick_replies" not in await visitor.expect("message", id=plain["id"])
            async with widget(org, session=hello["session"]) as (_, again):
                by_id = {m["id"]: m for m in again["history"]}
                assert by_id[sent["id"]]["quick_replies"] == BUTTONS
        await wait_for_messages(settings.database_url, thread_id, 3)
        rows = query(
            settings.database_url,
            "SELECT content, quick_replies FROM messages WHERE thread_id = %s"
            " ORDER BY id_ms, id_seq",
            (thread_id,),
        )
        assert rows == [
            ("hello", None),
            ("What can I help with?", BUTTONS),
            ("no buttons here", None),
        ]


async def test_quick_replies_are_bounded_at_the_edge(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        async with agent_socket(base_url, org.token) as (agent, _):
            async with widget(org) as (visitor, _):
                thread_id = (await visitor.say("hello"))["thread_id"]
            for bad in (
                [{"label": f"option {n}"} for n in range(9)],  # more than 8
                [{"label": "x" * 41}],  # longer than 40
                [{"label": "   "}],  # nothing visible
                [],  # an empty list: leave the field out instead
                [{"label": "ok", "url": "https://evil.example"}],  # no other fields
            ):
                client_id = str(uuid.uuid4())
                await agent.send(
                    {
                        "type": "message",
                        "thread_id": thread_id,
                        "client_id": client_id,
                        "content": "pick one",
                        "quick_replies": bad,
                    }
                )
                error = await agent.expect("error")
                assert error["code"] == "invalid", (bad, error)


async def test_a_bot_sends_quick_replies_over_rest(base_url: str) -> None:
    """The bot API's REST side (POST /threads/{id}/messages with a bot token) carries them too,
    bounded the same way."""
    with trio.fail_after(30):
        org = await make_org(base_url)
        account = await make_bot(org)
        await route_space_to_bot(org, account.bot["id"])
        async with widget(org) as (visitor, _):
            thread_id = (await visitor.say("hello"))["thread_id"]
            url = f"{base_url}/api/v1/threads/{thread_id}/messages"
            body = {"client_id": "q1", "content": "Pick one", "quick_replies": BUTTONS}
            sent = await call("POST", url, body, token=account.token)
            assert sent.status == 201, sent.body
            shown = await visitor.expect("message", id=sent.body["id"])
            assert shown["quick_replies"] == BUTTONS
            too_many = {**body, "client_id": "q2", "quick_replies": [{"label": "x"}] * 9}
            refused = await call("POST", url, too_many, token=account.token)
            assert refused.status == 422 and refused.body["error"]["code"] == "invalid"
