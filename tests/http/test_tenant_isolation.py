"""Tenant isolation: another organization's objects are 404 not_found on every route, never 403,
never their data, and no list shows them (contract: "Another organization's object ..."), for
an admin on every route and for a supervisor on every route of its role (chat/auth/roles.py;
above it, the role is refused first: tests/http/api/test_errors.py).

The probes are a table of (method, OpenAPI path, body). The test checks the table against
GET /api/v1/openapi.json, so a new route with a path parameter fails here until it has a row.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

import trio

from chat.config import Settings
from tests.files.images import png
from tests.helpers.api import add_member, assert_error
from tests.helpers.chat import Org, make_org, widget
from tests.helpers.db import peer_agent_token, wait_for_rows
from tests.helpers.http import Reply, call

PREFIX = "/api/v1"
ALL_STATUSES = "unassigned,active,closed,expired"


@dataclass(frozen=True)
class Probe:
    """B's admin calls `method path` with `body`. `foreign` says which part names A's objects
    (every one of the kind, in turn); the other part names B's own, so that the foreign id is
    the only reason to refuse. `body_ids` maps a body field to the kind of id it holds."""

    method: str
    path: str  # as in the OpenAPI document, without the prefix
    body: dict[str, Any] | None = None
    body_ids: dict[str, str] = field(default_factory=dict)
    foreign: Literal["path", "body"] = "path"


PROBES = [
    Probe("GET", "/spaces/{space_id}"),
    Probe("PATCH", "/spaces/{space_id}", {"name": "Taken over", "allowed_domains": ["b.test"]}),
    Probe("DELETE", "/spaces/{space_id}"),
    Probe("POST", "/spaces/{space_id}/rotate-key"),
    Probe("GET", "/spaces/{space_id}/identity-secret"),
    Probe("POST", "/spaces/{space_id}/identity-secret"),
    Probe("GET", "/spaces/{space_id}/team"),
    Probe("GET", "/spaces/{space_id}/threads"),
    Probe("GET", "/threads/{thread_id}"),
    Probe("GET", "/threads/{thread_id}/messages"),
    Probe("GET", "/threads/{thread_id}/transcript"),
    Probe("DELETE", "/threads/{thread_id}"),
    Probe("POST", "/threads/{thread_id}/restore"),
    Probe("GET", "/spaces/{space_id}/deleted-threads"),
    Probe("DELETE", "/visitors/{visitor_id}"),
    Probe("POST", "/threads/{thread_id}/claim"),
    Probe("POST", "/threads/{thread_id}/close"),
    Probe("POST", "/threads/{thread_id}/reopen"),
    Probe("GET", "/threads/{thread_id}/read"),
    Probe("POST", "/threads/{thread_id}/read", {}),
    # A's thread to B's own agent, and B's own thread to A's agents.
    Probe("POST", "/threads/{thread_id}/transfer", {}, {"agent_id": "agent_id"}),
    Probe("POST", "/threads/{thread_id}/transfer", {}, {"agent_id": "agent_id"}, "body"),
    Probe("GET", "/agents/{agent_id}"),
    Probe("PATCH", "/agents/{agent_id}", {"name": "Mallory", "role": "agent"}),
    Probe("DELETE", "/agents/{agent_id}"),
    Probe("POST", "/agents/{agent_id}/two-factor/reset"),
    Probe("GET", "/visitors/{visitor_id}"),
    Probe("GET", "/groups/{group_id}"),
    Probe("PATCH", "/groups/{group_id}", {"name": "Taken over", "strategy": "round_robin"}),
    Probe("DELETE", "/groups/{group_id}"),
    Probe("PUT", "/groups/{group_id}/members", {"agent_ids": []}),
    Probe("GET", "/canned-responses/{response_id}"),
    Probe("PATCH", "/canned-responses/{response_id}", {"title": "Taken over"}),
    Probe("DELETE", "/canned-responses/{response_id}"),
    Probe("GET", "/threads/{thread_id}/notes"),
    Probe("GET", "/threads/{thread_id}/rating"),
    Probe("POST", "/threads/{thread_id}/notes", {"client_id": "probe", "content": "hi"}),
    Probe("POST", "/threads/{thread_id}/whisper", {"client_id": "probe", "content": "hi"}),
    Probe("GET", "/threads/{thread_id}/tags"),
    # Both ids in the path: A's thread with B's tag, then B's thread with A's tag.
    Probe("PUT", "/threads/{thread_id}/tags/{tag_id}"),
    Probe("DELETE", "/threads/{thread_id}/tags/{tag_id}"),
    Probe("PATCH", "/tags/{tag_id}", {"name": "Taken over"}),
    Probe("DELETE", "/tags/{tag_id}"),
    Probe("GET", "/attachments/{attachment_id}/link"),
    Probe("DELETE", "/api-keys/{key_id}"),
    Probe("GET", "/webhooks/{webhook_id}"),
    Probe("PATCH", "/webhooks/{webhook_id}", {"enabled": False}),
    Probe("DELETE", "/webhooks/{webhook_id}"),
    Probe("POST", "/webhooks/{webhook_id}/rotate-secret"),
    Probe("POST", "/webhooks/{webhook_id}/replay", {"from_event_id": "0-0"}),
    Probe("GET", "/webhooks/{webhook_id}/deliveries"),
    Probe("GET", "/bots/{bot_id}"),
    Probe("POST", "/bots/{bot_id}/rotate-token"),
    Probe("DELETE", "/bots/{bot_id}"),
    # The built-in bot's rules (a foreign bot's, whole rule set as the body).
    Probe("GET", "/bots/{bot_id}/rules"),
    Probe("PUT", "/bots/{bot_id}/rules", {"greeting": "Taken over"}),
    Probe("POST", "/threads/{thread_id}/handover", {}),
    Probe("POST", "/threads/{thread_id}/messages", {"client_id": "probe", "content": "hi"}),
]
# Public by design: a widget key is published on the customer's site.
NOT_PROBED = {
    ("GET", "/widget/{widget_key}/config"),
    # An agent's picture is public by design (shown to visitors on any site); its id is random
    # and names no agent (tests/http/api/test_appearance.py).
    ("GET", "/avatars/{avatar_id}"),
    # The visitor's own transcript takes a session token, not an agent's: its isolation (another
    # visitor's thread, a forged token) is tests/lifecycle/test_transcripts.py's.
    ("GET", "/widget/{widget_key}/threads/{thread_id}/transcript"),
    # The emailed transcript takes a session token too: tests/email/test_transcript_mail.py
    # checks another visitor's thread is 404.
    ("POST", "/widget/{widget_key}/threads/{thread_id}/transcript/email"),
    # Attachments: the widget's routes take a session token, a file is fetched by a signed link
    # (no token), and an upload's body is a file: tests/http/api/test_attachments.py checks that
    # another organization's agent can neither upload into a thread nor get a link (404), and
    # that a link is refused to another visitor, altered or expired.
    ("POST", "/widget/{widget_key}/attachments"),
    ("GET", "/widget/{widget_key}/attachments/{attachment_id}/link"),
    ("GET", "/files/{attachment_id}"),
    ("POST", "/threads/{thread_id}/attachments"),
}


def routes_with_ids(spec: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), path.removeprefix(PREFIX))
        for path, operations in spec["paths"].items()
        if "{" in path
        for method in operations
    }


@dataclass
class Tenant:
    org: Org
    ids: dict[str, list[str]]  # path parameter name -> every object of that kind to probe
    secrets: list[str]  # strings that must never appear in the other tenant's replies


async def _tenant(base: str, settings: Settings, n: int, words: str) -> Tenant:
    """An org with an admin, a second agent, a space, and a visitor thread of two messages
    (acked: in the log; the caller waits for the projector)."""
    org = await make_org(base)
    peer_token = await peer_agent_token(base, org, n)
    peer = (await call("GET", f"{base}{PREFIX}/auth/me", token=peer_token)).body
    async with widget(org) as (visitor, welcome):
        first = await visitor.say(f"{words} one")
        await visitor.say(f"{words} two")
    thread_id = first["thread_id"]
    group = await call("POST", f"{base}{PREFIX}/groups", {"name": f"{words} team"}, token=org.token)
    assert group.status == 201, group.body
    members = {"agent_ids": [org.agent["id"], peer["id"]]}
    put = await call(
        "PUT", f"{base}{PREFIX}/groups/{group.body['id']}/members", members, token=org.token
    )
    assert put.status == 200, put.body
    responses = [
        await _canned(base, org.token, "organization", words),
        await _canned(base, org.token, "personal", words),
        await _canned(base, peer_token, "personal", words),  # not in the admin's list
    ]
    tag = await call("POST", f"{base}{PREFIX}/tags", {"name": f"{words} tag"}, token=org.token)
    assert tag.status == 201, tag.body
    upload = await call(
        "POST",
        f"{base}{PREFIX}/threads/{thread_id}/attachments?name=photo.png",
        png(),
        token=org.token,
        headers={"Content-Type": "image/png"},
    )
    assert upload.status == 201, upload.body
    key = await call(
        "POST", f"{base}{PREFIX}/api-keys", {"name": words, "scopes": ["read"]}, token=org.token
    )
    assert key.status == 201, key.body
    hook_body = {"url": f"https://hooks.example.test/{words}", "kinds": ["message.created"]}
    hook = await call("POST", f"{base}{PREFIX}/webhooks", hook_body, token=org.token)
    assert hook.status == 201, hook.body
    bot = await call("POST", f"{base}{PREFIX}/bots", {"name": f"{words} bot"}, token=org.token)
    assert bot.status == 201, bot.body
    ids = {
        "bot_id": [bot.body["bot"]["id"]],
        "key_id": [key.body["id"]],
        "webhook_id": [hook.body["id"]],
        "attachment_id": [upload.body["attachment"]["id"]],
        "tag_id": [tag.body["id"]],
        "space_id": [org.space["id"]],
        "thread_id": [thread_id],
        "agent_id": [org.agent["id"], peer["id"]],
        "visitor_id": [welcome["visitor"]["id"]],
        "group_id": [group.body["id"]],
        "response_id": responses,
    }
    secrets = [
        *(value for values in ids.values() for value in values),
        org.space["widget_key"],
        key.body["key"],
        hook.body["secret"],
        bot.body["token"],
        welcome["visitor"]["id"],
        welcome["session"],
        org.agent["email"],
        peer["email"],
        words,
    ]
    return Tenant(org, ids, secrets)


async def _canned(base: str, token: str, scope: str, words: str) -> str:
    body = {"scope": scope, "shortcut": "hello", "title": words, "content": f"{words} hi"}
    created = await call("POST", f"{base}{PREFIX}/canned-responses", body, token=token)
    assert created.status == 201, created.body
    return str(created.body["id"])


def _assert_no_secrets(reply: Reply, secrets: list[str], context: object) -> None:
    text = json.dumps(reply.body) + json.dumps(reply.headers)
    leaked = [secret for secret in secrets if secret in text]
    assert not leaked, (context, leaked, reply.body)


def _fill(template: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], template)


Case = tuple[dict[str, str], dict[str, Any] | None]  # (path ids, body)


def _cases(probe: Probe, *, theirs: dict[str, list[str]], mine: dict[str, list[str]]) -> list[Case]:
    """One call per object of A's that the probe names."""
    own = {kind: values[0] for kind, values in mine.items()}
    body = None
    if probe.body is not None:
        body = {**probe.body, **{key: own[kind] for key, kind in probe.body_ids.items()}}
    if probe.foreign == "body":
        return [
            (own, {**(body or {}), key: foreign})
            for key, kind in probe.body_ids.items()
            for foreign in theirs[kind]
        ]
    kinds = re.findall(r"\{(\w+)\}", probe.path)
    return [({**own, kind: foreign}, body) for kind in kinds for foreign in theirs[kind]]


