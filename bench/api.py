"""The REST calls the bench makes to set up its organization, spaces and agents, and to read
/metrics. Blocking urllib in worker threads: a few dozen calls per run."""

from __future__ import annotations

import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

import orjson
import trio

BENCH_ORIGIN = "http://bench.example"
PASSWORD = "bench-password-0123"


class ApiError(Exception):
    pass


def _call(method: str, url: str, body: Any = None, token: str | None = None) -> Any:
    data = orjson.dumps(body) if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310
            raw = reply.read()
    except urllib.error.HTTPError as err:
        raise ApiError(f"{method} {url}: {err.code} {err.read()[:300]!r}") from err
    return orjson.loads(raw) if raw else None


async def call(method: str, url: str, body: Any = None, token: str | None = None) -> Any:
    return await trio.to_thread.run_sync(_call, method, url, body, token)


async def text(url: str) -> str:
    def get() -> str:
        with urllib.request.urlopen(url, timeout=10) as reply:  # noqa: S310
            return str(reply.read().decode())

    return await trio.to_thread.run_sync(get)


@dataclass(frozen=True)
class Space:
    id: str
    widget_key: str


@dataclass(frozen=True)
class Agent:
    id: str
    token: str
    space_ids: tuple[str, ...]


@dataclass(frozen=True)
class Tenant:
    """One organization made for a run: its spaces and its agents (tokens ready)."""

    admin_token: str
    spaces: list[Space]
    agents: list[Agent]  # agents_per_space per space, in space order


async def make_tenant(
    base_url: str,
    spaces: int,
    agents_per_space: int,
    *,
    messages_per_second: float = 100.0,
    burst: int = 100,
) -> Tenant:
    """An organization with `spaces` spaces whose limits let the bench send freely."""
    api = f"{base_url}/api/v1"
    tag = secrets.token_hex(4)
    admin = await call(
        "POST",
        f"{api}/auth/register",
        {
            "organization_name": f"bench {tag}",
            "name": "Bench admin",
            "email": f"admin-{tag}@bench.example",
            "password": PASSWORD,
        },
    )
    token = admin["access_token"]
    made: list[Space] = []
    for index in range(spaces):
        space = await call(
            "POST",
            f"{api}/spaces",
            {
                "name": f"bench space {index}",
                "allowed_domains": ["bench.example"],
                "settings": {
                    "visitor_messages_per_second": messages_per_second,
                    "visitor_burst": burst,
                    "max_open_threads": 1_000_000,
                },
            },
            token,
        )
        made.append(Space(space["id"], space["widget_key"]))
    agents = []
    for index in range(spaces * agents_per_space):
        email = f"agent{index}-{tag}@bench.example"
        await call(
            "POST",
            f"{api}/agents",
            {"email": email, "name": f"Agent {index}", "password": PASSWORD, "role": "agent"},
            token,
        )
        login = await call("POST", f"{api}/auth/login", {"email": email, "password": PASSWORD})
        space = made[index // agents_per_space]
        agents.append(Agent(login["agent"]["id"], login["access_token"], (space.id,)))
    return Tenant(token, made, agents)


def projector_lag(metrics: str) -> tuple[int, float]:
    """Total entries not yet in PostgreSQL, and the oldest one's age (s), from /metrics."""
    entries, seconds = 0, 0.0
    for line in metrics.splitlines():
        # `chat_projector_lag_entries 3.0`, sampled every second by the service; a version
        # before issue 18 labelled one line per space, summed here the same way.
        if line.startswith(("chat_projector_lag_entries ", "chat_projector_lag_entries{")):
            entries += int(float(line.rsplit(" ", 1)[1]))
        elif line.startswith(("chat_projector_lag_seconds ", "chat_projector_lag_seconds{")):
            seconds = max(seconds, float(line.rsplit(" ", 1)[1]))
    return entries, seconds
