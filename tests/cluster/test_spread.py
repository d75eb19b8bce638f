"""Spaces spread over every shard of the cluster, served at once by one process: its reader
follows one slot per space (a loop each), its projector and router read every slot, and each
conversation keeps its order and reaches PostgreSQL once."""

from __future__ import annotations

import trio

from chat.config import Settings
from chat.embedded.cluster import LocalCluster
from chat.streams.keys import SpaceKeys
from tests.cluster.shards import master_of
from tests.helpers.chat import Org, agent_socket, make_org, widget
from tests.helpers.db import wait_for_messages

FAST = {"visitor_messages_per_second": 100, "visitor_burst": 100}
MESSAGES = 5


async def _converse(org: Org, settings: Settings) -> None:
    async with agent_socket(org.base, org.token, subscribe=org.space["id"]) as (agent, _):
        async with widget(org) as (visitor, _):
            acks = [await visitor.say(f"m{n}") for n in range(MESSAGES)]
            heard = [(await agent.expect("message"))["id"] for _ in range(MESSAGES)]
            reply = await agent.say("hello", thread_id=acks[0]["thread_id"])
            assert (await visitor.expect("message"))["id"] == reply["id"]
    assert heard == [a["id"] for a in acks]
    await wait_for_messages(settings.database_url, acks[0]["thread_id"], MESSAGES + 1)


async def test_spaces_on_every_shard_converse_at_once(
    base_url: str, settings: Settings, local_cluster: LocalCluster
) -> None:
    with trio.fail_after(90):
        orgs: list[Org] = []
        shards: set[int] = set()
        # Space ids are random: a few dozen spaces land on all three shards (odds of missing
        # one after 30: 3 * (2/3)^30, about 1e-5).
        while len(shards) < len(local_cluster.masters) and len(orgs) < 30:
            org = await make_org(base_url, settings=FAST)
            orgs.append(org)
            key = SpaceKeys(settings.key_prefix, org.space["id"]).events
            shards.add(master_of(local_cluster, key).number)
        assert shards == {m.number for m in local_cluster.masters}
        async with trio.open_nursery() as nursery:
            for org in orgs:
                nursery.start_soon(_converse, org, settings)
