"""The REST API's contract seen from outside: the error shape, each resource's fields, and the
accounts and threads that REST tests start from."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from tests.helpers.chat import PASSWORD, Org, widget
from tests.helpers.http import Reply, call

NO_SUCH_ID = "00000000-0000-4000-8000-000000000000"  # well-formed, and nothing has it
SNAKE_CASE = re.compile(r"^[a-z]+(_[a-z]+)*$")
Invalid = list[tuple[dict[str, Any], str]]  # (body change, the field its 422 names)

# Every field of each resource, as the contract shows it.
AGENT_FIELDS = {
    "id",
    "organization_id",
    "email",
    "name",
    "role",
    "is_online",
    "last_seen_at",
    "accepting_chats",
    "max_concurrent_chats",
    "created_at",
    "group_ids",
    "kind",
}
GROUP_FIELDS = {
    "id",
    "organization_id",
    "name",
    "strategy",
    "sticky",
    "auto_transfer_seconds",
    "agent_ids",
    "created_at",
    "bot_agent_id",
}
SPACE_FIELDS = {
    "id",
    "organization_id",
    "name",
    "widget_key",
    "allowed_domains",
    "settings",
    "created_at",
}
VISITOR_FIELDS = {"id", "space_id", "name", "email", "current_url", "created_at"}
THREAD_FIELDS = {
    "id",
    "group_id",
    "space_id",
    "visitor_id",
    "assigned_agent_id",
    "status",
    "last_activity_at",
    "created_at",
    "closed_at",
}
MESSAGE_FIELDS = {
    "id",
    "thread_id",
    "sender_type",
    "sender_id",
    "sender_name",
    "content",
    "client_id",
    "created_at",
}


def assert_error(reply: Reply, status: int, code: str, context: object = None) -> dict[str, Any]:
    """The contract's error shape: {"error": {"code", "message", "details"?}} and nothing else.
    `context` (what was tried) goes into every failure message. Returns the error object."""
    assert reply.status == status, (context, reply.status, reply.body)
    assert isinstance(reply.body, dict) and set(reply.body) == {"error"}, (context, reply.body)
    error = reply.body["error"]
    assert set(error) <= {"code", "message", "details"}, (context, error)
    assert error["code"] == code, (context, error)
    assert SNAKE_CASE.match(error["code"]), (context, error)
    assert isinstance(error["message"], str) and error["message"], (context, error)
    assert "Traceback" not in json.dumps(reply.body), context
    return dict(error)


def failed_fields(reply: Reply) -> set[str]:
    """The fields a 422 names in its details."""
    error = assert_error(reply, 422, "invalid")
    assert isinstance(error.get("details"), list) and error["details"], error
    for detail in error["details"]:
        assert set(detail) == {"field", "message"} and detail["message"], detail
    return {d["field"] for d in error["details"]}


def register_body(**change: Any) -> dict[str, Any]:
    """A valid POST /auth/register body with a fresh email, and `change` over it."""
    email = f"ann-{uuid.uuid4().hex[:8]}@example.com"
    return {
        "organization_name": "Acme",
        "name": "Ann",
        "email": email,
        "password": "long enough password",
        **change,
    }


async def create_agent(
    api: str, admin_token: str, name: str = "Bob", role: str = "agent"
) -> dict[str, Any]:
    """A new agent (of `role`, password PASSWORD) made through POST /agents; its JSON."""
    email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
    body = {"email": email, "name": name, "password": PASSWORD, "role": role}
    created = await call("POST", f"{api}/agents", body, token=admin_token)
    assert created.status == 201, created.body
    return dict(created.body)


@dataclass
class Member:
    """An agent of an organization (role agent unless made otherwise), signed in."""

    agent: dict[str, Any]
    token: str


async def add_member(api: str, admin_token: str, name: str = "Bob", role: str = "agent") -> Member:
    """A new agent of `role` made through POST /agents, signed in through POST /auth/login."""
    agent = await create_agent(api, admin_token, name, role)
    login = await call("POST", f"{api}/auth/login", {"email": agent["email"], "password": PASSWORD})
    assert login.status == 200, login.body
    return Member(agent, login.body["access_token"])


async def open_threads(org: Org, count: int) -> list[dict[str, Any]]:
    """`count` visitors, each opening a thread with one message; their acks, oldest first."""
    acks = []
    for n in range(count):
        async with widget(org) as (visitor, _):
            acks.append(await visitor.say(f"hello {n}"))
    return acks
