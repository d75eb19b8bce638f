"""The webhook routes: admins only, the secret shown on create and rotate only, disable pauses
and enable resumes, the delivery log pages with a cursor."""

from __future__ import annotations

import trio

from chat.config import Settings
from tests.helpers.api import assert_error, failed_fields
from tests.helpers.chat import widget
from tests.helpers.db import peer_agent_token, wait_for_rows
from tests.helpers.http import call
from tests.helpers.webhook_receiver import Receiver
from tests.webhooks.conftest import deliveries, make_roomy_org, register, wait_delivered


async def test_crud_and_secret(hooks_url: str, receiver: Receiver) -> None:
    with trio.fail_after(30):
        org = await make_roomy_org(hooks_url)
        api = f"{hooks_url}/api/v1/webhooks"
        created = await register(
            org,
            receiver,
            "/c",
            ["thread.closed", "message.created", "thread.closed"],
            description="CRM",
        )
        assert created["secret"].startswith("whsec_") and len(created["secret"]) > 40
        assert created["kinds"] == ["message.created", "thread.closed"]  # deduped, in order
        one = await call("GET", f"{api}/{created['id']}", token=org.token)
        assert one.status == 200 and "secret" not in one.body
        listed = await call("GET", api, token=org.token)
        assert [w["id"] for w in listed.body["items"]] == [created["id"]]
        assert "secret" not in listed.body["items"][0]

        patched = await call(
            "PATCH",
            f"{api}/{created['id']}",
            {"enabled": False, "kinds": ["note.created"]},
            token=org.token,
        )
        assert patched.status == 200 and patched.body["enabled"] is False
        assert patched.body["kinds"] == ["note.created"]
        rotated = await call("POST", f"{api}/{created['id']}/rotate-secret", token=org.token)
        assert rotated.status == 200 and rotated.body["secret"] != created["secret"]

        for bad in (
            {"url": receiver.url("/x"), "kinds": []},
            {"url": receiver.url("/x"), "kinds": ["typing"]},
            {"url": receiver.url("/x"), "kinds": ["message.created"], "extra": 1},
        ):
            assert_error(await call("POST", api, bad, token=org.token), 422, "invalid", bad)
        assert failed_fields(
            await call("PATCH", f"{api}/{created['id']}", {"url": "gopher://x"}, token=org.token)
        ) == {"url"}

        deleted = await call("DELETE", f"{api}/{created['id']}", token=org.token)
        assert deleted.status == 204
        gone = await call("GET", f"{api}/{created['id']}", token=org.token)
        assert_error(gone, 404, "not_found")


async def test_admins_only(hooks_url: str) -> None:
    with trio.fail_after(30):
        org = await make_roomy_org(hooks_url)
        agent_token = await peer_agent_token(hooks_url, org, 1)
        reply = await call("GET", f"{hooks_url}/api/v1/webhooks", token=agent_token)
        assert_error(reply, 403, "forbidden")


async def test_disabled_waits_then_resumes_and_the_log_pages(
    hooks_url: str, receiver: Receiver, webhook_settings: Settings
) -> None:
    with trio.fail_after(60):
        org = await make_roomy_org(hooks_url)
        hook = await register(org, receiver, "/p", ["message.created"])
        url = f"{hooks_url}/api/v1/webhooks/{hook['id']}"
        async with widget(org) as (visitor, _):
            first = (await visitor.say("before"))["id"]
            await receiver.wait_for(lambda: len(receiver.unique("/p")) == 1)
            await wait_delivered(webhook_settings, hook["id"], 1)
            reply = await call("PATCH", url, {"enabled": False}, token=org.token)
            assert reply.status == 200
            later = [(await visitor.say(f"while off {i}"))["id"] for i in range(4)]
        # Disabled: nothing is enqueued for it. Once the ingest has stored those events (it
        # lingers between small batches), a second endpoint that stays enabled shows that the
        # sender has passed them too.
        ms, seq = (int(part) for part in later[-1].split("-"))
        stored = (
            "SELECT count(*) FROM webhook_events WHERE space_id = %s AND id_ms = %s AND id_seq = %s"
        )
        await wait_for_rows(webhook_settings.database_url, stored, (org.space["id"], ms, seq), 1)
        await register(org, receiver, "/witness", ["message.created"])
        async with widget(org) as (visitor, _):
            witness = (await visitor.say("witness"))["id"]
        await receiver.wait_for(lambda: len(receiver.unique("/witness")) == 1)
        assert [r.event["id"] for r in receiver.accepted_at("/p")] == [first]
        assert (await call("PATCH", url, {"enabled": True}, token=org.token)).status == 200
        # Events while it was disabled are not enqueued; a replay brings them.
        replay = await call("POST", f"{url}/replay", {"from_event_id": first}, token=org.token)
        assert replay.body == {"enqueued": 5}, replay.body
        await receiver.wait_for(lambda: len(receiver.unique("/p")) == 6)
        assert sorted(e[1] for e in receiver.unique("/p")) == sorted([first, *later, witness])
        await wait_delivered(webhook_settings, hook["id"], 6)

        page1 = await deliveries(org, hook["id"], limit="4")
        reply = await call("GET", f"{url}/deliveries?limit=4", token=org.token)
        cursor = reply.body["next_cursor"]
        assert cursor is not None
        page2 = await deliveries(org, hook["id"], limit="4", cursor=cursor)
        got = [d["event_id"] for d in page1 + page2]
        newest_first = sorted([first, *later, witness], key=_id_key, reverse=True)
        assert got == newest_first


def _id_key(entry_id: str) -> tuple[int, int]:
    ms, seq = entry_id.split("-")
    return int(ms), int(seq)