async def test_another_organizations_objects_are_not_found(
    base_url: str, settings: Settings
) -> None:
    with trio.fail_after(90):
        api = base_url + PREFIX
        a = await _tenant(base_url, settings, 1, "alpha-secret")
        b = await _tenant(base_url, settings, 2, "bravo-words")
        for tenant in (a, b):  # the threads and their messages in PostgreSQL, not only the log
            await wait_for_rows(
                settings.database_url,
                "SELECT count(*) FROM messages m JOIN threads t ON t.id = m.thread_id"
                " WHERE t.id = %s",
                (tenant.ids["thread_id"][0],),
                2,
            )
        spec = (await call("GET", f"{api}/openapi.json")).body
        probed = {(p.method, p.path) for p in PROBES}
        assert probed == routes_with_ids(spec) - NOT_PROBED, "every route with an id needs a probe"

        supervisor = await add_member(api, b.org.token, "Sue", role="supervisor")
        b.ids["agent_id"].append(supervisor.agent["id"])  # B's own, listed as B's
        roles = {
            (m.upper(), p.removeprefix(PREFIX)): o.get("x-role")
            for p, ops in spec["paths"].items()
            for m, o in ops.items()
        }
        for probe in PROBES:
            tokens = [b.org.token]
            if roles[(probe.method, probe.path)] != "admin":
                tokens.append(supervisor.token)
            for token in tokens:
                for path_ids, body in _cases(probe, theirs=a.ids, mine=b.ids):
                    url = api + _fill(probe.path, path_ids)
                    reply = await call(probe.method, url, body, token=token)
                    assert_error(reply, 404, "not_found", (probe, path_ids, body))
                    _assert_no_secrets(reply, a.secrets, probe)

        await _assert_untouched(api, a, b)
        await _assert_lists_are_separate(api, a, b)


