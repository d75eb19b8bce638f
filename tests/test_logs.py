"""The logs (chat/log_format.py, chat/http/request_ids.py): CHAT_LOG_FORMAT=json writes one JSON
object a line with the request and session ids, and nothing secret is ever logged, even at
DEBUG: a `chat serve` child is driven through sign-in, refresh, a widget session and an agent
socket, and its whole output is searched for every secret it was given or handed out."""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path

import trio

from chat.config import Settings
from tests.conftest import ServerProcess, free_port
from tests.helpers.chat import Org, agent_socket, widget
from tests.helpers.http import call

PASSWORD = "never-logged-" + secrets.token_hex(8)


@dataclass
class DebugJsonServer(ServerProcess):
    """A child logging everything, as JSON."""

    def env(self, node: str) -> dict[str, str]:
        return {**super().env(node), "CHAT_LOG_LEVEL": "DEBUG", "CHAT_LOG_FORMAT": "json"}


async def test_json_logs_carry_ids_and_no_secret(settings: Settings, tmp_path: Path) -> None:
    secret_key = "never-logged-key-" + secrets.token_hex(16)
    server = DebugJsonServer(settings.model_copy(update={"secret_key": secret_key}), free_port())
    given: list[str] = [PASSWORD, secret_key]
    try:
        with trio.fail_after(90):
            await server.start("logs", tmp_path)
            api = f"{server.base}/api/v1"
            email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
            body = {"organization_name": "Acme", "name": "Ada", "email": email}
            registered = await call("POST", f"{api}/auth/register", {**body, "password": PASSWORD})
            assert registered.status == 201
            login = await call("POST", f"{api}/auth/login", {"email": email, "password": PASSWORD})
            assert login.status == 200
            refresh = login.body["refresh_token"]
            refreshed = await call("POST", f"{api}/auth/refresh", {"refresh_token": refresh})
            assert refreshed.status == 200
            token = refreshed.body["access_token"]
            for reply in (registered, login, refreshed):
                given += [reply.body["access_token"], reply.body["refresh_token"]]
            traced = await call(
                "GET", f"{api}/auth/me", token=token, headers={"X-Request-Id": "trace-me-1"}
            )
            assert traced.header("X-Request-Id") == "trace-me-1"
            wrong = {"email": email, "password": PASSWORD + "x"}
            assert (await call("POST", f"{api}/auth/login", wrong)).status == 401
            space = await call(
                "POST",
                f"{api}/spaces",
                {"name": "Shop", "allowed_domains": ["shop.example.com"]},
                token=token,
            )
            org = Org(server.base, token, registered.body["agent"], space.body)
            async with agent_socket(server.base, token, subscribe=space.body["id"]) as (agent, _):
                async with widget(org) as (visitor, welcome):
                    await visitor.say("hello")
                    await agent.expect("message")
                given.append(welcome["session"])
                async with widget(org, session=welcome["session"]) as (again, _):
                    await again.say("again")
    finally:
        server.stop()
    output = server.read_log()
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    # Every record is JSON; the only other lines are the CLI's own prints.
    others = [line for line in output.splitlines() if line and not line.startswith("{")]
    assert all(line.startswith("serving on") for line in others), others
    assert any(r["level"] == "DEBUG" for r in records)
    assert any(r.get("request_id") == "trace-me-1" for r in records)
    sessions = [r for r in records if "session ended" in r["message"]]
    assert len(sessions) == 3 and all(len(r.get("session_id", "")) == 16 for r in sessions)
    for secret in given:
        assert secret not in output, "a secret was logged"
