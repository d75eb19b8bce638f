"""The public route of chat/http/api/widget.py: a space's widget config, answered only to the
space's allowed origins (with CORS headers), and whether an agent is online."""

from __future__ import annotations

import trio

from tests.helpers.api import assert_error
from tests.helpers.chat import ORIGIN, agent_socket, make_org
from tests.helpers.http import call


async def test_widget_config(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(
            base_url,
            allowed=["shop.example.com", "*.example.org"],
            settings={"greeting": "Welcome!", "color": "#00aa00"},
        )
        url = f"{base_url}/api/v1/widget/{org.space['widget_key']}/config"
        # The public settings: the space's, less which bot answers first (README "Bots").
        public = {k: v for k, v in org.space["settings"].items() if k != "bot_agent_id"}
        for origin in (ORIGIN, "https://a.example.org"):
            ok = await call("GET", url, origin=origin)
            assert ok.status == 200, (origin, ok.body)
            assert ok.body == {
                "space": {"name": "Shop", "settings": public},
                "agents_online": False,
                "groups": [],
                "hours": None,  # no business hours: always open
                "transcript_email": False,  # this server has no SMTP
                # Appearance (tests/http/api/test_appearance.py): the admin, by name only.
                "team": {"members": [{"name": "Ada", "avatar_url": None}], "others": 0},
                "reply_time": None,
            }
            assert ok.header("Access-Control-Allow-Origin") == origin
            assert "origin" in (ok.header("Vary") or "").lower()
        assert org.space["settings"]["greeting"] == "Welcome!"
        for bad_origin in (
            "https://shop.example.com.evil.net",
            "https://example.org",
            "null",
            None,
        ):
            refused = await call("GET", url, origin=bad_origin)
            assert_error(refused, 403, "origin_not_allowed")
            # Readable by the refused page (so its widget stops), never by "null" origins.
            echoed = bad_origin if bad_origin not in (None, "null") else None
            assert refused.header("Access-Control-Allow-Origin") == echoed
        unknown = await call("GET", f"{base_url}/api/v1/widget/wk_nope/config", origin=ORIGIN)
        assert_error(unknown, 404, "not_found")
        assert unknown.header("Access-Control-Allow-Origin") == ORIGIN
        # A same-origin page sends no Origin; the browser's Sec-Fetch-Site says where it is from.
        same_origin = {"Sec-Fetch-Site": "same-origin"}
        assert_error(await call("GET", url, headers=same_origin), 403, "origin_not_allowed")
        service_host = base_url.removeprefix("http://")
        patched = await call(
            "PATCH",
            f"{base_url}/api/v1/spaces/{org.space['id']}",
            {"allowed_domains": ["shop.example.com", service_host]},
            token=org.token,
        )
        assert patched.status == 200, patched.body
        assert (await call("GET", url, headers=same_origin)).status == 200
        assert_error(await call("GET", url), 403, "origin_not_allowed")

        async with agent_socket(base_url, org.token):
            online = await call("GET", url, origin=ORIGIN)
            assert online.status == 200 and online.body["agents_online"] is True
            agents = await call("GET", f"{base_url}/api/v1/agents", token=org.token)
            assert [a["is_online"] for a in agents.body["items"]] == [True]