async def _assert_untouched(api: str, a: Tenant, b: Tenant) -> None:
    """The refused writes changed nothing of A's (nor B's own thread)."""
    space = await call("GET", f"{api}/spaces/{a.org.space['id']}", token=a.org.token)
    assert space.body == a.org.space
    for thread_id, owner in ((a.ids["thread_id"][0], a), (b.ids["thread_id"][0], b)):
        thread = await call("GET", f"{api}/threads/{thread_id}", token=owner.org.token)
        assert thread.status == 200, thread.body
        assert (thread.body["status"], thread.body["assigned_agent_id"]) == ("unassigned", None)
    group = await call("GET", f"{api}/groups/{a.ids['group_id'][0]}", token=a.org.token)
    assert group.status == 200, group.body
    assert (group.body["strategy"], group.body["agent_ids"]) == ("manual", a.ids["agent_id"])
    hook = await call("GET", f"{api}/webhooks/{a.ids['webhook_id'][0]}", token=a.org.token)
    assert hook.status == 200 and hook.body["enabled"] is True, hook.body
    agents = await call("GET", f"{api}/agents", token=a.org.token)
    assert [(x["id"], x["name"], x["role"]) for x in agents.body["items"]] == [
        (a.ids["agent_id"][0], a.org.agent["name"], "admin"),
        (a.ids["agent_id"][1], "Peer1", "agent"),
        (a.ids["bot_id"][0], "alpha-secret bot", "agent"),
    ]
    bot = await call("GET", f"{api}/bots/{a.ids['bot_id'][0]}", token=a.org.token)
    assert bot.status == 200 and bot.body["kind"] == "bot", bot.body
    rules = await call("GET", f"{api}/bots/{a.ids['bot_id'][0]}/rules", token=a.org.token)
    assert rules.status == 200 and rules.body["rules"] is None, rules.body  # the PUT refused
    for tenant in (a, b):  # the rules list (keyed bot_id) shows the tenant's own bot only
        listed = await call("GET", f"{api}/bots/rules", token=tenant.org.token)
        assert [x["bot_id"] for x in listed.body["items"]] == tenant.ids["bot_id"], listed.body


