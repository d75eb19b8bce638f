"""The widget is told when its group has nobody to route to (structures.md "Group
availability"): agents online, but none of the group's members online and accepting, means the
offline form, and the message left there becomes an email conversation; a member coming online
or turning accepting off is seen by the open widget."""

from __future__ import annotations

import pytest
import trio

from chat.config import Settings
from tests.helpers.chat import agent_socket, widget
from tests.helpers.http import call
from tests.routing.helpers import make_team


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"visitor_groups_recheck_seconds": 0.5})


async def test_a_group_with_no_agent_online_and_accepting_sends_the_widget_offline(
    base_url: str,
) -> None:
    with trio.fail_after(60):
        team = await make_team(base_url, 1, "least_loaded", cap=3)
        gid, space = team.group_id, team.org.space["id"]
        member = team.members[0]
        # The admin is online, but in no group: the space has an agent, the group has none.
        async with agent_socket(base_url, team.org.token, subscribe=space) as (admin, _):
            await admin.send({"type": "heartbeat"})
            async with widget(team.org) as (visitor, welcome):
                assert welcome["groups"] == {gid: False}
                if not welcome["agents_online"]:  # the heartbeat may land after the welcome
                    came = await visitor.expect("agents", online=True)
                    assert came["groups"] == {gid: False}

                async with agent_socket(base_url, member.token, subscribe=space) as (agent, _):
                    await agent.send({"type": "heartbeat"})
                    up = await visitor.expect("agents", groups={gid: True})
                    assert up["online"] is True

                    away = {"accepting_chats": False}
                    off = await call("PATCH", f"{team.api}/auth/me", away, token=member.token)
                    assert off.status == 200, off.body
                    await visitor.expect("agents", groups={gid: False})

                    # The offline form's message is taken as a lead, though agents are online.
                    lead = {"type": "identify", "name": "Lea", "email": "lea@example.org"}
                    await visitor.send({**lead, "offline": True})
                    opened = await visitor.expect("thread")
                    assert opened["thread"]["channel"] == "email"


async def test_a_space_without_groups_sends_an_empty_map(base_url: str) -> None:
    with trio.fail_after(30):
        team = await make_team(base_url, 1, "round_robin", cap=3)
        patch = await call(
            "PATCH",
            f"{team.api}/spaces/{team.org.space['id']}",
            {"settings": {"default_group_id": None}},
            token=team.org.token,
        )
        assert patch.status == 200, patch.body
        async with widget(team.org) as (_, welcome):
            assert welcome["groups"] == {}
