"""Webhooks delivered from the log to a real HTTP receiver: signed, each event once to a
receiver that dedupes by (space_id, id), in log order per conversation, through failures and
hangs; only the kinds an endpoint chose."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import trio

from chat.config import Settings
from chat.server import serve
from tests.helpers.chat import Org, agent_socket, widget
from tests.helpers.db import wait_for_rows
from tests.helpers.http import call
from tests.helpers.webhook_receiver import Receiver
from tests.webhooks.conftest import (
    FAST,
    deliveries,
    make_roomy_org,
    register,
    wait_delivered,
    with_settings,
)


async def _say(org: Org, count: int, words: str = "hello") -> list[str]:
    """`count` visitor messages in one conversation; their ids, in order."""
    async with widget(org) as (visitor, _):
        return [(await visitor.say(f"{words} {i}"))["id"] for i in range(count)]


def _readme_verify() -> Callable[[str, str, bytes], bool]:
    """The verification example of README.md's Webhooks section, as a reader would paste it."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("Verifying a delivery") :]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert len(code.strip().splitlines()) <= 11, "the example stays about ten lines"
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # noqa: S102 - our own README
    return cast(Callable[[str, str, bytes], bool], namespace["verify"])


def _message_ids(receiver: Receiver, path: str) -> list[str]:
    return [
        r.event["id"] for r in receiver.accepted_at(path) if r.event["kind"] == "message.created"
    ]


async def test_every_event_once_signed_and_in_order(
    hooks_url: str, receiver: Receiver, webhook_settings: Settings
) -> None:
    with trio.fail_after(60):
        org = await make_roomy_org(hooks_url)
        hook = await register(org, receiver, "/all", ["message.created", "thread.opened"])
        ids = await _say(org, 12)
        await receiver.wait_for(lambda: len(receiver.unique("/all")) == 13)
        got = receiver.accepted_at("/all")
        assert receiver.bad_signatures == 0
        assert [r.event["kind"] for r in got][0] == "thread.opened"  # the conversation's order
        assert _message_ids(receiver, "/all") == ids  # once each, in log order
        first = got[1]
        assert first.headers["Chat-Event-Id"] == ids[0]
        assert first.headers["Chat-Event-Kind"] == "message.created"
        assert first.event["space_id"] == org.space["id"]
        assert first.event["organization_id"] == org.agent["organization_id"]
        assert first.event["data"]["content"] == "hello 0"
        # The README's ten-line receiver check accepts what was sent, and nothing altered.
        readme_verify = _readme_verify()
        signature = first.headers["Chat-Signature"]
        assert readme_verify(hook["secret"], signature, first.raw)
        assert not readme_verify(hook["secret"], signature, first.raw.replace(b"hello", b"HELLO"))
        assert not readme_verify("whsec_other", signature, first.raw)
        await wait_delivered(webhook_settings, hook["id"], 13)
        metrics = (await call("GET", f"{hooks_url}/metrics")).body
        assert "chat_webhook_delivered_total 13.0\n" in metrics, metrics
        assert "chat_webhook_failed_attempts_total 0.0\n" in metrics
        log = await deliveries(org, hook["id"], status="delivered")
        assert len(log) == 13 and all(d["attempts"] == 1 for d in log)
        assert all(d["last_status"] == 204 and d["last_latency_ms"] >= 0 for d in log)


async def test_receiver_failing_for_a_while(
    hooks_url: str, receiver: Receiver, webhook_settings: Settings
) -> None:
    """Answers 500, 503, a redirect (never followed) then success: every event once (deduped)."""
    with trio.fail_after(60):
        org = await make_roomy_org(hooks_url)
        receiver.script["/flaky"] = [500, 503, "redirect", 500, 502, "redirect"]
        hook = await register(org, receiver, "/flaky", ["message.created"])
        ids = await _say(org, 8)
        await receiver.wait_for(lambda: len(receiver.unique("/flaky")) == 8)
        assert sorted(receiver.unique("/flaky")) == sorted((org.space["id"], i) for i in ids)
        assert _message_ids(receiver, "/flaky") == ids  # order held through the retries
        assert "/elsewhere" not in receiver.requests  # a redirect is a failure, not followed
        await wait_delivered(webhook_settings, hook["id"], 8)
        log = await deliveries(org, hook["id"])
        assert sum(d["attempts"] for d in log) == 8 + 6
        assert {d["status"] for d in log} == {"delivered"}


async def test_receiver_hanging_past_the_timeout(
    hooks_url: str, receiver: Receiver, webhook_settings: Settings
) -> None:
    with trio.fail_after(60):
        org = await make_roomy_org(hooks_url)
        receiver.script["/slow"] = ["hang"]
        hook = await register(org, receiver, "/slow", ["message.created"])
        ids = await _say(org, 3)
        await receiver.wait_for(lambda: len(receiver.unique("/slow")) == 3)
        assert _message_ids(receiver, "/slow") == ids
        await wait_delivered(webhook_settings, hook["id"], 3)
        first = [d for d in await deliveries(org, hook["id"]) if d["event_id"] == ids[0]][0]
        assert first["attempts"] == 2, first


