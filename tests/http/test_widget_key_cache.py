"""Each process caches spaces by widget key (chat/actors/space_cache.py); a change made through
another process reaches it over the control stream: a narrowed domain list, a rotated key and a
deleted space are refused there within moments, as they are where the change was made."""

from __future__ import annotations

import trio

from chat.config import Settings
from chat.server import serve
from tests.helpers.chat import ORIGIN, Org, handshake_status, make_org, widget
from tests.helpers.http import call

SEEN_WITHIN = 5.0  # the control stream's delivery, on a loaded machine


async def refused_on(org: Org, key: str, status: int | None) -> None:
    """Until a handshake with `key` on `org.base` is refused with `status` (None: accepted)."""
    with trio.fail_after(SEEN_WITHIN):
        while await handshake_status(org, key) != status:
            await trio.sleep(0.1)


async def test_changes_reach_the_cache_of_another_process(
    settings: Settings, nursery: trio.Nursery
) -> None:
    with trio.fail_after(60):
        here = str((await nursery.start(serve, settings, "127.0.0.1", 0))[0])
        other = settings.model_copy(update={"node_id": "other-node"})
        there = str((await nursery.start(serve, other, "127.0.0.1", 0))[0])
        org = await make_org(here)
        key = org.space["widget_key"]
        org_there = Org(there, org.token, org.agent, org.space)
        for where in (org, org_there):
            async with widget(where):  # the space is cached on both
                pass
        space_url = f"{here}/api/v1/spaces/{org.space['id']}"
        narrowed = await call(
            "PATCH", space_url, {"allowed_domains": ["other.example"]}, token=org.token
        )
        assert narrowed.status == 200, narrowed.body
        assert await handshake_status(org, key) == 403  # at once where it was changed
        await refused_on(org_there, key, 403)
        await call(
            "PATCH",
            space_url,
            {"allowed_domains": [ORIGIN.removeprefix("https://")]},
            token=org.token,
        )
        await refused_on(org_there, key, None)  # admitted again
        rotated = await call("POST", f"{space_url}/rotate-key", token=org.token)
        assert rotated.status == 200
        assert await handshake_status(org, key) == 404
        await refused_on(org_there, key, 404)
        new_key = rotated.body["widget_key"]
        assert await handshake_status(org_there, new_key) is None
        assert (await call("DELETE", space_url, token=org.token)).status == 204
        assert await handshake_status(org, new_key) == 404
        await refused_on(org_there, new_key, 404)
