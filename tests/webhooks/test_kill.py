"""kill -9 of the `chat serve` process that is delivering webhooks, mid-batch: a second process
takes over (the ingest reclaims the entries left pending, the sender claims the rows whose lease
ended) and the receiver, deduping by (space_id, id), has every event exactly once, in log order
per conversation."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from chat.config import Settings
from tests.conftest import ServerProcess, free_port
from tests.helpers.chat import widget
from tests.helpers.webhook_receiver import Receiver
from tests.webhooks.conftest import make_roomy_org, register

pytestmark = pytest.mark.faults

CONVERSATIONS = 4
MESSAGES = 10


async def test_kill_9_of_the_delivering_process(
    webhook_settings: Settings,
    receiver: Receiver,
    server_processes: list[ServerProcess],
    tmp_path: Path,
) -> None:
    with trio.fail_after(120):
        first = ServerProcess(webhook_settings, free_port())
        server_processes.append(first)
        await first.start("a", tmp_path)
        org = await make_roomy_org(first.base)
        await register(org, receiver, "/kill", ["message.created", "thread.opened"])
        # Each request takes a while, so the kill finds requests in flight and rows pending.
        receiver.answer_delay = 0.2
        lanes: list[list[str]] = []
        for n in range(CONVERSATIONS):
            async with widget(org) as (visitor, _):
                acks = [await visitor.say(f"v{n} m{i}") for i in range(MESSAGES)]
            lanes.append([a["id"] for a in acks])
        await receiver.wait_for(lambda: len(receiver.unique("/kill")) >= 8)
        first.kill()
        got_at_kill = len(receiver.unique("/kill"))
        assert got_at_kill < CONVERSATIONS * (MESSAGES + 1), "the kill came after the batch"

        second = ServerProcess(webhook_settings, free_port())
        server_processes.append(second)
        await second.start("b", tmp_path)
        total = CONVERSATIONS * (MESSAGES + 1)
        await receiver.wait_for(lambda: len(receiver.unique("/kill")) == total, timeout=60)

        unique = receiver.unique("/kill")
        assert receiver.bad_signatures == 0
        assert len(unique) == total  # every event, none missing, none extra
        # Per conversation, first arrivals come in log order (a re-sent event comes again
        # before the next one of its conversation).
        firsts = list(unique.values())
        for ids in lanes:
            arrived = [r.event["id"] for r in firsts if r.event["id"] in set(ids)]
            assert arrived == ids
        print(
            f"webhooks kill -9: {got_at_kill} of {total} received before the kill,"
            f" {len(receiver.accepted_at('/kill')) - total} re-sent duplicates deduped"
        )
