"""`chat projector status` and `chat projector prune`: lag and consumers per space, and the
consumers stopped processes left behind removed, never one whose entries would be lost."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from chat.config import Settings
from chat.streams.client import Redis, open_redis
from chat.streams.keys import PROJECTOR_GROUP, ROUTER_GROUP, WEBHOOKS_GROUP, SpaceKeys
from tests.conftest import ServerProcess, free_port
from tests.helpers.chat import make_org, widget
from tests.helpers.db import POLL_SECONDS, create_space, wait_for_messages
from tests.helpers.ops import chat

# The consumer groups every process reads each space stream in.
GROUPS = (PROJECTOR_GROUP, ROUTER_GROUP, WEBHOOKS_GROUP)


async def _consumers(redis: Redis, key: str) -> dict[tuple[str, str], tuple[int, int]]:
    """(group, consumer) -> (pending, idle ms) on the stream."""
    found = {}
    for group in await redis.xinfo_groups(key):
        for c in await redis.xinfo_consumers(key, str(group["name"])):
            found[str(group["name"]), str(c["name"])] = (int(c["pending"]), int(c["idle"]))  # type: ignore[arg-type]
    return found


async def test_prune_keeps_a_projector_consumer_with_pending_entries(settings: Settings) -> None:
    """No server here: the consumers are made by hand, as crashed processes leave them."""
    with trio.fail_after(90):
        space_id = await trio.to_thread.run_sync(create_space, settings.database_url)
        key = SpaceKeys(settings.key_prefix, space_id).events
        async with open_redis(settings.redis_url) as redis:
            for group in ("projector", "router"):
                await redis.xgroup_create(key, group, identifier="0", mkstream=True)
            await redis.xadd(key, {"t": "typing", "d": "{}"})
            # Crashed while holding the entry, in both groups; and one that never held any.
            await redis.xreadgroup("projector", "node-crashed", {key: ">"})
            await redis.xreadgroup("router", "node-crashed", {key: ">"})
            await redis.xreadgroup("projector", "node-idle", {key: ">"})
            before = await _consumers(redis, key)
            assert set(before) == {
                ("projector", "node-crashed"),
                ("router", "node-crashed"),
                ("projector", "node-idle"),
            }

            dry = await chat(settings, "projector", "prune", "--idle", "0", "--dry-run", "--json")
            actions = {(r["group"], r["consumer"]): r["action"] for r in dry.json()}
            assert actions == {
                ("projector", "node-crashed"): "kept: 1 pending, reclaimed by a live projector",
                ("router", "node-crashed"): "would delete",
                ("projector", "node-idle"): "would delete",
            }
            assert set(await _consumers(redis, key)) == set(before)

            done = await chat(settings, "projector", "prune", "--idle", "0")
            assert done.code == 0 and "deleted" in done.out, done
            assert set(await _consumers(redis, key)) == {("projector", "node-crashed")}

        status = (await chat(settings, "projector", "status", "--json")).json()
        [space] = status["spaces"]
        assert space["space_id"] == space_id and space["length"] == 1
        assert space["projector"]["pending"] == 1 and space["projector"]["lag_seconds"] >= 0
        assert [(c["group"], c["consumer"], c["pending"]) for c in status["consumers"]] == [
            ("projector", "node-crashed", 1)
        ]


@pytest.mark.serial
async def test_a_stopped_process_consumers_are_pruned_and_the_live_ones_kept(
    base_url: str, settings: Settings, tmp_path: Path
) -> None:
    """Each start is a new node id, so each stopped process left a consumer on every space
    stream in each group; prune removes those, and the live process's stay."""
    with trio.fail_after(120):
        org = await make_org(base_url)
        key = SpaceKeys(settings.key_prefix, org.space["id"]).events
        gone = ServerProcess(settings, free_port())
        try:
            await gone.start("gone", tmp_path)
            async with open_redis(settings.redis_url) as redis:
                # The new space reaches the other process's projector, router and webhook
                # ingest (control stream, or their 5 s refresh): wait until all read it.
                with trio.fail_after(30):
                    while not {(g, "node-gone") for g in GROUPS} <= set(
                        await _consumers(redis, key)
                    ):
                        await trio.sleep(POLL_SECONDS)
        finally:
            gone.stop()
        async with widget(org) as (visitor, _):
            ack = await visitor.say("still projected")
        await wait_for_messages(settings.database_url, ack["thread_id"], 1)

        async with open_redis(settings.redis_url) as redis:
            live = {(g, f"node-{settings.node_id}") for g in GROUPS}
            # The router and the ingest follow a new space at their next refresh (5 s).
            with trio.fail_after(30):
                while not live <= set(await _consumers(redis, key)):
                    await trio.sleep(POLL_SECONDS)
            # A live consumer reads at least once a second; the stopped one falls idle.
            with trio.fail_after(30):
                while (await _consumers(redis, key))[("projector", "node-gone")][1] < 3000:
                    await trio.sleep(POLL_SECONDS)
            status = (await chat(settings, "projector", "status")).out
            assert "node-gone" in status and f"node-{settings.node_id}" in status

            pruned = await chat(settings, "projector", "prune", "--idle", "3", "--json")
            assert {(r["group"], r["consumer"], r["action"]) for r in pruned.json()} == {
                (g, "node-gone", "deleted") for g in GROUPS
            }
            assert set(await _consumers(redis, key)) == live
