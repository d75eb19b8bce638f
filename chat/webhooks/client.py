"""One webhook request: resolve and check the destination, sign, POST, read a bounded answer.

httpx (through anyio, which runs on trio) does the HTTP: maintained, HTTP/1.1 with TLS, per-phase
timeouts. Redirects are never followed (a 3xx is a failed attempt: a redirect could point
anywhere, and a receiver's URL should be the one registered); proxies from the environment are
not used (trust_env off); at most MAX_ANSWER_BYTES of an answer are read, for the delivery log.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import trio

from chat.errors import WebhookDestinationError
from chat.webhooks.destinations import Policy, resolve
from chat.webhooks.signing import (
    EVENT_ID_HEADER,
    EVENT_KIND_HEADER,
    SIGNATURE_HEADER,
    SPACE_ID_HEADER,
    signature,
)

# Of an answer's body, what the delivery log keeps (a receiver's error text); the rest is not
# read at all, so a receiver streaming gigabytes costs nothing.
MAX_ANSWER_BYTES = 1024
USER_AGENT = "chat-webhooks/1"


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one attempt ended: `status` None when no answer came (refused, timeout, reset)."""

    ok: bool
    status: int | None
    error: str | None
    latency_ms: int


@dataclass(frozen=True, slots=True)
class Request:
    url: str
    secret: str
    space_id: str
    event_id: str
    kind: str
    body: str


@asynccontextmanager
async def open_webhook_client(max_connections: int) -> AsyncIterator[httpx.AsyncClient]:
    """The process's client (a connection pool); closed on exit."""
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=32)
    async with httpx.AsyncClient(
        follow_redirects=False, trust_env=False, limits=limits, http2=False
    ) as client:
        yield client


async def deliver(
    client: httpx.AsyncClient, request: Request, policy: Policy, timeout_seconds: float
) -> Outcome:
    """POST the event; a 2xx answer within `timeout_seconds` (resolving included) is success.
    Never raises for the receiver's faults: they are the Outcome's error."""
    started = time.monotonic()
    try:
        with trio.fail_after(timeout_seconds):
            status, answer = await _post(client, request, policy, timeout_seconds)
    except WebhookDestinationError as exc:
        return _failed(started, None, f"refused: {exc.message}")
    except trio.TooSlowError:
        return _failed(started, None, f"timeout after {timeout_seconds:g}s")
    except (httpx.HTTPError, OSError, ValueError) as exc:  # ValueError: a header httpx refused
        return _failed(started, None, f"{type(exc).__name__}: {exc}"[:300])
    latency = round((time.monotonic() - started) * 1000)
    if 200 <= status < 300:
        return Outcome(True, status, None, latency)
    return Outcome(False, status, f"HTTP {status}: {answer}"[:300], latency)


async def _post(
    client: httpx.AsyncClient, request: Request, policy: Policy, timeout_seconds: float
) -> tuple[int, str]:
    target = await resolve(request.url, policy)
    body = request.body.encode()
    headers = {
        "Host": target.host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature(request.secret, int(time.time()), body),
        EVENT_ID_HEADER: request.event_id,
        EVENT_KIND_HEADER: request.kind,
        SPACE_ID_HEADER: request.space_id,
    }
    # The TLS handshake names (and verifies) the host, while the socket goes to the address
    # that was checked.
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    async with client.stream(
        "POST",
        target.connect_url,
        content=body,
        headers=headers,
        timeout=timeout_seconds,
        extensions=extensions,
    ) as response:
        answer = b""
        async for chunk in response.aiter_raw():
            answer += chunk
            if len(answer) >= MAX_ANSWER_BYTES:
                break
        return response.status_code, answer[:MAX_ANSWER_BYTES].decode(errors="replace")


def _failed(started: float, status: int | None, error: str) -> Outcome:
    return Outcome(False, status, error, round((time.monotonic() - started) * 1000))