async def test_a_dead_endpoint_does_not_delay_another(
    settings: Settings, receiver: Receiver, nursery: trio.Nursery
) -> None:
    """Four slots, two per endpoint: the hanging endpoint's requests (timeout 8 s) hold only its
    two, so another endpoint's events go out at once. (With four per endpoint the dead one takes
    every slot and this fails: the live events wait for its timeouts.)"""
    isolated = with_settings(
        settings,
        **{**FAST, "webhook_timeout_seconds": 8.0},
        webhook_concurrency=4,
        webhook_per_endpoint=2,
    )
    binds = await nursery.start(serve, isolated, "127.0.0.1", 0)
    receiver.hang_seconds = 30.0  # released at teardown
    with trio.fail_after(60):
        org = await make_roomy_org(str(binds[0]))
        receiver.script["/dead"] = ["hang"] * 1000
        dead = await register(org, receiver, "/dead", ["message.created"])
        # Four conversations: four lanes whose heads could each hold a slot.
        ids = [i for n in range(4) for i in await _say(org, 3, f"visitor {n}")]
        # Every dead row enqueued: each lane head is due before any replayed live row.
        sql = "SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = %s"
        await wait_for_rows(isolated.database_url, sql, (dead["id"],), len(ids))
        await receiver.wait_for(lambda: receiver.requests.count("/dead") >= 2)
        live = await register(org, receiver, "/live", ["message.created"])
        replay = f"{org.base}/api/v1/webhooks/{live['id']}/replay"
        started = trio.current_time()
        reply = await call("POST", replay, {"from_event_id": "0-0"}, token=org.token)
        assert reply.body == {"enqueued": len(ids)}, reply.body
        await receiver.wait_for(lambda: len(receiver.unique("/live")) == len(ids))
        assert trio.current_time() - started < 4.0  # no live event waited for a dead one's slot
        assert receiver.accepted_at("/dead") == []
        assert receiver.requests.count("/dead") == 2  # never more than its share at once


async def test_only_the_chosen_kinds(hooks_url: str, receiver: Receiver) -> None:
    """Notes reach only an endpoint that chose note.created; typing never goes anywhere."""
    with trio.fail_after(60):
        org = await make_roomy_org(hooks_url)
        await register(org, receiver, "/public", ["message.created"])
        await register(org, receiver, "/notes", ["note.created"])
        async with widget(org) as (visitor, _):
            await visitor.send({"type": "typing", "active": True})
            thread_id = (await visitor.say("hi"))["thread_id"]
        note = {"client_id": "n1", "content": "private words"}
        reply = await call(
            "POST", f"{hooks_url}/api/v1/threads/{thread_id}/notes", note, token=org.token
        )
        assert reply.status == 201, reply.body
        async with agent_socket(hooks_url, org.token, subscribe=org.space["id"]) as (agent, _):
            await agent.send(
                {
                    "type": "message",
                    "thread_id": thread_id,
                    "client_id": "a1",
                    "content": "agent reply",
                }
            )
            await agent.expect("ack", client_id="a1")
        await receiver.wait_for(
            lambda: len(receiver.unique("/public")) == 2 and len(receiver.unique("/notes")) == 1
        )
        public = [r.event for r in receiver.accepted_at("/public")]
        assert {e["kind"] for e in public} == {"message.created"}
        assert "private words" not in str(public)
        (noted,) = receiver.accepted_at("/notes")
        assert noted.event["data"]["note"]["content"] == "private words"
        assert "typing" not in {r.event["kind"] for r in receiver.accepted}


async def test_parked_as_failed_after_the_retry_window(
    settings: Settings, receiver: Receiver, nursery: trio.Nursery
) -> None:
    """An endpoint that never answers 2xx: its events are parked `failed` once the retry window
    has passed, with the last answer in the log; the lane then moves on to the next event."""
    short = with_settings(settings, **FAST, webhook_retry_for_seconds=1.0)
    binds = await nursery.start(serve, short, "127.0.0.1", 0)
    with trio.fail_after(60):
        org = await make_roomy_org(str(binds[0]))
        receiver.script["/down"] = [500] * 10_000
        hook = await register(org, receiver, "/down", ["message.created"])
        ids = await _say(org, 2)
        sql = "SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = %s AND status = 'failed'"
        await wait_for_rows(short.database_url, sql, (hook["id"],), 2)
        log = {d["event_id"]: d for d in await deliveries(org, hook["id"], status="failed")}
        assert set(log) == set(ids)
        # The window counts from the enqueue: the head was retried; the event behind it waited
        # that long already, so its first failure parks it.
        assert log[ids[0]]["attempts"] >= 2
        assert all(d["attempts"] >= 1 and d["last_status"] == 500 for d in log.values())
        assert all(d["last_error"].startswith("HTTP 500") for d in log.values())
        assert receiver.accepted_at("/down") == []
