"""GET/PUT /bots/{bot_id}/rules: admins only, validated, another organization's bot (or a person,
or a deleted bot) not found; in the OpenAPI document."""

from __future__ import annotations

import uuid

import trio

from chat.config import Settings
from tests.helpers.api import add_member, assert_error
from tests.helpers.chat import make_org
from tests.helpers.http import call
from tests.rulesbot.bots import make_rules_bot

RULES = {
    "greeting": "Hello from the shop!",
    "buttons": [{"label": "Pricing"}, {"label": "A person", "handover": True}],
    "knowledge": [{"keywords": ["Price", "cost"], "answer": "10 EUR a month."}],
    "collect_email": False,
}


async def test_admins_read_and_replace_the_rules(base_url: str, settings: Settings) -> None:
    with trio.fail_after(30):
        api = f"{base_url}/api/v1"
        org = await make_org(base_url)
        bot_id = await make_rules_bot(settings, org, rules=None)
        url = f"{api}/bots/{bot_id}/rules"
        before = await call("GET", url, token=org.token)
        assert before.status == 200, before.body
        assert before.body == {"bot_id": bot_id, "name": "Shopbot", "rules": None}
        put = await call("PUT", url, RULES, token=org.token)
        assert put.status == 200, put.body
        rules = put.body["rules"]
        assert rules["greeting"] == "Hello from the shop!"
        assert rules["knowledge"] == [{"keywords": ["price", "cost"], "answer": "10 EUR a month."}]
        assert rules["buttons"][1] == {"label": "A person", "answer": None, "handover": True}
        assert rules["collect_email"] is False and rules["collect_name"] is True  # a default
        assert (await call("GET", url, token=org.token)).body == put.body
        listed = await call("GET", f"{api}/bots/rules", token=org.token)
        assert listed.body == {"items": [put.body]}

        bad = await call("PUT", url, {**RULES, "buttons": [{"label": "x" * 41}]}, token=org.token)
        assert_error(bad, 422, "invalid")
        extra = await call("PUT", url, {**RULES, "script": "rm -rf"}, token=org.token)
        assert_error(extra, 422, "invalid")

        agent = await add_member(api, org.token, "Bob")
        for method, path, body in (
            ("GET", url, None),
            ("PUT", url, RULES),
            ("GET", "/bots/rules", None),
        ):
            target = path if path.startswith("http") else api + path
            assert_error(await call(method, target, body, token=agent.token), 403, "forbidden")


async def test_other_bots_are_not_found(base_url: str, settings: Settings) -> None:
    with trio.fail_after(30):
        api = f"{base_url}/api/v1"
        mine, theirs = await make_org(base_url), await make_org(base_url)
        foreign_bot = await make_rules_bot(settings, theirs, rules={"greeting": "secret words"})
        for target in (foreign_bot, mine.agent["id"], str(uuid.uuid4())):  # a person: no bot
            for method, body in (("GET", None), ("PUT", RULES)):
                reply = await call(method, f"{api}/bots/{target}/rules", body, token=mine.token)
                assert_error(reply, 404, "not_found", (method, target))
                assert "secret words" not in str(reply.body)
        assert (await call("GET", f"{api}/bots/rules", token=mine.token)).body == {"items": []}
        still = await call("GET", f"{api}/bots/{foreign_bot}/rules", token=theirs.token)
        assert still.body["rules"]["greeting"] == "secret words"


async def test_the_routes_are_in_the_openapi_document(base_url: str) -> None:
    spec = (await call("GET", f"{base_url}/api/v1/openapi.json")).body
    ops = spec["paths"]["/api/v1/bots/{bot_id}/rules"]
    assert set(ops) == {"get", "put"}
    assert ops["put"]["x-role"] == "admin"
