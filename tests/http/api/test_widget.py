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
        for origin in (ORIGIN, "https://a.example.org"):
            ok = await call("GET", url, origin=origin)
            assert ok.status == 200, (origin, ok.body)
            assert ok.body == {
                "space": {"name": "Shop", "settings": org.space["settings"]},
                "agents_online": False,
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
            assert refused.header("Access-Control-Allow-Origin") is None
        unknown = await call("GET", f"{base_url}/api/v1/widget/wk_nope/config", origin=ORIGIN)
        assert_error(unknown, 404, "not_found")

        async with agent_socket(base_url, org.token):
            online = await call("GET", url, origin=ORIGIN)
            assert online.status == 200 and online.body["agents_online"] is True
            agents = await call("GET", f"{base_url}/api/v1/agents", token=org.token)
            assert [a["is_online"] for a in agents.body["items"]] == [True]
