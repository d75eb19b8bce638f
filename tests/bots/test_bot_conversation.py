"""A conversation that starts with an external bot (a client written here against the
documented agent WebSocket) and lands with a person, its history intact: by the visitor asking,
by the bot's REST call, by the bot's silence; and a handover racing a person's claim."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from chat.config import Settings
from tests.bots.helpers import external_bot, make_bot, route_space_to_bot
from tests.helpers.api import add_member
from tests.helpers.chat import agent_socket, make_org, widget
from tests.helpers.http import call
from tests.routing.helpers import make_team, online


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"router_pass_seconds": 0.3})


async def test_the_bot_answers_first_and_the_visitor_asking_for_a_person_gets_one(
    base_url: str,
) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        account = await make_bot(org)
        bot_id = account.bot["id"]
        await route_space_to_bot(org, bot_id)
        human = await add_member(api, org.token, "Hana")
        space = org.space["id"]
        async with (
            agent_socket(base_url, human.token, subscribe=space) as (person, _),
            external_bot(base_url, account.token) as bot,
            widget(org) as (visitor, _),
        ):
            ack = await visitor.say("Where is my order?")
            thread_id = ack["thread_id"]
            # Bot first: assigned in the opening step, by strategy "bot".
            assigned = await person.expect("thread.updated", change="assigned")
            assert assigned["agent_id"] == bot_id and assigned["strategy"] == "bot"
            assert assigned["thread"]["bot_agent_id"] == bot_id
            answer = await visitor.expect("message", sender_type="agent")
            assert answer["sender_id"] == bot_id
            assert answer["content"] == "Bot answer 1 to: Where is my order?"
            # The agents see whose it was: the bot's row says kind "bot".
            agents = await call("GET", f"{api}/agents", token=human.token)
            kinds = {a["id"]: a["kind"] for a in agents.body["items"]}
            assert kinds[bot_id] == "bot" and kinds[human.agent["id"]] == "human"

            await visitor.say("Can I talk to a human, please?")
            handed = await person.expect("thread.updated", change="handed_over")
            assert handed["reason"] == "visitor_asked"
            assert handed["agent_id"] == bot_id and handed["by"] is None
            assert handed["thread"]["status"] == "unassigned"
            assert handed["thread"]["assigned_agent_id"] is None
            while not bot.handed_over:
                await bot.wait()
            assert bot.handed_over[0]["thread"]["id"] == thread_id

            await person.send({"type": "claim", "thread_id": thread_id})
            claimed = await person.expect("ack", ref="claim")
            assert claimed["thread"]["assigned_agent_id"] == human.agent["id"]
            await person.send(
                {"type": "message", "thread_id": thread_id, "client_id": "p1", "content": "Hana"}
            )
            hello = await visitor.expect("message", sender_type="agent", content="Hana")
            assert hello["sender_id"] == human.agent["id"]
        history = await call("GET", f"{api}/threads/{thread_id}/messages", token=human.token)
        said = [(m["sender_id"], m["content"]) for m in history.body["items"]]
        visitor_id = said[0][0]
        assert said[:3] == [
            (visitor_id, "Where is my order?"),
            (bot_id, "Bot answer 1 to: Where is my order?"),
            (visitor_id, "Can I talk to a human, please?"),
        ]
        assert said[-1] == (human.agent["id"], "Hana")


async def test_the_bot_hands_over_by_rest_and_then_holds_nothing(base_url: str) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        account = await make_bot(org)
        bot_id = account.bot["id"]
        await route_space_to_bot(org, bot_id)
        async with widget(org) as (visitor, _):
            ack = await visitor.say("I need a refund")
            thread_id = ack["thread_id"]
            # A bot working by REST: it writes, then hands over with a note.
            wrote = await call(
                "POST",
                f"{api}/threads/{thread_id}/messages",
                {"client_id": "b1", "content": "Let me find someone for that."},
                token=account.token,
            )
            assert wrote.status == 201, wrote.body
            again = await call(
                "POST",
                f"{api}/threads/{thread_id}/messages",
                {"client_id": "b1", "content": "Let me find someone for that."},
                token=account.token,
            )
            assert again.body["id"] == wrote.body["id"]  # stored once
            await visitor.expect("message", sender_type="agent")
            handed = await call(
                "POST",
                f"{api}/threads/{thread_id}/handover",
                {"reason": "wants a refund over 100 EUR"},
                token=account.token,
            )
            assert handed.status == 200, handed.body
            assert handed.body["status"] == "unassigned"
            assert handed.body["bot_agent_id"] == bot_id
            twice = await call(
                "POST", f"{api}/threads/{thread_id}/handover", {}, token=account.token
            )
            assert twice.status == 409 and twice.body["error"]["code"] == "already_claimed"
            # The visitor's thread frame: waiting for a person again.
            waiting = await visitor.expect("thread")
            while waiting["thread"]["status"] != "unassigned":
                waiting = await visitor.expect("thread")
            assert "bot_agent_id" not in waiting["thread"]


async def test_a_silent_bot_gives_up_after_three_unanswered_messages(base_url: str) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        account = await make_bot(org)
        await route_space_to_bot(org, account.bot["id"])
        space = org.space["id"]
        async with (
            agent_socket(base_url, org.token, subscribe=space) as (admin, _),
            widget(org) as (visitor, _),
        ):
            for n in range(3):
                await visitor.say(f"hello? {n}")
            handed = await admin.expect("thread.updated", change="handed_over")
            assert handed["reason"] == "unanswered"


async def _race(api: str, thread_id: str, bot_token: str, person_token: str) -> dict[str, Any]:
    """A handover by the bot and a claim by a person, sent at once; their replies by name."""
    replies: dict[str, Any] = {}

    async def send(name: str, path: str, token: str) -> None:
        replies[name] = await call("POST", f"{api}/threads/{thread_id}/{path}", {}, token=token)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(send, "handover", "handover", bot_token)
        nursery.start_soon(send, "claim", "claim", person_token)
    return replies


async def test_a_handover_and_a_claim_at_once_have_one_winner(base_url: str) -> None:
    """Each round: the bot hands over while a person claims. Either the claim took the bot's
    conversation (the handover is then 409: a person holds it), or the handover came first and
    the claim took it from the queue; the person holds it in the end, never the bot."""
    with trio.fail_after(120):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        account = await make_bot(org)
        await route_space_to_bot(org, account.bot["id"])
        human = await add_member(api, org.token, "Hana")
        for n in range(8):
            async with widget(org) as (visitor, _):
                thread_id = (await visitor.say(f"race {n}"))["thread_id"]
            replies = await _race(api, thread_id, account.token, human.token)
            claim, handover = replies["claim"], replies["handover"]
            assert claim.status == 200, claim.body
            assert handover.status in (200, 409), handover.body
            assert claim.body["assigned_agent_id"] == human.agent["id"]
            assert claim.body["status"] == "active"
            closed = await call("POST", f"{api}/threads/{thread_id}/close", token=human.token)
            assert closed.status == 200


async def test_a_groups_bot_hands_over_by_frame_and_routing_assigns_a_member(
    base_url: str,
) -> None:
    """The group's bot gets the conversation first; its `handover` frame puts it back in the
    queue, where the group's strategy (round_robin) gives it to the member online."""
    with trio.fail_after(60):
        team = await make_team(base_url, 1, "round_robin", cap=3)
        org, member = team.org, team.members[0]
        account = await make_bot(org)
        bot_id = account.bot["id"]
        patched = await call(
            "PATCH", f"{team.api}/groups/{team.group_id}", {"bot_agent_id": bot_id}, token=org.token
        )
        assert patched.status == 200 and patched.body["bot_agent_id"] == bot_id
        space = org.space["id"]
        async with (
            online(team) as [person],
            external_bot(base_url, account.token) as bot,
            widget(org) as (visitor, _),
        ):
            thread_id = (await visitor.say("Do you ship to Norway?"))["thread_id"]
            first = await person.expect("thread.updated", change="assigned")
            assert first["agent_id"] == bot_id and first["thread"]["group_id"] == team.group_id
            await visitor.expect("message", sender_type="agent", sender_id=bot_id)
            await bot.send(
                {"type": "handover", "thread_id": thread_id, "reason": "shipping question"}
            )
            handed = await person.expect("thread.updated", change="handed_over")
            assert (handed["reason"], handed["by"], handed["note"]) == (
                "requested",
                bot_id,
                "shipping question",
            )
            routed = await person.expect("thread.updated", change="assigned")
            assert routed["agent_id"] == member.agent["id"]
            assert routed["strategy"] == "round_robin"
            assert routed["thread"]["id"] == thread_id
            assert space == routed["thread"]["space_id"]
