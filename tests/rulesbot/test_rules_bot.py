"""The built-in rules bot end to end through one server: it greets with buttons, answers a
quick reply from its knowledge base, collects the name and the email (stored on the visitor,
as the widget's identify stores them), hands over, and a person takes the conversation with its
history; misses make it give up; a replayed log answers nothing twice."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from chat.config import Settings
from chat.streams.client import open_redis
from chat.streams.keys import RULES_BOT_GROUP
from chat.streams.log import StreamLog
from tests.bots.helpers import make_bot, route_space_to_bot
from tests.helpers.api import add_member
from tests.helpers.chat import Client, Org, agent_socket, make_org, widget
from tests.helpers.db import POLL_SECONDS
from tests.helpers.http import call
from tests.helpers.streams import wait_projected

RULES = {
    "greeting": "Hi, I'm Shopbot. What can I do for you?",
    "buttons": [{"label": "Pricing"}, {"label": "Contact the team", "handover": True}],
    "knowledge": [{"keywords": ["pricing", "price", "cost"], "answer": "Plans start at 10 EUR."}],
    "fallback": "Sorry, I did not get that.",
    "max_misses": 2,
    "ask_name": "Your name, please?",
    "ask_email": "And your email?",
    "handover_text": "Passing you to the team now.",
}
BUTTONS = [{"label": "Pricing"}, {"label": "Contact the team"}]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"router_pass_seconds": 0.3})


async def _rules_bot(org: Org, rules: dict[str, Any] = RULES) -> str:
    bot_id = str((await make_bot(org, "Shopbot")).bot["id"])
    put = await call("PUT", f"{org.base}/api/v1/bots/{bot_id}/rules", rules, token=org.token)
    assert put.status == 200, put.body
    await route_space_to_bot(org, bot_id)
    return bot_id


async def _bot_says(visitor: Client, bot_id: str) -> dict[str, Any]:
    frame = await visitor.expect("message", sender_type="agent")
    assert frame["sender_id"] == bot_id and frame["sender_name"] == "Shopbot"
    return frame


async def test_greets_answers_collects_and_hands_over_with_the_history(
    base_url: str, settings: Settings
) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        bot_id = await _rules_bot(org)
        human = await add_member(api, org.token, "Hana")
        async with (
            agent_socket(base_url, human.token, subscribe=org.space["id"]) as (person, _),
            widget(org) as (visitor, _),
        ):
            thread_id = (await visitor.say("hello"))["thread_id"]
            greeting = await _bot_says(visitor, bot_id)
            assert greeting["content"] == RULES["greeting"]
            assert greeting["quick_replies"] == BUTTONS
            await visitor.say("Pricing")  # what pressing the button sends
            answer = await _bot_says(visitor, bot_id)
            assert (answer["content"], answer["quick_replies"]) == (
                "Plans start at 10 EUR.",
                BUTTONS,
            )
            await visitor.say("Contact the team")
            assert (await _bot_says(visitor, bot_id))["content"] == "Your name, please?"
            await visitor.say("Ada Lovelace")
            assert (await _bot_says(visitor, bot_id))["content"] == "And your email?"
            await visitor.say("ada@example.com")
            bye = await _bot_says(visitor, bot_id)
            assert bye["content"] == "Passing you to the team now." and "quick_replies" not in bye
            handed = await person.expect("thread.updated", change="handed_over")
            assert handed["reason"] == "visitor_asked" and handed["by"] == bot_id
            assert "Ada Lovelace" in handed["note"] and "ada@example.com" in handed["note"]
            await person.send({"type": "claim", "thread_id": thread_id})
            await person.expect("ack", ref="claim")
            await person.say("Hi Ada, Hana here.", thread_id=thread_id)
            await visitor.expect("message", content="Hi Ada, Hana here.")
        async with open_redis(settings.redis_url) as redis:  # the visitor row is PostgreSQL's
            await wait_projected(StreamLog(redis, settings.key_prefix, "written"), org.space["id"])
        thread = await call("GET", f"{api}/threads/{thread_id}", token=human.token)
        assert thread.body["visitor"]["name"] == "Ada Lovelace"
        assert thread.body["visitor"]["email"] == "ada@example.com"
        history = await call("GET", f"{api}/threads/{thread_id}/messages", token=human.token)
        said = [(m["sender_type"], m["content"]) for m in history.body["items"]]
        assert said == [
            ("visitor", "hello"),
            ("agent", RULES["greeting"]),
            ("visitor", "Pricing"),
            ("agent", "Plans start at 10 EUR."),
            ("visitor", "Contact the team"),
            ("agent", "Your name, please?"),
            ("visitor", "Ada Lovelace"),
            ("agent", "And your email?"),
            ("visitor", "ada@example.com"),
            ("agent", "Passing you to the team now."),
            ("agent", "Hi Ada, Hana here."),
        ]
        assert history.body["items"][1]["quick_replies"] == BUTTONS


async def test_an_opening_question_is_answered_and_misses_give_up(base_url: str) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        bot_id = await _rules_bot(org, {**RULES, "collect_name": False, "collect_email": False})
        async with (
            agent_socket(base_url, org.token, subscribe=org.space["id"]) as (admin, _),
            widget(org) as (visitor, _),
        ):
            await visitor.say("What does it cost?")
            assert (await _bot_says(visitor, bot_id))["content"] == RULES["greeting"]
            assert (await _bot_says(visitor, bot_id))["content"] == "Plans start at 10 EUR."
            await visitor.say("blue whales")
            assert (await _bot_says(visitor, bot_id))["content"] == "Sorry, I did not get that."
            await visitor.say("purple whales")
            assert (await _bot_says(visitor, bot_id))["content"] == "Passing you to the team now."
            handed = await admin.expect("thread.updated", change="handed_over")
            assert handed["reason"] == "requested"


async def test_asking_for_a_person_in_words_hands_over_at_once(base_url: str) -> None:
    """The service's own rule for every bot (chat/commands/bots.py): the words of a person asked
    for hand over before the rules bot reads the message; it says nothing after."""
    with trio.fail_after(60):
        org = await make_org(base_url)
        bot_id = await _rules_bot(org)
        async with (
            agent_socket(base_url, org.token, subscribe=org.space["id"]) as (admin, _),
            widget(org) as (visitor, _),
        ):
            await visitor.say("hi")
            await _bot_says(visitor, bot_id)
            thread_id = (await visitor.say("I want to talk to a human"))["thread_id"]
            handed = await admin.expect("thread.updated", change="handed_over")
            assert handed["reason"] == "visitor_asked"
            await admin.send({"type": "claim", "thread_id": thread_id})
            await admin.expect("ack", ref="claim")
            await admin.say("A human here.", thread_id=thread_id)
            last = await visitor.expect("message", sender_type="agent")
            assert last["content"] == "A human here."  # no bot message came in between


async def test_a_replayed_log_answers_nothing_twice(base_url: str, settings: Settings) -> None:
    """The bot's consumer group rewound to the start (as after a crash before its acks): every
    trigger is handled again, and no answer is stored twice, no second handover."""
    with trio.fail_after(60):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        bot_id = await _rules_bot(org, {**RULES, "collect_name": False, "collect_email": False})
        async with widget(org) as (visitor, _):
            thread_id = (await visitor.say("hello"))["thread_id"]
            await _bot_says(visitor, bot_id)
            await visitor.say("Pricing")
            await _bot_says(visitor, bot_id)
            await visitor.say("Contact the team")
            await _bot_says(visitor, bot_id)
        async with open_redis(settings.redis_url) as redis:
            log = StreamLog(redis, settings.key_prefix, "written")
            events = log.keys(org.space["id"]).events
            before = await log.read_range(log.keys(org.space["id"]).thread(thread_id), None, 100)
            await redis.xgroup_setid(events, RULES_BOT_GROUP, "0")
            await _wait_handled(log, events)
            after = await log.read_range(log.keys(org.space["id"]).thread(thread_id), None, 100)
        assert [e.id for e in after] == [e.id for e in before]
        history = await call("GET", f"{api}/threads/{thread_id}/messages", token=org.token)
        assert [m["sender_type"] for m in history.body["items"]] == ["visitor", "agent"] * 3


async def _wait_handled(log: StreamLog, events: str) -> None:
    """Until the bot's group has read every entry and acked them (its work is done by then)."""
    while True:
        groups = await log.redis.xinfo_groups(events)
        mine = next(g for g in groups if str(g["name"]) == RULES_BOT_GROUP)
        if mine["lag"] == 0 and mine["pending"] == 0:
            return
        await trio.sleep(POLL_SECONDS)
