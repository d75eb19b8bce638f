"""The client's address: the TCP peer, or behind trusted proxies what they say the client was.

Off by default (`trusted_proxies` empty): the address is the TCP peer, and X-Forwarded-For is
never read, since any client can write it. An operator who runs the service behind reverse
proxies lists their addresses or networks in CHAT_TRUSTED_PROXIES (comma-separated, e.g.
`10.0.0.0/8,127.0.0.1`). A request whose peer is one of them is attributed to the right-most
X-Forwarded-For address that is not a trusted proxy: each proxy appends the peer it saw, so
entries to the right of the first untrusted one were written by our proxies, and entries to its
left by the client (worthless). See structures.md, "Throttling".
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Protocol

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
FORWARDED_FOR = "X-Forwarded-For"


class _Headers(Protocol):
    def getlist(self, key: str) -> list[str]: ...


class Connection(Protocol):
    """What quart's `request` and `websocket` both offer."""

    @property
    def remote_addr(self) -> str | None: ...

    @property
    def headers(self) -> _Headers: ...


def parse_trusted_proxies(spec: str) -> tuple[Network, ...]:
    """`10.0.0.0/8, 127.0.0.1` as networks; ValueError for anything else."""
    return tuple(ipaddress.ip_network(part.strip()) for part in spec.split(",") if part.strip())


_networks = lru_cache(maxsize=8)(parse_trusted_proxies)


def client_address(connection: Connection, trusted_proxies: str) -> str | None:
    """The client's IP address as text; None when there is none to tell (a Unix socket peer,
    or a trusted proxy that wrote something that is not an address).

    `trusted_proxies` is the setting as written (CHAT_TRUSTED_PROXIES); parsed once per value.
    """
    peer = connection.remote_addr
    networks = _networks(trusted_proxies)
    if not networks or not _is_trusted(peer, networks):
        return peer
    hops = [
        hop.strip()
        for value in connection.headers.getlist(FORWARDED_FOR)
        for hop in value.split(",")
    ]
    for hop in reversed(hops):
        if not _is_trusted(hop, networks):
            return hop if _is_address(hop) else None
    # Every hop is one of our proxies (or there is no header): the left-most is the client.
    return hops[0] if hops and _is_address(hops[0]) else peer


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_trusted(address: str | None, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)
