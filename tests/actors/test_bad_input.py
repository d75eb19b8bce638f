"""Bad visitor input: each is refused without harming the offending session (where the contract
says it goes on) or any other session of the space."""

from __future__ import annotations

import json
import uuid
from typing import Any

import trio
from trio_websocket import ConnectionClosed

from chat.config import Settings
from chat.http.app import WEBSOCKET_MAX_MESSAGE_BYTES
from chat.protocol.inbound import MAX_CONTENT_CHARS
from tests.helpers.chat import Client, agent_socket, make_org, widget
from tests.helpers.db import assert_never_stored, assert_stored_once

ROOMY = {"visitor_messages_per_second": 50, "visitor_burst": 50}


async def _still_works(
    visitor: Client, agent: Client | None = None, text: str = "still here"
) -> None:
    """The session sends a message and gets its ack; a subscribed agent receives it."""
    ack = await visitor.say(text)
    if agent is not None:
        seen = await agent.expect("message", client_id=ack["client_id"])
        assert seen["id"] == ack["id"] and seen["content"] == text


async def _closed_with(client: Client) -> int:
    """Read until the server closes the socket; its close code."""
    try:
        while True:
            await client.next()
    except ConnectionClosed as closed:
        assert closed.reason is not None
        return int(closed.reason.code)


async def test_malformed_frames_are_invalid_and_the_session_goes_on(base_url: str) -> None:
    with trio.fail_after(30):
        # Room for a good message after each bad frame without meeting the rate limit.
        org = await make_org(base_url, settings=ROOMY)
        async with (
            agent_socket(base_url, org.token, subscribe=org.space["id"]) as (agent, _),
            widget(org) as (bad, _),
            widget(org) as (other, _),
        ):
            for raw in (
                "not json",
                '{"type":"nope"}',
                json.dumps({"type": "message", "content": "no client id"}),
                json.dumps({"type": "message", "client_id": "", "content": "empty id"}),
                json.dumps({"type": "message", "client_id": "a b", "content": "bad id"}),
                "[]",
                "",
            ):
                await bad.ws.send_message(raw)
                error = await bad.expect("error")
                assert error["code"] == "invalid", (raw, error)
                assert error["message"]
                await _still_works(bad, agent, f"after {raw!r}")
                await _still_works(other, agent, f"other after {raw!r}")


