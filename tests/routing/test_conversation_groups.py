"""A conversation's group: the visitor's pick when the space allows it, else the space's
default; a deleted group's open conversations go to the space's default group."""

from __future__ import annotations

import trio

from tests.helpers.chat import agent_socket, widget
from tests.helpers.http import call
from tests.routing.helpers import make_team


async def test_the_visitors_pick_the_default_and_a_deleted_group(base_url: str) -> None:
    with trio.fail_after(60):
        team = await make_team(base_url, 1, "manual", cap=5, visitor_picks_group=True)
        api, token, space = team.api, team.org.token, team.org.space["id"]
        other = await call(
            "POST", f"{api}/groups", {"name": "Support", "strategy": "manual"}, token=token
        )
        support = other.body["id"]
        async with agent_socket(base_url, token, subscribe=space) as (watch, _):
            async with widget(team.org) as (picked, _):
                await picked.say("billing question", group_id=support)
            new = await watch.expect("thread.new")
            assert new["thread"]["group_id"] == support
            async with widget(team.org) as (bogus, _):  # not a group: the default
                await bogus.say("hi", group_id="00000000-0000-0000-0000-000000000000")
            new = await watch.expect("thread.new")
            assert new["thread"]["group_id"] == team.group_id
            deleted = await call("DELETE", f"{api}/groups/{support}", token=token)
            assert deleted.status == 204
            moved = await watch.expect("thread.updated", change="regrouped")
            assert moved["thread"]["group_id"] == team.group_id
