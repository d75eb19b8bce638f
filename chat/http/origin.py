"""The contract's Origin rule for the widget: exact host[:port] or `*.` subdomain wildcards."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import urlsplit

import idna


# Both are pure functions of a string, asked at every widget handshake with the same few hosts
# and allowed_domains entries: the IDNA encoding was ~4% of a connect's CPU (issue 19). Bounded,
# so headers made up to churn it cost only misses.
@lru_cache(maxsize=4096)
def normalise_host(host: str) -> str | None:
    """Lower-case IDNA (punycode) form of a host, or None when it is not a valid host name."""
    host = host.strip().rstrip(".").lower()
    if not host:
        return None
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError:
        return None


@lru_cache(maxsize=4096)
def normalise_entry(entry: str) -> str | None:
    """An allowed_domains entry in canonical form: `host`, `host:port` or `*.host`."""
    entry = entry.strip().lower()
    wildcard = entry.startswith("*.")
    if wildcard:
        entry = entry[2:]
    host, sep, port = entry.partition(":")
    if sep and not (port.isdigit() and 0 < int(port) < 65536):
        return None
    if "*" in host or "/" in host or "@" in host:
        return None
    name = normalise_host(host)
    if name is None:
        return None
    canonical = f"{name}:{int(port)}" if sep else name
    return ("*." + canonical) if wildcard else canonical


def origin_allowed(origin: str | None, allowed_domains: Iterable[str]) -> bool:
    """True when a browser Origin header matches one of the entries."""
    if not origin or origin == "null":
        return False
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    if parts.username is not None or parts.password is not None or parts.path not in ("", "/"):
        return False
    if parts.query or parts.fragment:
        return False
    host = normalise_host(parts.hostname)
    if host is None:
        return False
    with_port = f"{host}:{port}" if port is not None else host
    for raw in allowed_domains:
        entry = normalise_entry(raw)
        if entry is None:
            continue
        if entry.startswith("*."):
            suffix = entry[1:]  # ".example.com" or ".example.com:8080"
            if with_port.endswith(suffix) and len(with_port) > len(suffix):
                return True
        elif entry == with_port:
            return True
    return False
