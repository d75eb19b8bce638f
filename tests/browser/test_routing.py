"""Issue 12 in the browser: a visitor who wrote in a group whose agent is away sees the offline
form (the admin is online, but in no group: nobody can be routed the conversation), alone
(issue 17); once the agent comes online the form goes, the router assigns the conversation and
the widget names the agent (its display name only)."""

from __future__ import annotations

import trio
from playwright.sync_api import Page, expect

from tests.browser.agent import AgentDriver
from tests.browser.conftest import Service
from tests.browser.widget import Widget
from tests.helpers.api import Member, add_member
from tests.helpers.http import call


def _team_member(service: Service) -> Member:
    """Bob, the only member of a round_robin group that is the space's default."""

    async def made() -> Member:
        api, token = f"{service.base}/api/v1", service.org.token
        bob = await add_member(api, token, "Bob")
        group = await call(
            "POST", f"{api}/groups", {"name": "Sales", "strategy": "round_robin"}, token=token
        )
        gid = group.body["id"]
        body = {"agent_ids": [bob.agent["id"]]}
        assert (await call("PUT", f"{api}/groups/{gid}/members", body, token=token)).status == 200
        settings = {"settings": {"default_group_id": gid}}
        space = f"{api}/spaces/{service.org.space['id']}"
        assert (await call("PATCH", space, settings, token=token)).status == 200
        return bob

    return trio.run(made)


def test_the_widget_shows_the_queue_position_then_the_agents_name(
    page: Page, service: Service, agent: AgentDriver
) -> None:
    bob = _team_member(service)
    page.goto(service.site.url(service.site.add_page("/shop.html", service.widget)))
    widget = Widget(page).open().connected()
    widget.send("Can someone help me choose?")
    # The group has nobody: the leave-a-message form alone, not the queue's "shortly" beside it.
    expect(widget.part("prechat")).to_be_visible()
    expect(widget.input).to_have_count(0)
    expect(widget.part("queue")).to_have_count(0)
    expect(widget.part("agent")).to_have_count(0)
    expect(widget.part("presence")).to_have_text("Online")  # though the space has an agent
    driver = AgentDriver(service.base, bob.token, service.org.space["id"])
    driver.start()  # Bob online: the router gives him the conversation
    try:
        assigned = agent.wait_for("thread.updated", change="assigned")
        assert assigned["agent_id"] == bob.agent["id"]
        expect(widget.part("agent")).to_have_text("You are chatting with Bob")
        expect(widget.part("queue")).to_have_count(0)
        expect(widget.part("prechat")).to_have_count(0)
        assert bob.agent["email"] not in widget.window.inner_text()
    finally:
        driver.stop()
