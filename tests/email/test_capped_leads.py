"""Nobody turned away, even past a real cap (issue 11, "How it must be shown"): with an agent
online who claims nothing, waiting visitors each hear their place; the visitor past the space's
waiting cap is refused live chat but leaves a message, which reaches the SMTP sink and the
inbox, and the email reply path joins that same conversation."""

from __future__ import annotations

import uuid
from contextlib import AsyncExitStack

import trio

from tests.email.helpers import post_mail, reply_to
from tests.helpers.chat import Client, agent_socket, make_org, widget
from tests.helpers.http import call
from tests.helpers.mail import Sink

CAP = 3


async def _place(visitor: Client) -> int | None:
    """The visitor's place as its latest `queue` frame says (it may come before the ack)."""
    frames = [f for f in visitor.seen if f.get("type") == "queue"]
    frame = frames[-1] if frames else await visitor.expect("queue")
    place: int | None = frame["position"]
    return place


async def test_past_the_cap_a_lead_reaches_the_team_and_the_reply_joins_it(
    mail_base_url: str, sink: Sink
) -> None:
    with trio.fail_after(60):
        org = await make_org(mail_base_url, settings={"max_open_threads": CAP})
        space = org.space["id"]
        async with AsyncExitStack() as stack:
            agent, _ = await stack.enter_async_context(
                agent_socket(mail_base_url, org.token, subscribe=space)
            )
            waiting = [(await stack.enter_async_context(widget(org)))[0] for _ in range(CAP)]
            for n, visitor in enumerate(waiting):
                await visitor.say(f"question {n}")
                assert await _place(visitor) == n + 1

            late, welcome = await stack.enter_async_context(widget(org))
            assert welcome["agents_online"] is True
            client_id = str(uuid.uuid4())
            await late.send({"type": "message", "client_id": client_id, "content": "hello?"})
            refused = await late.expect("error", client_id=client_id)
            assert refused["code"] == "queue_full"

            # The widget then offers the leave-a-message form: the lead passes the cap.
            await late.send(
                {"type": "identify", "name": "Lea", "email": "lea@example.org", "offline": True}
            )
            thread = (await late.expect("thread"))["thread"]
            assert thread["channel"] == "email" and thread["email"] == "lea@example.org"
            while (new := await agent.expect("thread.new"))["thread"]["id"] != thread["id"]:
                pass
            assert new["thread"]["channel"] == "email"

            team = await sink.wait_for_mail(org.agent["email"])
            assert "lea@example.org" in team.message.get_content()
            listed = await call(
                "GET", f"{mail_base_url}/api/v1/spaces/{space}/threads", token=org.token
            )
            assert listed.status == 200, listed.body
            assert thread["id"] in {t["id"] for t in listed.body["items"]}

            answer_id = str(uuid.uuid4())
            await agent.send(
                {
                    "type": "message",
                    "thread_id": thread["id"],
                    "client_id": answer_id,
                    "content": "Sorry for the wait, Lea: yes, we ship to Norway.",
                }
            )
            await agent.expect("ack", client_id=answer_id)
            mailed = (await sink.wait_for_mail("lea@example.org")).message
            raw = reply_to(mailed, "Wonderful, ordering now.", message_id="<capped@example.org>")
            posted = await post_mail(mail_base_url, raw)
            assert posted.status == 202, posted.body
            assert posted.body["thread_id"] == thread["id"]  # the same conversation
            joined = await agent.expect("message", id=posted.body["id"])
            assert joined["content"] == "Wonderful, ordering now."
            # The live queue was never touched by the lead: still the three, in order.
            assert [await _place(v) for v in waiting] == list(range(1, CAP + 1))
