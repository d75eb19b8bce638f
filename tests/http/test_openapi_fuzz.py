"""schemathesis against the served OpenAPI document of a real `chat serve` process.

The spec is fetched from the running server, so what is fuzzed is what the service declares. The
run fails on any 5xx, on any response that its operation does not document (status, content type,
body schema), and on requests the server never answers.

The fuzzer is schemathesis's CLI in a child process: its runner is synchronous and drives its own
threads, which sits badly inside a trio test; the CLI also prints a reproducible `curl` line for
each failure.

Real objects to aim at. Generated path ids alone would only ever meet 404, so a config file binds
the path parameters to seeded objects most of the time (and lets the rest be generated). The
operations that can end the caller's own access are pinned instead:
- PATCH /agents/{agent_id} and DELETE /agents/{agent_id} only ever address agents seeded for them.
  schemathesis otherwise reuses ids seen in earlier responses, the caller's own among them: it
  deleted the calling admin and every later request was answered 401 (a PATCH could as well set
  its password, which ends its sign-ins, or demote it).
- DELETE /spaces/{space_id} addresses a space of its own, so the others keep theirs.
- POST /auth/logout ends the caller's sign-in whatever its body says, so it is fuzzed alone,
  last, with a sign-in of its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import trio

from chat.config import Settings
from tests.conftest import ServerProcess, free_port
from tests.helpers.api import create_agent
from tests.helpers.chat import ORIGIN, PASSWORD, Org, make_org, widget
from tests.helpers.http import call

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
SPEC_PATH = "/api/v1/openapi.json"
LOGOUT = "POST /api/v1/auth/logout"

CHECKS = (
    "not_a_server_error",
    "response_schema_conformance",
    # Every operation documents its error statuses (401/403/404/409/413/422/429/503 as they
    # apply), each a JSON ErrorReply: so status and content type are checked as well.
    "status_code_conformance",
    "content_type_conformance",
)
MAX_EXAMPLES = 25  # per operation, in the fuzzing phase
SEED = 20261125  # the same inputs on every run, so a failure reproduces
# How often a bound path parameter takes the seeded object rather than a generated value.
REAL_ID_PROBABILITY = 0.8
REQUEST_TIMEOUT_SECONDS = 10
MAIN_RUN_TIMEOUT_SECONDS = 240
LOGOUT_RUN_TIMEOUT_SECONDS = 90

# The fuzzer sends hundreds of requests a second from one address and one agent: throttling
# (chat/http/throttle.py) would answer most of them 429, documented but testing nothing.
RAISED_LIMITS = {
    "login_attempts_per_minute": "1000000",
    "login_attempts_per_address_per_minute": "1000000",
    "api_requests_per_minute": "1000000",
    "api_burst": "1000000",
    # The default 15 minutes would do, but a slow machine should not see the token expire.
    "access_token_ttl_seconds": "86400",
}


@dataclass
class FuzzedServer(ServerProcess):
    """A `chat serve` child with the limits above raised."""

    def env(self, node: str) -> dict[str, str]:
        raised = {f"CHAT_{name.upper()}": value for name, value in RAISED_LIMITS.items()}
        return {**super().env(node), **raised}


@dataclass
class Seeded:
    org: Org
    doomed_space_id: str  # for DELETE /spaces/{space_id}
    patched_agent_id: str  # for PATCH /agents/{agent_id}
    doomed_agent_id: str  # for DELETE /agents/{agent_id}
    thread_id: str
    group_id: str
    doomed_group_id: str  # for DELETE /groups/{group_id}
    response_id: str  # an org-wide canned response
    doomed_response_id: str  # for DELETE /canned-responses/{response_id}
    webhook_id: str
    doomed_webhook_id: str  # for DELETE /webhooks/{webhook_id}


async def _add_agent(org: Org, name: str) -> str:
    return str((await create_agent(f"{org.base}/api/v1", org.token, name))["id"])


async def _seed(base: str) -> Seeded:
    """An admin with a space, two more agents, a second space, a visitor's thread with a
    message in it, two groups and two canned responses."""
    org = await make_org(base)
    doomed = await call(
        "POST",
        f"{base}/api/v1/spaces",
        {"name": "Doomed", "allowed_domains": ["doomed.example.com"]},
        token=org.token,
    )
    assert doomed.status == 201, doomed.body
    patched = await _add_agent(org, "Bob")
    deleted = await _add_agent(org, "Carol")
    async with widget(org) as (visitor, _welcome):
        ack = await visitor.say("Hello, is anyone there?")
    group, doomed_group = await _add_group(org, "Sales"), await _add_group(org, "Doomed")
    response, doomed_response = await _add_canned(org, "hello"), await _add_canned(org, "doomed")
    webhook, doomed_webhook = await _add_webhook(org), await _add_webhook(org)
    return Seeded(
        org,
        str(doomed.body["id"]),
        patched,
        deleted,
        str(ack["thread_id"]),
        group,
        doomed_group,
        response,
        doomed_response,
        webhook,
        doomed_webhook,
    )


async def _add_webhook(org: Org) -> str:
    # A name that never resolves (.test): registration accepts it, deliveries fail and retry.
    body = {"url": "https://hooks.example.test/in", "kinds": ["message.created"]}
    created = await call("POST", f"{org.base}/api/v1/webhooks", body, token=org.token)
    assert created.status == 201, created.body
    return str(created.body["id"])


async def _add_canned(org: Org, shortcut: str) -> str:
    body = {"scope": "organization", "shortcut": shortcut, "title": "T", "content": "Hi"}
    created = await call("POST", f"{org.base}/api/v1/canned-responses", body, token=org.token)
    assert created.status == 201, created.body
    return str(created.body["id"])


async def _add_group(org: Org, name: str) -> str:
    created = await call("POST", f"{org.base}/api/v1/groups", {"name": name}, token=org.token)
    assert created.status == 201, created.body
    return str(created.body["id"])


def _config(seeded: Seeded) -> str:
    """schemathesis.toml: path parameters bound to seeded objects (JSON strings are valid TOML
    basic strings)."""
    q = json.dumps
    bound = {
        "space_id": seeded.org.space["id"],
        "thread_id": seeded.thread_id,
        "widget_key": seeded.org.space["widget_key"],
        "group_id": seeded.group_id,
        "response_id": seeded.response_id,
        "webhook_id": seeded.webhook_id,
    }
    pinned = {
        "DELETE /api/v1/spaces/{space_id}": ("space_id", seeded.doomed_space_id),
        "PATCH /api/v1/agents/{agent_id}": ("agent_id", seeded.patched_agent_id),
        "DELETE /api/v1/agents/{agent_id}": ("agent_id", seeded.doomed_agent_id),
        "DELETE /api/v1/groups/{group_id}": ("group_id", seeded.doomed_group_id),
        "DELETE /api/v1/canned-responses/{response_id}": (
            "response_id",
            seeded.doomed_response_id,
        ),
        "DELETE /api/v1/webhooks/{webhook_id}": ("webhook_id", seeded.doomed_webhook_id),
    }
    lines = ["[dictionaries]"]
    lines += [f"{name} = {{ values = [{q(value)}] }}" for name, value in bound.items()]
    lines += [f"agent_id = {{ values = [{q(seeded.patched_agent_id)}] }}"]
    lines += ["", "[parameters]"]
    lines += [
        f'"path.{name}" = {{ dictionary = {q(name)}, probability = {REAL_ID_PROBABILITY} }}'
        for name in bound
    ]
    # The one body naming an agent: POST /threads/{thread_id}/transfer.
    lines += [
        f'"body.agent_id" = {{ dictionary = "agent_id", probability = {REAL_ID_PROBABILITY} }}'
    ]
    for operation, (name, value) in pinned.items():
        lines += ["", "[[operations]]", f"include-name = {q(operation)}"]
        lines += [f'parameters = {{ "path.{name}" = {q(value)} }}']
    return "\n".join(lines) + "\n"


async def _sign_in(base: str, email: str) -> str:
    reply = await call("POST", f"{base}/api/v1/auth/login", {"email": email, "password": PASSWORD})
    assert reply.status == 200, reply.body
    return str(reply.body["access_token"])


async def _schemathesis(
    server: ServerProcess, token: str, workdir: Path, timeout: float, *selection: str
) -> None:
    """One schemathesis run; fails the test with its report (and the server's log) unless it
    found nothing."""
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(workdir / "schemathesis.toml"),
        "--no-color",
        "run",
        f"{server.base}{SPEC_PATH}",
        "--header",
        f"Authorization: Bearer {token}",
        # GET /widget/{widget_key}/config answers only an allowed Origin, as browsers send it.
        "--header",
        f"Origin: {ORIGIN}",
        "--checks",
        ",".join(CHECKS),
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        # One worker: hypothesis describes strategies with ast.parse, which is not thread-safe
        # on CPython 3.11 ("AST constructor recursion depth mismatch" errors with two).
        "--workers",
        "1",
        "--request-timeout",
        str(REQUEST_TIMEOUT_SECONDS),
        # Examples found in one run are not replayed in the next: each run is the same.
        "--generation-database",
        "none",
        # Throwaway accounts: full request bodies make a failure easier to reproduce.
        "--output-sanitize",
        "false",
        *selection,
    ]
    with trio.fail_after(timeout):
        done = await trio.run_process(
            command, cwd=workdir, capture_stdout=True, stderr=subprocess.STDOUT, check=False
        )
    report = done.stdout.decode(errors="replace")
    assert done.returncode == 0, (
        f"schemathesis exited {done.returncode}:\n{report}\n"
        f"--- server log (tail) ---\n{server.read_log()[-4000:]}"
    )


async def test_openapi_fuzz(
    settings: Settings, server_processes: list[ServerProcess], tmp_path: Path
) -> None:
    missing = RAISED_LIMITS.keys() - Settings.model_fields.keys()
    assert not missing, f"Settings has no {missing}: rename them in RAISED_LIMITS"
    assert SCHEMATHESIS.exists(), f"{SCHEMATHESIS}: install the dev extras (schemathesis)"
    server = FuzzedServer(settings, free_port())
    server_processes.append(server)
    with trio.fail_after(60):
        await server.start("fuzz", tmp_path)
        seeded = await _seed(server.base)
    (tmp_path / "schemathesis.toml").write_text(_config(seeded))
    await _schemathesis(
        server, seeded.org.token, tmp_path, MAIN_RUN_TIMEOUT_SECONDS, "--exclude-name", LOGOUT
    )
    with trio.fail_after(30):
        token = await _sign_in(server.base, seeded.org.agent["email"])
    await _schemathesis(
        server, token, tmp_path, LOGOUT_RUN_TIMEOUT_SECONDS, "--include-name", LOGOUT
    )
