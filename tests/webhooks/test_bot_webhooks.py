"""A bot working by webhooks and REST (README "Bots"): it hears the conversations it gets and
their messages as signed webhook events, answers with POST /threads/{id}/messages and hands over
with POST /threads/{id}/handover, with no socket at all."""

from __future__ import annotations

from typing import Any

import trio

from tests.bots.helpers import make_bot, route_space_to_bot
from tests.helpers.chat import widget
from tests.helpers.http import call
from tests.helpers.webhook_receiver import Receiver
from tests.webhooks.conftest import make_roomy_org, register

KINDS = ["message.created", "thread.assigned", "thread.handed_over"]


def _events(receiver: Receiver, kind: str) -> list[dict[str, Any]]:
    return [r.event for r in receiver.unique("/bot").values() if r.event["kind"] == kind]


async def test_a_bot_hears_by_webhook_and_answers_by_rest(
    hooks_url: str, receiver: Receiver
) -> None:
    with trio.fail_after(60):
        org = await make_roomy_org(hooks_url)
        api = f"{hooks_url}/api/v1"
        account = await make_bot(org, "Webhook bot")
        bot_id = account.bot["id"]
        await route_space_to_bot(org, bot_id)
        await register(org, receiver, "/bot", KINDS)
        async with widget(org) as (visitor, _):
            thread_id = (await visitor.say("Opening hours?"))["thread_id"]
            # The bot's own conversations: thread.assigned naming it; then their messages.
            await receiver.wait_for(lambda: bool(_events(receiver, "thread.assigned")))
            assigned = _events(receiver, "thread.assigned")[0]["data"]
            assert (assigned["agent_id"], assigned["strategy"]) == (bot_id, "bot")
            assert assigned["thread"]["id"] == thread_id
            await receiver.wait_for(lambda: bool(_events(receiver, "message.created")))
            heard = _events(receiver, "message.created")[0]["data"]
            assert (heard["thread_id"], heard["content"]) == (thread_id, "Opening hours?")

            answer = {"client_id": f"re-{heard['id']}", "content": "9 to 5, Monday to Friday."}
            wrote = await call(
                "POST", f"{api}/threads/{thread_id}/messages", answer, token=account.token
            )
            assert wrote.status == 201, wrote.body
            got = await visitor.expect("message", sender_type="agent")
            assert (got["sender_id"], got["content"]) == (bot_id, "9 to 5, Monday to Friday.")

            handed = await call(
                "POST", f"{api}/threads/{thread_id}/handover", {}, token=account.token
            )
            assert handed.status == 200, handed.body
            await receiver.wait_for(lambda: bool(_events(receiver, "thread.handed_over")))
            event = _events(receiver, "thread.handed_over")[0]["data"]
            assert (event["agent_id"], event["reason"], event["by"]) == (
                bot_id,
                "requested",
                bot_id,
            )
