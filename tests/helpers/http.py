"""A tiny JSON-over-HTTP client (stdlib, on a worker thread)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

import trio


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]

    def header(self, name: str) -> str | None:
        """A response header by name, whatever its case; None if absent."""
        return {k.lower(): v for k, v in self.headers.items()}.get(name.lower())


def _call(method: str, url: str, body: Any, headers: dict[str, str]) -> Reply:
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": "application/json", **headers}
    req = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:  # noqa: S310
            raw = resp.read()
            status, hdrs = resp.status, dict(resp.headers)
    except urllib.error.HTTPError as err:
        raw, status, hdrs = err.read(), err.code, dict(err.headers)
        err.close()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode(errors="replace")
    return Reply(status, parsed, hdrs)


async def call(
    method: str,
    url: str,
    body: Any = None,
    *,
    token: str | None = None,
    origin: str | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """`headers` are sent as given, over those `token` and `origin` make (e.g. an Authorization
    header that is not a bearer token)."""
    sent: dict[str, str] = {}
    if token:
        sent["Authorization"] = f"Bearer {token}"
    if origin:
        sent["Origin"] = origin
    sent.update(headers or {})
    return await trio.to_thread.run_sync(_call, method, url, body, sent)
