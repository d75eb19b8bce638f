"""Every outbound builder (chat/protocol/outbound.py) makes the keys the contract names
(../shared/CONTRACT.md, and the readers widget/src/protocol.ts and console/src/protocol.ts)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from chat.db.rows import AgentRow, SpaceRow
from chat.errors import AlreadyClaimedError, NotFoundError, RateLimitedError
from chat.events import (
    LogEntry,
    MessagePosted,
    Presence,
    ThreadChanged,
    ThreadOpened,
    ThreadSnapshot,
    Typing,
    VisitorInfo,
    VisitorUpdated,
)
from chat.json_types import Json
from chat.protocol import outbound
from chat.streams.log import Ack
from tests.helpers.api import (
    AGENT_FIELDS,
    MESSAGE_FIELDS,
    SPACE_FIELDS,
    THREAD_FIELDS,
    VISITOR_FIELDS,
)

NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
ENTRY_ID = "1735787045000-0"
THREAD = ThreadSnapshot(
    id="t1", space_id="s1", visitor_id="v1", status="active", created=1, last=2, closed=None
)
VISITOR = VisitorInfo(id="v1", name="Vera", email="v@example.com", current_url="/", created=1)
AGENT = AgentRow("a1", "o1", "ada@example.com", "Ada", "admin", True, 5, None, NOW, "hash")
SPACE = SpaceRow("s1", "o1", "Shop", "wk_x", ["shop.example.com"], {}, NOW)
MESSAGE = MessagePosted(
    thread_id="t1",
    sender_type="visitor",
    sender_id="v1",
    sender_name="Vera",
    content="hi",
    client_id="c1",
)
ACK_FIELDS = {"type", "client_id", "id", "thread_id", "created_at"}
ERROR_FIELDS = {"type", "code", "message"}


def entry(event: object) -> LogEntry:
    return LogEntry(ENTRY_ID, event)  # type: ignore[arg-type]


def test_json_views() -> None:
    assert set(outbound.thread_json(THREAD)) == THREAD_FIELDS
    assert set(outbound.message_json(ENTRY_ID, MESSAGE)) == MESSAGE_FIELDS
    assert set(outbound.visitor_json("s1", "v1", VISITOR)) == VISITOR_FIELDS
    assert outbound.visitor_json("s1", "v1", None)["name"] is None
    assert set(outbound.agent_json(AGENT)) == AGENT_FIELDS
    assert outbound.agent_json(AGENT, online=False)["is_online"] is False
    assert set(outbound.space_json(SPACE)) == SPACE_FIELDS


def test_frames_both_sessions_send() -> None:
    ack = Ack("c1", ENTRY_ID, "t1")
    assert set(outbound.message_ack(ack)) == ACK_FIELDS
    agent_ack = outbound.message_ack(ack, ref="message")
    assert set(agent_ack) == ACK_FIELDS | {"ref"} and agent_ack["ref"] == "message"
    assert json.loads(outbound.PONG) == {"type": "pong"}
    assert set(outbound.message_frame(entry(MESSAGE))) == {"type"} | MESSAGE_FIELDS

    plain = outbound.error_frame(RateLimitedError())
    assert set(plain) == ERROR_FIELDS and plain["code"] == "rate_limited"
    assert outbound.error_frame(RateLimitedError(), "c1")["client_id"] == "c1"
    action = outbound.error_frame(AlreadyClaimedError(), ref="claim", thread_id="t1")
    assert set(action) == ERROR_FIELDS | {"ref", "thread_id"}
    feed = outbound.error_frame(NotFoundError("gone"), ref="subscribe", space_id="s1")
    assert set(feed) == ERROR_FIELDS | {"ref", "space_id"} and feed["message"] == "gone"


def test_frames_to_visitors() -> None:
    welcome = outbound.visitor_welcome("token", {"id": "v1"}, THREAD, True, [])
    assert set(welcome) == {
        "type",
        "session",
        "visitor",
        "thread",
        "agents_online",
        "history",
        "queue_position",
        "groups",
    }
    assert set(welcome["thread"]) == THREAD_FIELDS
    assert outbound.visitor_welcome("token", {}, None, False, [])["thread"] is None
    changed = ThreadChanged(type="thread.closed", thread=THREAD, by="a1")
    assert outbound.visitor_thread_frame(entry(changed)) == {
        "type": "thread",
        "thread": outbound.thread_json(THREAD),
    }
    typing = Typing(thread_id="t1", sender_type="agent", sender_id="a1", active=True)
    assert outbound.visitor_typing_frame(typing) == {
        "type": "typing",
        "thread_id": "t1",
        "active": True,
    }
    assert outbound.agents_frame(True) == {"type": "agents", "online": True, "groups": None}
    down = outbound.agents_frame(True, {"g1": False})
    assert down == {"type": "agents", "online": True, "groups": {"g1": False}}


def test_frames_to_agents() -> None:
    welcome = outbound.agent_welcome(AGENT, [SPACE])
    assert set(welcome) == {"type", "agent", "spaces"}
    assert set(welcome["agent"]) == AGENT_FIELDS
    assert welcome["spaces"] == [{"id": "s1", "name": "Shop"}]
    assert outbound.subscribed_frame("s1", ENTRY_ID) == {
        "type": "subscribed",
        "space_id": "s1",
        "cursor": ENTRY_ID,
    }
    ack = outbound.action_ack("transfer", "t1", THREAD)
    assert set(ack) == {"type", "ref", "thread_id", "thread"} and ack["ref"] == "transfer"


@pytest.mark.parametrize(
    ("event", "keys"),
    [
        (MESSAGE, {"type"} | MESSAGE_FIELDS),
        (ThreadOpened(thread=THREAD, visitor=VISITOR), {"type", "thread"}),
        (
            ThreadChanged(type="thread.claimed", thread=THREAD, by="a1"),
            {"type", "change", "by", "thread"},
        ),
        (
            Typing(thread_id="t1", sender_type="visitor", sender_id="v1", active=False),
            {"type", "thread_id", "sender_type", "sender_id", "active"},
        ),
        (Presence(agent_id="a1", online=True, any_online=True), {"type", "agent_id", "online"}),
        (VisitorUpdated(visitor_id="v1", name="Vera"), {"type", "visitor"}),
    ],
)
def test_every_agent_event_frame_carries_its_cursor(event: object, keys: set[str]) -> None:
    frame: Json = outbound.agent_event_frame(entry(event))
    assert set(frame) == keys | {"cursor"} and frame["cursor"] == ENTRY_ID


def test_agent_event_frames_details() -> None:
    new = outbound.agent_event_frame(entry(ThreadOpened(thread=THREAD, visitor=VISITOR)))
    assert new["type"] == "thread.new"
    assert set(new["thread"]) == THREAD_FIELDS | {"visitor"}
    # external_id: a verified visitor's site user id, null for an anonymous one.
    assert set(new["thread"]["visitor"]) == {"id", "name", "email", "current_url", "external_id"}
    updated = outbound.agent_event_frame(
        entry(ThreadChanged(type="thread.transferred", thread=THREAD, by="a1"))
    )
    assert (updated["type"], updated["change"], updated["by"]) == (
        "thread.updated",
        "transferred",
        "a1",
    )
    # visitor.updated carries only what changed (console/src/protocol.ts VisitorChange).
    changed = outbound.agent_event_frame(entry(VisitorUpdated(visitor_id="v1", email="e@x.io")))
    assert changed["visitor"] == {"visitor_id": "v1", "email": "e@x.io"}


def test_an_entry_is_encoded_once_per_audience() -> None:
    shared = entry(MESSAGE)
    text = outbound.encoded(shared, "agent", outbound.agent_event_frame)
    assert json.loads(text)["cursor"] == ENTRY_ID
    assert outbound.encoded(shared, "agent", outbound.message_frame) is text
    assert "cursor" not in json.loads(outbound.encoded(shared, "visitor", outbound.message_frame))
