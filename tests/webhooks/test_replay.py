"""Replay: every stored event of the endpoint's kinds after an event id (or from a time) is sent
again under its own id, and nothing before it."""

from __future__ import annotations

from datetime import UTC, datetime

import trio

from chat.config import Settings
from tests.helpers.api import assert_error
from tests.helpers.chat import widget
from tests.helpers.http import call
from tests.helpers.webhook_receiver import Receiver
from tests.webhooks.conftest import make_roomy_org, register, wait_delivered


async def test_replay_from_an_event_id_resends_exactly_the_later_events(
    hooks_url: str, receiver: Receiver, webhook_settings: Settings
) -> None:
    with trio.fail_after(60):
        org = await make_roomy_org(hooks_url)
        hook = await register(org, receiver, "/r", ["message.created"])
        async with widget(org) as (visitor, _):
            ids = [(await visitor.say(f"m{i}"))["id"] for i in range(10)]
        await receiver.wait_for(lambda: len(receiver.accepted_at("/r")) == 10)
        await wait_delivered(webhook_settings, hook["id"], 10)

        url = f"{hooks_url}/api/v1/webhooks/{hook['id']}/replay"
        reply = await call("POST", url, {"from_event_id": ids[3]}, token=org.token)
        assert reply.status == 202, reply.body
        assert reply.body == {"enqueued": 6}
        await receiver.wait_for(lambda: len(receiver.accepted_at("/r")) == 16)
        replayed = [r.event["id"] for r in receiver.accepted_at("/r")[10:]]
        assert replayed == ids[4:]  # exactly the events after it, in order, same ids
        assert receiver.bad_signatures == 0
        await wait_delivered(webhook_settings, hook["id"], 10)

        # From a time at or before the first event: all of them again.
        first_time = receiver.accepted_at("/r")[0].event["created_at"]
        reply = await call("POST", url, {"from_time": first_time}, token=org.token)
        assert reply.body == {"enqueued": 10}, reply.body
        await receiver.wait_for(lambda: len(receiver.accepted_at("/r")) == 26)
        assert [r.event["id"] for r in receiver.accepted_at("/r")[16:]] == ids


async def test_replay_reaches_a_new_endpoint_and_checks_its_body(
    hooks_url: str, receiver: Receiver
) -> None:
    """An endpoint registered after the events gets them by replay (PostgreSQL holds them
    because the organization had an endpoint then)."""
    with trio.fail_after(60):
        org = await make_roomy_org(hooks_url)
        await register(org, receiver, "/old", ["message.created"])
        async with widget(org) as (visitor, _):
            ids = [(await visitor.say(f"m{i}"))["id"] for i in range(3)]
        await receiver.wait_for(lambda: len(receiver.unique("/old")) == 3)
        late = await register(org, receiver, "/late", ["message.created"])
        url = f"{hooks_url}/api/v1/webhooks/{late['id']}/replay"
        epoch = datetime(2020, 1, 1, tzinfo=UTC).isoformat()
        reply = await call("POST", url, {"from_time": epoch}, token=org.token)
        assert reply.body == {"enqueued": 3}, reply.body
        await receiver.wait_for(lambda: len(receiver.unique("/late")) == 3)
        assert [r.event["id"] for r in receiver.accepted_at("/late")] == ids

        for bad in ({}, {"from_event_id": ids[0], "from_time": epoch}, {"from_event_id": "x"}):
            assert_error(await call("POST", url, bad, token=org.token), 422, "invalid", bad)