async def _assert_lists_are_separate(api: str, a: Tenant, b: Tenant) -> None:
    """Each list of B shows B's objects only; A's own lists show A's (so the check can fail)."""
    for tenant, other in ((b, a), (a, b)):
        token, space_id = tenant.org.token, tenant.ids["space_id"][0]
        lists = {
            "spaces": await call("GET", f"{api}/spaces", token=token),
            "agents": await call("GET", f"{api}/agents", token=token),
            "groups": await call("GET", f"{api}/groups", token=token),
            "canned": await call("GET", f"{api}/canned-responses", token=token),
            "tags": await call("GET", f"{api}/tags", token=token),
            "api-keys": await call("GET", f"{api}/api-keys", token=token),
            "webhooks": await call("GET", f"{api}/webhooks", token=token),
            "bots": await call("GET", f"{api}/bots", token=token),
            "threads": await call(
                "GET", f"{api}/spaces/{space_id}/threads?status={ALL_STATUSES}", token=token
            ),
        }
        kinds = {
            "spaces": "space_id",
            "agents": "agent_id",
            "threads": "thread_id",
            "groups": "group_id",
            "canned": "response_id",
            "tags": "tag_id",
            "api-keys": "key_id",
            "webhooks": "webhook_id",
            "bots": "bot_id",
        }
        for name, reply in lists.items():
            assert reply.status == 200, (name, reply.body)
            listed = sorted(item["id"] for item in reply.body["items"])
            expected = tenant.ids[kinds[name]]
            if name == "canned":  # the admin's list: shared and own, not the peer's personal one
                expected = expected[:2]
            if name == "agents":  # a bot is one of the organization's agents (kind "bot")
                expected = expected + tenant.ids["bot_id"]
            assert listed == sorted(expected), (name, listed)
            _assert_no_secrets(reply, other.secrets, name)
