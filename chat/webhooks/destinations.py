"""Where a webhook request may go (SSRF): never to a private, loopback, link-local or otherwise
non-global address unless the operator allows it (CHAT_WEBHOOK_ALLOW_PRIVATE, or the networks
of CHAT_WEBHOOK_ALLOWED_NETWORKS).

The host is resolved here and the request connects to the address that was checked (the URL
carries the address, `Host` and TLS's SNI the name: chat/webhooks/client.py), so a name that
resolves to a public address for the check and a private one for the connection (DNS
rebinding) gains nothing.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import trio

from chat.errors import WebhookDestinationError

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# A lookup that has not answered by then fails the attempt (it is retried like any failure).
RESOLVE_TIMEOUT_SECONDS = 5.0
MAX_URL_CHARS = 2048
# Names that are loopback by definition (RFC 6761), whatever a resolver answers.
_LOCAL_NAMES = ("localhost", ".localhost")


@dataclass(frozen=True, slots=True)
class Policy:
    """What the operator allows besides global addresses."""

    allow_private: bool = False
    allowed_networks: tuple[IpNetwork, ...] = ()

    @classmethod
    def of(cls, allow_private: bool, networks: str) -> Policy:
        found = tuple(ipaddress.ip_network(n.strip()) for n in networks.split(",") if n.strip())
        return cls(allow_private, found)

    def allows(self, address: IpAddress) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
        if self.allow_private or any(address in net for net in self.allowed_networks):
            return True
        return address.is_global and not address.is_multicast


@dataclass(frozen=True, slots=True)
class Target:
    """A checked URL: its parts, and the address to connect to."""

    scheme: str
    host: str
    port: int
    path: str  # with the query
    address: IpAddress

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == default else f"{name}:{self.port}"

    @property
    def connect_url(self) -> str:
        """The URL with the checked address in place of the name."""
        literal = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        return f"{self.scheme}://{literal}:{self.port}{self.path}"


@dataclass(frozen=True, slots=True)
class Parsed:
    scheme: str
    host: str
    port: int
    path: str


def parse_url(url: str) -> Parsed:
    """The URL's parts; WebhookDestinationError for one a webhook cannot have."""
    if len(url) > MAX_URL_CHARS:
        raise WebhookDestinationError(f"the URL is longer than {MAX_URL_CHARS} characters")
    # Printable ASCII only: a header cannot carry anything else (IDNA-encode an international
    # name), and control characters have smuggled requests before.
    if not url.isascii() or not url.isprintable() or " " in url:
        raise WebhookDestinationError("the URL must be printable ASCII without spaces")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise WebhookDestinationError(f"not a URL: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        raise WebhookDestinationError("the URL must be http:// or https://")
    if parts.username is not None or parts.password is not None:
        raise WebhookDestinationError("the URL must not carry a user or password")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise WebhookDestinationError("the URL has no host")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Parsed(parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path)


def check_literal(parsed: Parsed, policy: Policy) -> None:
    """Refuse what the URL alone shows is not allowed: a local name or a refused address."""
    if parsed.host.lower().endswith(_LOCAL_NAMES) or parsed.host.lower() == "localhost":
        if not policy.allow_private:
            raise WebhookDestinationError("loopback destinations are not allowed")
    literal = _literal(parsed.host)
    if literal is not None and not policy.allows(literal):
        raise WebhookDestinationError(f"the address {literal} is not a public one")


async def resolve(url: str, policy: Policy) -> Target:
    """The checked target of `url`: every address its host resolves to must be allowed (a name
    with one private address among public ones is refused: the resolver may pick either).

    WebhookDestinationError when refused or unresolvable; trio.TooSlowError past
    RESOLVE_TIMEOUT_SECONDS.
    """
    parsed = parse_url(url)
    check_literal(parsed, policy)
    literal = _literal(parsed.host)
    if literal is not None:
        addresses = [literal]
    else:
        with trio.fail_after(RESOLVE_TIMEOUT_SECONDS):
            try:
                infos = await trio.socket.getaddrinfo(
                    parsed.host, parsed.port, type=socket.SOCK_STREAM
                )
            except (OSError, UnicodeError) as exc:
                raise WebhookDestinationError(f"cannot resolve {parsed.host}: {exc}") from exc
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    refused = [a for a in addresses if not policy.allows(a)]
    if refused or not addresses:
        raise WebhookDestinationError(f"{parsed.host} resolves to a non-public address")
    return Target(parsed.scheme, parsed.host, parsed.port, parsed.path, addresses[0])


def _literal(host: str) -> IpAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


# At registration a lookup gets this long; a name that does not resolve (yet) is accepted, since
# every attempt checks again, but one that resolves to a refused address is refused at once.
REGISTRATION_RESOLVE_SECONDS = 2.0


async def check_registration(url: str, policy: Policy) -> None:
    """Refuse (WebhookDestinationError) a URL that cannot be a webhook's, or whose host is or
    resolves to an address the policy refuses."""
    parsed = parse_url(url)
    check_literal(parsed, policy)
    if _literal(parsed.host) is not None:
        return
    with trio.move_on_after(REGISTRATION_RESOLVE_SECONDS):
        try:
            infos = await trio.socket.getaddrinfo(parsed.host, parsed.port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            return
        for info in infos:
            if not policy.allows(ipaddress.ip_address(str(info[4][0]).split("%")[0])):
                raise WebhookDestinationError(f"{parsed.host} resolves to a non-public address")
