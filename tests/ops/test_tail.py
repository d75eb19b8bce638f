"""`chat tail` against a live service: every entry appended after it says it follows, one line
each (JSON with --json), only the kinds asked for, and Ctrl-C ends it cleanly."""

from __future__ import annotations

import json
import signal

import trio

from chat.config import Settings
from tests.helpers.chat import Org, agent_socket, make_org, widget
from tests.helpers.ops import Lines, tail_process


async def test_tail_follows_new_entries_of_the_kinds_asked_for(
    base_url: str, settings: Settings
) -> None:
    with trio.fail_after(90):
        org = await make_org(base_url)
        async with tail_process(settings, "Shop", "--kind", "message,thread.c*", "--json") as tail:
            assert tail.stdout is not None and tail.stderr is not None
            out, err = Lines(tail.stdout), Lines(tail.stderr)
            assert (await err.line()).startswith("following 1 space(s)")
            async with widget(org) as (visitor, _):
                acks = [await visitor.say("one"), await visitor.say("two")]
                await visitor.send({"type": "typing", "active": True})  # not asked for
                claim = await _claim(org, acks[0]["thread_id"])
            lines = [json.loads(await out.line()) for _ in range(3)]
            tail.send_signal(signal.SIGINT)
            assert await tail.wait() == 0
        # thread.opened and typing were filtered out; the claim matched thread.c*.
        assert [(e["kind"], e["id"]) for e in lines] == [
            ("message", acks[0]["id"]),
            ("message", acks[1]["id"]),
            ("thread.claimed", claim),
        ]
        assert lines[0]["data"]["content"] == "one" and lines[0]["space_name"] == "Shop"
        assert lines[0]["space_id"] == org.space["id"]


async def test_tail_of_every_space_prints_readable_lines(base_url: str, settings: Settings) -> None:
    """--last 1 prints the newest entry first; a space made after the tail began is followed
    too (at the tail's next look at the spaces, within 5 s)."""
    with trio.fail_after(90):
        org = await make_org(base_url)
        async with widget(org) as (visitor, _):
            earlier = await visitor.say("before the tail")
        async with tail_process(settings, "--last", "1") as tail:
            assert tail.stdout is not None and tail.stderr is not None
            out, err = Lines(tail.stdout), Lines(tail.stderr)
            assert (await err.line()).startswith("following 1 space(s)")
            assert earlier["id"] in await out.line()
            async with widget(org) as (visitor, _):
                ack = await visitor.say("hello   there")
            opened, message = await out.line(), await out.line()
            other = await make_org(base_url)
            async with widget(other) as (visitor, _):
                elsewhere = await visitor.say("in a new space")
            lines = [await out.line(), await out.line()]
            tail.send_signal(signal.SIGINT)
            assert await tail.wait() == 0
        assert "Shop" in opened and "thread.opened" in opened
        assert message.split()[1:4] == [ack["id"], "Shop", "message"]
        assert message.endswith(f"thread={ack['thread_id']} visitor Visitor: hello there")
        assert elsewhere["id"] in lines[1] and "in a new space" in lines[1]


async def _claim(org: Org, thread_id: str) -> str:
    """Claim from an agent's socket; the claim's entry id (its event's cursor)."""
    async with agent_socket(org.base, org.token, subscribe=org.space["id"]) as (agent, _):
        await agent.send({"type": "claim", "thread_id": thread_id})
        frame = await agent.expect("thread.updated")
        return str(frame["cursor"])
