"""Every agent socket frame, sent by an agent, a supervisor and an admin (chat/auth/roles.py):
allowed (its answer) or refused (`error` with its code and `ref`), as structures.md's "Roles and
supervisors" table says. The table must name every frame kind of chat/protocol/inbound.py's
AgentFrame, so a new frame fails here until it is placed.

The conversations belong to Hal (an agent, holding them); Tia is a transfer target. A
supervisor and an admin take a conversation over (a transfer to themselves), reassign it, close
it, force a transfer and whisper; an agent does none of these. A claim never takes a held
conversation from its holder, whoever claims (already_claimed)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, get_args

import trio

from chat.protocol.inbound import AgentFrame
from tests.helpers.api import add_member
from tests.helpers.chat import Client, Org, agent_socket, make_org, widget
from tests.helpers.http import call

ROLES = ("agent", "supervisor", "admin")
SUPERVISORS = frozenset({"supervisor", "admin"})
EVERYONE = frozenset(ROLES)
NOBODY: frozenset[str] = frozenset()
# The answer to a frame: its first ack, error, subscribed or pong (sockets here hear no others'
# acks, and a frame with no answer of its own is followed by a ping).
ANSWERS = ("ack", "error", "subscribed", "pong", "floor")


@dataclass
class Floor:
    org: Org
    api: str
    hal: str  # the holder's token
    ids: dict[str, str]  # agent ids by name, and the tag's
    # A second space whose conversations a bot answers first (structures.md, "Bots").
    bot_space: dict[str, Any] | None = None


Setup = Callable[[Floor], Awaitable[str]]  # a fresh thread id in the state the row needs


async def waiting(floor: Floor) -> str:
    async with widget(floor.org) as (visitor, _):
        return str((await visitor.say("hello"))["thread_id"])


async def held(floor: Floor) -> str:
    thread_id = await waiting(floor)
    claimed = await call("POST", f"{floor.api}/threads/{thread_id}/claim", token=floor.hal)
    assert claimed.status == 200, claimed.body
    return thread_id


async def bot_held(floor: Floor) -> str:
    """A conversation its bot holds (the bot's space answers with a bot first)."""
    assert floor.bot_space is not None
    org = Org(floor.org.base, floor.org.token, floor.org.agent, floor.bot_space)
    async with widget(org) as (visitor, _):
        return str((await visitor.say("hello bot"))["thread_id"])


async def closed(floor: Floor) -> str:
    thread_id = await held(floor)
    done = await call("POST", f"{floor.api}/threads/{thread_id}/close", token=floor.hal)
    assert done.status == 200, done.body
    return thread_id


@dataclass(frozen=True)
class Row:
    name: str
    setup: Setup
    frame: Callable[[str, Floor, str], dict[str, Any]]  # (thread id, floor, own id) -> frame
    allowed: frozenset[str]
    answer: str  # the allowed roles' answer: an ack's ref, "subscribed", "pong" or "none"
    refusal: str = "forbidden"  # the others' error code


def _t(kind: str, **fields: Any) -> Callable[[str, Floor, str], dict[str, Any]]:
    return lambda thread_id, floor, me: {"type": kind, "thread_id": thread_id, **fields}


def _transfer(to: str, **extra: Any) -> Callable[[str, Floor, str], dict[str, Any]]:
    def frame(thread_id: str, floor: Floor, me: str) -> dict[str, Any]:
        target = me if to == "self" else floor.ids[to]
        return {"type": "transfer", "thread_id": thread_id, "agent_id": target, **extra}

    return frame


def _with_client_id(kind: str) -> Callable[[str, Floor, str], dict[str, Any]]:
    return lambda thread_id, floor, me: {
        "type": kind,
        "thread_id": thread_id,
        "client_id": str(uuid.uuid4()),
        "content": "hello there",
    }


def _tag(kind: str) -> Callable[[str, Floor, str], dict[str, Any]]:
    return lambda thread_id, floor, me: {
        "type": kind,
        "thread_id": thread_id,
        "tag_id": floor.ids["tag"],
    }


TABLE = [
    Row(
        "subscribe",
        waiting,
        lambda t, floor, me: {"type": "subscribe", "space_id": floor.org.space["id"]},
        EVERYONE,
        "subscribed",
    ),
    Row("a message in a held conversation", held, _with_client_id("message"), EVERYONE, "message"),
    Row("claim a waiting conversation", waiting, _t("claim"), EVERYONE, "claim"),
    Row("claim a held one", held, _t("claim"), NOBODY, "claim", "already_claimed"),
    Row("close a waiting conversation", waiting, _t("close"), EVERYONE, "close"),
    Row("close a held one", held, _t("close"), SUPERVISORS, "close"),
    Row("take a held one over", held, _transfer("self"), SUPERVISORS, "transfer"),
    Row("reassign a held one", held, _transfer("tia"), SUPERVISORS, "transfer"),
    Row("assign a waiting one", waiting, _transfer("tia"), SUPERVISORS, "transfer"),
    Row("force a transfer", held, _transfer("tia", force=True), SUPERVISORS, "transfer"),
    Row("reopen a closed one", closed, _t("reopen"), EVERYONE, "reopen"),
    # A person claims a bot's conversation instead (README "Bots"); the bot's own handover is
    # tests/bots/test_bot_conversation.py's.
    Row("hand a bot's one over", bot_held, _t("handover"), SUPERVISORS, "handover"),
    Row("typing", held, _t("typing", active=True), EVERYONE, "none"),
    Row("viewing", held, _t("viewing"), EVERYONE, "none"),
    Row("read", held, _t("read"), EVERYONE, "read"),
    Row("a note", held, _with_client_id("note"), EVERYONE, "note"),
    Row("a whisper", held, _with_client_id("whisper"), SUPERVISORS, "whisper"),
    Row("tag", held, _tag("tag"), EVERYONE, "tag"),
    Row("untag", held, _tag("untag"), EVERYONE, "untag"),
    Row("heartbeat", waiting, lambda t, floor, me: {"type": "heartbeat"}, EVERYONE, "none"),
    Row("ping", waiting, lambda t, floor, me: {"type": "ping"}, EVERYONE, "pong"),
    # The live floor view (structures.md, "The floor view"): supervisors and admins watch it;
    # leaving it has no answer of its own, whoever sends it.
    Row(
        "watch the floor",
        waiting,
        lambda t, f, me: {"type": "floor.subscribe"},
        SUPERVISORS,
        "floor",
    ),  # fmt: skip
    Row("stop watching", waiting, lambda t, f, me: {"type": "floor.unsubscribe"}, EVERYONE, "none"),
    # Already authenticated: refused whoever sends it.
    Row("auth", waiting, lambda t, f, me: {"type": "auth", "token": "x"}, NOBODY, "", "invalid"),
]


def test_the_table_names_every_agent_frame() -> None:
    kinds = set()
    for model in get_args(AgentFrame):
        kinds |= set(get_args(model.model_fields["type"].annotation))
    assert {row.frame(str(uuid.uuid4()), _NO_FLOOR, "me")["type"] for row in TABLE} == kinds


_NO_FLOOR = Floor(Org("", "", {}, {"id": ""}), "", "", {"tia": "", "tag": ""})


async def _answer(client: Client, frame: dict[str, Any]) -> dict[str, Any]:
    await client.send(frame)
    if frame["type"] in ("typing", "viewing", "heartbeat", "floor.unsubscribe"):
        await client.send({"type": "ping"})
    while True:
        got = await client.next()
        if got["type"] in ANSWERS:
            return got


async def test_every_frame_for_every_role(base_url: str) -> None:
    with trio.fail_after(150):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        hal = await add_member(api, org.token, "Hal")
        tia = await add_member(api, org.token, "Tia")
        callers = {
            "agent": await add_member(api, org.token, "Bob"),
            "supervisor": await add_member(api, org.token, "Sue", role="supervisor"),
        }
        tokens = {"admin": org.token, **{role: m.token for role, m in callers.items()}}
        me = {"admin": org.agent["id"], **{role: m.agent["id"] for role, m in callers.items()}}
        for agent in (hal, tia):  # every row's conversation fits their capacity
            roomy = {"max_concurrent_chats": 1000}
            changed = await call(
                "PATCH", f"{api}/agents/{agent.agent['id']}", roomy, token=org.token
            )
            assert changed.status == 200, changed.body
        tag = await call("POST", f"{api}/tags", {"name": "vip"}, token=org.token)
        bot = await call("POST", f"{api}/bots", {"name": "Robo"}, token=org.token)
        space = await call(
            "POST",
            f"{api}/spaces",
            {
                "name": "Bot first",
                "allowed_domains": ["shop.example.com"],
                "settings": {"bot_agent_id": bot.body["bot"]["id"]},
            },
            token=org.token,
        )
        assert space.status == 201, space.body
        ids = {"tia": tia.agent["id"], "tag": tag.body["id"]}
        floor = Floor(org, api, hal.token, ids, space.body)

        outcomes = {}
        for role in ROLES:
            for row in TABLE:
                thread_id = await row.setup(floor)
                # A socket per row: the rows' frames on one socket could pass the flood guard's
                # 20 frames a second (close 4008) when the service answers fast.
                async with agent_socket(base_url, tokens[role]) as (client, _):
                    got = await _answer(client, row.frame(thread_id, floor, me[role]))
                outcomes[(row.name, role)] = got
        for row in TABLE:
            for role in ROLES:
                got = outcomes[(row.name, role)]
                context = (row.name, role, got)
                if role not in row.allowed:
                    assert got["type"] == "error" and got["code"] == row.refusal, context
                    if row.frame("t", floor, "me").get("thread_id"):
                        assert got.get("ref") == row.frame("t", floor, "me")["type"], context
                elif row.answer in ("subscribed", "pong", "floor"):
                    assert got["type"] == row.answer, context
                elif row.answer == "none":  # no answer of its own: the ping's pong, no error
                    assert got["type"] == "pong", context
                else:
                    assert got["type"] == "ack" and got["ref"] == row.answer, context
        # A take-over holds the conversation; a reassignment hands it to Tia.
        for role in SUPERVISORS:
            taken = outcomes[("take a held one over", role)]["thread"]
            assert taken["assigned_agent_id"] == me[role]
            reassigned = outcomes[("reassign a held one", role)]["thread"]
            assert reassigned["assigned_agent_id"] == tia.agent["id"]