async def test_too_long_and_blank_content_are_refused_and_not_stored(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        async with (
            agent_socket(base_url, org.token, subscribe=org.space["id"]) as (agent, _),
            widget(org) as (bad, _),
            widget(org) as (other, _),
        ):
            too_long = str(uuid.uuid4())
            # 4001 characters once trimmed (the padding does not count).
            await bad.send({"type": "message", "client_id": too_long, "content": " x" + "y" * 4000})
            error = await bad.expect("error")
            assert error["code"] == "too_long" and error["client_id"] == too_long
            blank = str(uuid.uuid4())
            await bad.send({"type": "message", "client_id": blank, "content": " \n\t  "})
            error = await bad.expect("error")
            assert error["code"] == "invalid" and error["client_id"] == blank
            # PostgreSQL text cannot hold U+0000: refused here, not dead-lettered after the ack.
            nul = str(uuid.uuid4())
            await bad.send({"type": "message", "client_id": nul, "content": "a\u0000b"})
            error = await bad.expect("error")
            assert error["code"] == "invalid" and "NUL" in error["message"], error
            # Exactly 4000 after trimming is fine.
            good = await bad.say("  " + "z" * 4000 + "  ")
            first = await agent.expect("message")
            assert first["client_id"] == good["client_id"], first
            assert first["content"] == "z" * 4000
            await _still_works(other, agent)
            assert not [
                f
                for f in agent.seen
                if f.get("type") == "message" and f.get("client_id") in (too_long, blank, nul)
            ]


async def test_oversized_frame_closes_only_that_socket_with_1009(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        async with (
            agent_socket(base_url, org.token, subscribe=org.space["id"]) as (agent, _),
            widget(org) as (other, _),
        ):
            await _still_works(other, agent, "before")
            async with widget(org) as (bad, _):
                content = "x" * (WEBSOCKET_MAX_MESSAGE_BYTES + 1)
                await bad.ws.send_message(
                    json.dumps({"type": "message", "client_id": "big", "content": content})
                )
                assert await _closed_with(bad) == 1009
            await _still_works(other, agent, "after")
            assert not [f for f in agent.seen if f.get("client_id") == "big"]


async def test_rate_limit_is_per_visitor(base_url: str, settings: Settings) -> None:
    with trio.fail_after(30):
        org = await make_org(
            base_url, settings={"visitor_messages_per_second": 1, "visitor_burst": 3}
        )
        async with (
            agent_socket(base_url, org.token, subscribe=org.space["id"]) as (agent, _),
            widget(org) as (fast, _),
            widget(org) as (other, _),
        ):
            ids = [str(uuid.uuid4()) for _ in range(6)]
            for n, client_id in enumerate(ids):
                await fast.send({"type": "message", "client_id": client_id, "content": f"m{n}"})
            answers: dict[str, dict[str, Any]] = {}
            while len(answers) < len(ids):
                frame = await fast.next()
                if frame["type"] in ("ack", "error"):
                    assert frame.get("client_id") in ids, frame
                    answers[frame["client_id"]] = frame
            assert [answers[i]["type"] for i in ids[:3]] == ["ack"] * 3, answers
            limited = [i for i in ids[3:] if answers[i]["type"] == "error"]
            assert limited, answers
            assert all(answers[i]["code"] == "rate_limited" for i in limited), answers
            # Another visitor of the same space has its own bucket: it may send at once.
            ack = await other.say("my own bucket")
            seen = await agent.expect("message", client_id=ack["client_id"])
            assert seen["id"] == ack["id"]
            # Nothing rate limited was stored.
            await assert_never_stored(
                settings.database_url, limited, after=ack["client_id"], timeout=15
            )
            assert not [f for f in agent.seen if f.get("client_id") in limited]


async def _flood(client: Client, frames: int) -> int:
    """Send `frames` pings without awaiting the pongs; the close code the client is told."""
    try:
        for _ in range(frames):
            await client.send({"type": "ping"})
    except ConnectionClosed as closed:  # closed while still sending
        assert closed.reason is not None
        return int(closed.reason.code)
    return await _closed_with(client)


async def test_flooding_closes_with_4008_and_spares_others(base_url: str) -> None:
    """A flooder that keeps sending (40 frames at once) is told 4008; others go on."""
    with trio.fail_after(30):
        org = await make_org(base_url)
        async with (
            agent_socket(base_url, org.token, subscribe=org.space["id"]) as (agent, _),
            widget(org) as (other, _),
        ):
            async with widget(org) as (flood, _):
                code = await _flood(flood, 40)
            await _still_works(other, agent, "after the flood")
            assert code == 4008


async def test_one_frame_over_the_flood_limit_closes_with_4008(base_url: str) -> None:
    """21 frames in a second, then silence: the server closes with 4008; others go on."""
    with trio.fail_after(30):
        org = await make_org(base_url)
        async with (
            agent_socket(base_url, org.token, subscribe=org.space["id"]) as (agent, _),
            widget(org) as (other, _),
        ):
            async with widget(org) as (flood, _):
                assert await _flood(flood, 21) == 4008
                pongs = [f for f in flood.seen if f["type"] == "pong"]
                assert len(pongs) <= 20  # replies still queued at the close may be dropped
            await _still_works(other, agent, "after the flood")


async def test_repeated_client_id_is_stored_once(base_url: str, settings: Settings) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        client_id = str(uuid.uuid4())
        async with (
            agent_socket(base_url, org.token, subscribe=org.space["id"]) as (agent, _),
            widget(org) as (other, _),
        ):
            async with widget(org) as (visitor, hello):
                first = await visitor.say("only once", client_id=client_id)
                again = await visitor.say("only once", client_id=client_id)
                assert again == first
            async with widget(org, session=hello["session"]) as (visitor, welcome):
                assert welcome["visitor"]["id"] == hello["visitor"]["id"]
                assert [m["id"] for m in welcome["history"]] == [first["id"]]
                after_reconnect = await visitor.say("only once", client_id=client_id)
                assert after_reconnect == first
                # A later message of the same thread: once the agent has it, it has every
                # earlier one (one order per thread).
                later = await visitor.say("and then this")
                assert later["thread_id"] == first["thread_id"]
                await agent.expect("message", client_id=later["client_id"])
            await _still_works(other, agent)
            frames = [
                f for f in agent.seen if f.get("type") == "message" and f["client_id"] == client_id
            ]
            assert len(frames) == 1 and frames[0]["id"] == first["id"], frames
            # The projector catches up: one row, however often it was sent.
            await assert_stored_once(
                settings.database_url, client_id, after=later["client_id"], timeout=15
            )


# The worst escaping of a character in JSON: an emoji as a surrogate pair (json.dumps' default
# ensure_ascii writes 12 bytes, \ud83d\ude00), a control character as \u0001 (6 bytes).
WORST_CASE = ("\U0001f600", "\u0001")


async def test_a_maximal_message_of_worst_case_characters_is_answered_never_1009(
    base_url: str,
) -> None:
    """Issue 15, finding 7: 4,000 control characters escaped to more than 16 KiB of JSON and the
    socket closed with 1009. Now every message of up to 4,000 characters is acked and one
    character more is `too_long`, on the widget and the agent socket, however it is escaped."""
    with trio.fail_after(60):
        org = await make_org(base_url, settings=ROOMY)
        async with (
            widget(org) as (visitor, _),
            agent_socket(base_url, org.token) as (agent, _),
        ):
            thread_id = (await visitor.say("hello"))["thread_id"]
            for char in WORST_CASE:
                longest = char * MAX_CONTENT_CHARS
                assert len(json.dumps(longest)) > 16 * 1024
                ack = await visitor.say(longest)
                assert ack["thread_id"] == thread_id
                await agent.send({"type": "claim", "thread_id": thread_id})
                await agent.expect("ack", ref="claim")
                ack = await agent.say(longest, thread_id=thread_id)
                assert ack["thread_id"] == thread_id
                for client, extra in ((visitor, {}), (agent, {"thread_id": thread_id})):
                    client_id = str(uuid.uuid4())
                    await client.send(
                        {
                            "type": "message",
                            "client_id": client_id,
                            "content": longest + char,
                            **extra,
                        }
                    )
                    error = await client.expect("error")
                    assert (error["code"], error["client_id"]) == ("too_long", client_id)
            # Both sockets are still open.
            await visitor.say("still here")
            await agent.say("and here", thread_id=thread_id)


async def test_invisible_content_is_empty_and_bidi_controls_are_removed(base_url: str) -> None:
    """Issue 15, finding 8: zero-width-only messages were accepted, and bidi overrides reached
    agents in names and content."""
    with trio.fail_after(30):
        org = await make_org(base_url, settings=ROOMY)
        async with (
            agent_socket(base_url, org.token, subscribe=org.space["id"]) as (agent, _),
            widget(org) as (visitor, _),
        ):
            for invisible in ("\u200b\u200c\u200d", " \u2060\ufeff ", "\u202e\u2066\u2069"):
                client_id = str(uuid.uuid4())
                await visitor.send(
                    {"type": "message", "client_id": client_id, "content": invisible}
                )
                error = await visitor.expect("error")
                assert (error["code"], error["client_id"]) == ("invalid", client_id), invisible
                assert error["message"] == "content is empty"
            # A name reaches agents without its override; a name of only controls is ignored.
            await visitor.send({"type": "identify", "name": "\u202eexe.txt"})
            updated = await agent.expect("visitor.updated")
            while "name" not in updated["visitor"]:  # the visitor's first appearance
                updated = await agent.expect("visitor.updated")
            assert updated["visitor"]["name"] == "exe.txt"
            await visitor.send({"type": "identify", "name": "\u202e\u200b"})
            ack = await visitor.say("a\u202eb\u2066c\u2069")
            message = await agent.expect("message", client_id=ack["client_id"])
            assert (message["content"], message["sender_name"]) == ("abc", "exe.txt")
            named = [
                f["visitor"]["name"]
                for f in agent.seen
                if f.get("type") == "visitor.updated" and "name" in f["visitor"]
            ]
            assert named == ["exe.txt"]
